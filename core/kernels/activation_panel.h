// activation_panel.h - the activation panels of the sparse panel kernels (sparse_csr, sparse_bsr).
//
// A panel holds kPanel (32) rows of the activations x (n, in) transposed, for one K block of
// columns: panel[j - k0][r] = x[r0 + r][j], rows past the batch zero. The kernels accumulate into
// acc (out, kPanel), which store_panel transposes back into y (n, out). Both transposes go through
// 8 x 8 AVX2 tiles where they fit (plain copies: the same values either way).
#pragma once

#include "kernels/thread_pool.h"

#include <algorithm>
#include <vector>

namespace ss {

inline constexpr int kPanel = 32;

// x rows [r0, r0 + m) (m <= kPanel), columns [k0, k1) -> panel (k1 - k0, kPanel).
void pack_panel(const float* x, int in, int r0, int m, int k0, int k1, float* panel);
// y[r0 + r][o] = acc[o][r] + bias[o] (bias may be null), r < m, o < out.
void store_panel(const float* acc, const float* bias, int out, int r0, int m, float* y);

// y (n, out) = x (n, in) W^T + bias, panel by panel (panels split over the threads): for each K
// block b of `kblock` columns the panel is packed and block(b, panel, acc) adds that block's
// products into acc (acc_rows >= out, kPanel), which is then stored. `work`: the multiply-adds of
// the whole product (thread_pool.h).
template <class Block>
void panel_matmul(const float* x, int n, int in, int out, int acc_rows, int kblock, const float* bias, float* y, double work, Block block) {
    parallel_for(n, kPanel, [&](int64_t p0, int64_t p1) {
        thread_local std::vector<float> panel, acc;
        panel.resize(size_t(kblock) * kPanel);
        acc.resize(size_t(acc_rows) * kPanel);
        for (int r0 = int(p0); r0 < int(p1); r0 += kPanel) {
            const int m = std::min(kPanel, n - r0);
            std::fill(acc.begin(), acc.end(), 0.0f);
            for (int b = 0, k0 = 0; k0 < in; ++b, k0 += kblock) {
                pack_panel(x, in, r0, m, k0, std::min(in, k0 + kblock), panel.data());
                block(b, panel.data(), acc.data());
            }
            store_panel(acc.data(), bias, out, r0, m, y);
        }
    }, work);
}

} // namespace ss
