// bf16_matmul.h - y = x W^T + b for a matrix kept as BF16 (a deferred weight, model/weight_data.h):
// at batch 1 on AVX2 (any path but SPARSESCOPE_ISA=portable), one pass of fused widen-and-FMA
// dot products over the BF16 rows; otherwise rows converted to fp32 a tile at a time into a
// per-thread buffer, each tile multiplied by OpenBLAS (sgemv at n == 1, sgemm above). The fp32
// values are exactly the BF16 values, so the products equal sgemv / sgemm on the converted matrix
// up to the order of summation.
// Memory: the matrix's BF16 bytes plus one tile per thread, never the matrix in fp32.
#pragma once

#include <cstdint>

namespace ss {

inline constexpr int kBf16TileRows = 64; // rows converted per tile: 64 x 4096 fp32 = 1 MiB at most for common widths

// w: (out, in) BF16 bits, row-major; bias: (out) or nullptr; x: (n, in); y: (n, out), not aliasing x.
void bf16_matmul(const uint16_t* w, int out, int in, const float* bias, const float* x, int n, float* y);

} // namespace ss
