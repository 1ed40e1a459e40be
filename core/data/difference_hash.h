// difference_hash.h - dHash, the 64-bit perceptual "difference hash" of an image (Krawetz, "Kind of
// Like That", 2013; the `imagehash` package's dhash): the image is averaged down to a grid of 9
// columns by 8 rows, and bit (8 r + c) is set when cell (r, c + 1) is brighter than cell (r, c).
// Two images whose hashes differ in few bits look alike at thumbnail scale, whatever their exact
// pixels; near-duplicate search compares hashes before it compares pixels (duplicates.h).
#pragma once

#include <cstdint>

namespace ss {

// `pixels` (height, width) row-major, any value range. Each grid cell is the area-weighted mean of
// the pixels it covers (fractional pixels counted by the fraction covered: 28 columns make 9 cells
// of 3 1/9 pixels). Needs height >= 1, width >= 1.
uint64_t difference_hash(const float* pixels, int height, int width);

// Bits in which two hashes differ (0..64).
inline int hamming_distance(uint64_t a, uint64_t b) { return __builtin_popcountll(a ^ b); }

// The (8, 9) grid difference_hash compares, row-major; for tests and for showing a hash.
void difference_hash_grid(const float* pixels, int height, int width, double grid[8 * 9]);

} // namespace ss
