// prune_magnitude.h - magnitude pruning: one threshold over a set of matrices.
#pragma once

#include "model.h"

#include <cstdint>
#include <vector>

namespace ss {

// Zeroes exactly round(sparsity * T) of the T weights of `matrices`: those with the smallest |w|
// under one threshold shared by all of them. Ties at the threshold go in matrix order, so the
// count is exact. sparsity in [0, 1]. Returns the number of weights that are now zero by it.
int64_t prune_magnitude(const std::vector<LinearWeights*>& matrices, double sparsity);

// Global magnitude pruning of every compressible matrix (linear layers and expert fc weights;
// router gates and biases are never pruned).
int64_t prune_magnitude_global(Model& model, double sparsity);

} // namespace ss
