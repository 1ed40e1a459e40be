// small_batch_matmul.h - y = x W^T + b for fp32 W at small batches (2 .. kSmallGemmMax rows),
// without packing.
//
// OpenBLAS's sgemm copies W into its panel layout on every call; at a few rows that copy costs
// about as much as the multiply itself (a MoE expert at batch 32 gets ~8 rows: the demo's MoE
// layer ran only x2.3 faster than all experts dense, against the x4 its work allows). Here W is
// read once, from where it lies, per chunk of up to 8 activation rows held in L1: AVX-512 takes
// two weight rows at a time against every activation row (2 x rows accumulators of 16 lanes),
// AVX2 one weight row (rows accumulators of 8 lanes), then each accumulator's lanes are summed.
// Output rows are split over the threads. The sums run in another order than sgemm's, so results
// differ from it by rounding (test_kernels bounds every path against the double-sum reference).
#pragma once

namespace ss {

inline constexpr int kSmallGemmMax = 16; // batches up to this many rows (chunks of 8)

// w: (out, in) row-major; bias: (out) or nullptr; x: (n, in); y: (n, out), not aliasing x.
// Any n >= 1 works; the portable path (SPARSESCOPE_ISA=portable) is plain loops.
void small_batch_matmul(const float* w, int out, int in, const float* bias, const float* x, int n, float* y);

} // namespace ss
