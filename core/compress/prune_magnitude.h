// prune_magnitude.h - magnitude pruning: one threshold over a set of matrices.
#pragma once

#include "model/model.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace ss {

// Zeroes exactly round(sparsity * T) of the T weights of `matrices`: those with the smallest |w|
// under one threshold shared by all of them. Ties at the threshold go in matrix order, so the
// count is exact. sparsity in [0, 1]. Returns the number of weights that are now zero by it.
// `pruned`, when given, is called with each matrix as soon as it is done (compression compacts it
// there, so the pruned fp32 copies are never all held at once). Matrices are only read before
// they are pruned, a pass at a time, and their file pages handed back after each pass.
using PrunedFn = std::function<void(LinearWeights&)>;
int64_t prune_magnitude(const std::vector<LinearWeights*>& matrices, double sparsity, const PrunedFn& pruned = {});

// The same in 4x1 blocks (four consecutive output rows at one input column; the last block of a
// matrix with out % 4 != 0 has fewer rows): blocks are ranked by their mean |w| under one shared
// threshold, and exactly round(sparsity * B) of the B blocks are zeroed (ties in matrix order),
// so the kernels' block-sparse format stores only survivors. Returns the weights zeroed.
int64_t prune_magnitude_blocks(const std::vector<LinearWeights*>& matrices, double sparsity, const PrunedFn& pruned = {});

// Global magnitude pruning of every compressible matrix (linear layers and expert fc weights;
// router gates and biases are never pruned).
int64_t prune_magnitude_global(Model& model, double sparsity);

} // namespace ss
