// activation_panel.h - the activation panels of the sparse panel kernels (sparse_csr, sparse_bsr).
//
// A panel holds kPanel (32) rows of the activations x (n, in) transposed, for one K block of
// columns: panel[j - k0][r] = x[r0 + r][j], rows past the batch zero. The kernels accumulate into
// acc (out, kPanel), which store_panel transposes back into y (n, out). Both transposes go through
// 8 x 8 AVX2 tiles where they fit (plain copies: the same values either way).
#pragma once

namespace ss {

inline constexpr int kPanel = 32;

// x rows [r0, r0 + m) (m <= kPanel), columns [k0, k1) -> panel (k1 - k0, kPanel).
void pack_panel(const float* x, int in, int r0, int m, int k0, int k1, float* panel);
// y[r0 + r][o] = acc[o][r] + bias[o] (bias may be null), r < m, o < out.
void store_panel(const float* acc, const float* bias, int out, int r0, int m, float* y);

} // namespace ss
