// prune_wanda.h - Wanda: pruning by weights and activations (Sun et al., 2023,
// "A Simple and Effective Pruning Approach for Large Language Models").
#pragma once

#include "model/model.h"

#include <vector>

namespace ss {

// Score S_ij = |W_ij| * ||X_j||_2 over the calibration rows X that reached the matrix
// (input_sumsq[j] = sum of X_j^2). In every output row, the round(sparsity * in) weights with the
// lowest score are zeroed (ties: lower index first). sparsity in [0, 1).
void prune_wanda(LinearWeights& l, const std::vector<double>& input_sumsq, double sparsity);

} // namespace ss
