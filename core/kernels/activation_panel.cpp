// activation_panel.cpp
#include "kernels/activation_panel.h"

#include "kernels/simd_path.h"

#include <immintrin.h>

#include <cstddef>

namespace ss {

namespace {

__attribute__((target("avx2,fma"))) inline void transpose8(__m256* r) {
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0)), u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0)), u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0)), u5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0)), u7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

__attribute__((target("avx2,fma"))) void pack_avx2(const float* x, int in, int r0, int m, int k0, int k1, float* panel) {
    const int r8 = m / 8 * 8, j8 = k0 + (k1 - k0) / 8 * 8;
    for (int r = 0; r < r8; r += 8)
        for (int j = k0; j < j8; j += 8) {
            __m256 t[8];
            for (int i = 0; i < 8; ++i) t[i] = _mm256_loadu_ps(x + size_t(r0 + r + i) * in + j);
            transpose8(t);
            for (int i = 0; i < 8; ++i) _mm256_storeu_ps(panel + size_t(j - k0 + i) * kPanel + r, t[i]);
        }
    for (int r = 0; r < m; ++r) // what the tiles left: columns past j8, rows past r8
        for (int j = (r < r8 ? j8 : k0); j < k1; ++j) panel[size_t(j - k0) * kPanel + r] = x[size_t(r0 + r) * in + j];
}

__attribute__((target("avx2,fma"))) void store_avx2(const float* acc, const float* bias, int out, int r0, int m, float* y) {
    const int r8 = m / 8 * 8, o8 = out / 8 * 8;
    // Eight output rows at a time, each written front to back: with the rows outermost only eight
    // write streams are open. (Columns outermost opened all 32 at once; at out = 1024 they lie 4 KiB
    // apart, in one L1 set, and evicted each other: this store was a quarter of a 95 %-sparse CSR
    // product's time.)
    for (int r = 0; r < r8; r += 8)
        for (int o = 0; o < o8; o += 8) {
            const __m256 b = bias ? _mm256_loadu_ps(bias + o) : _mm256_setzero_ps();
            __m256 t[8];
            for (int i = 0; i < 8; ++i) t[i] = _mm256_loadu_ps(acc + size_t(o + i) * kPanel + r);
            transpose8(t);
            for (int i = 0; i < 8; ++i) _mm256_storeu_ps(y + size_t(r0 + r + i) * out + o, _mm256_add_ps(t[i], b));
        }
    for (int r = 0; r < m; ++r)
        for (int o = (r < r8 ? o8 : 0); o < out; ++o) y[size_t(r0 + r) * out + o] = acc[size_t(o) * kPanel + r] + (bias ? bias[o] : 0.0f);
}

} // namespace

void pack_panel(const float* x, int in, int r0, int m, int k0, int k1, float* panel) {
    if (simd_avx2()) {
        pack_avx2(x, in, r0, m, k0, k1, panel);
    } else {
        for (int r = 0; r < m; ++r)
            for (int j = k0; j < k1; ++j) panel[size_t(j - k0) * kPanel + r] = x[size_t(r0 + r) * in + j];
    }
    for (int j = k0; j < k1 && m < kPanel; ++j)
        for (int r = m; r < kPanel; ++r) panel[size_t(j - k0) * kPanel + r] = 0.0f;
}

void store_panel(const float* acc, const float* bias, int out, int r0, int m, float* y) {
    if (simd_avx2()) return store_avx2(acc, bias, out, r0, m, y);
    for (int r = 0; r < m; ++r)
        for (int o = 0; o < out; ++o) y[size_t(r0 + r) * out + o] = acc[size_t(o) * kPanel + r] + (bias ? bias[o] : 0.0f);
}

} // namespace ss
