// prune_nm.h - N:M semi-structured pruning (e.g. 2:4, 4:8).
#pragma once

#include "model/model.h"

namespace ss {

// In every row, each block of m consecutive weights along the input dimension keeps its n
// largest |w| (ties: the lower index is kept) and zeroes the rest. A last block shorter than m
// (when m does not divide the input dimension) of length r keeps min(n, r).
void prune_nm(LinearWeights& l, int n, int m);

} // namespace ss
