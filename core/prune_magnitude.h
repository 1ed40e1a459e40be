// prune_magnitude.h - global magnitude pruning.
#pragma once

#include "model.h"

#include <cstdint>

namespace ss {

// Zeroes exactly round(sparsity * T) of the T compressible weights (linear and expert fc weights;
// router gates and biases are never pruned): those with the smallest |w| under one threshold
// shared by all matrices. Ties at the threshold are broken in layer order, so the count is exact.
// sparsity in [0, 1]. Returns the number of weights zeroed by this call or already zero among them.
int64_t prune_magnitude_global(Model& model, double sparsity);

} // namespace ss
