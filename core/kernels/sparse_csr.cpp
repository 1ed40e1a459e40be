// sparse_csr.cpp
#include "kernels/sparse_csr.h"

#include "kernels/activation_panel.h"
#include "kernels/simd_path.h"
#include "kernels/thread_pool.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ss {

namespace {

// Per output row and K block, the nonzeros are spread over partial sums, so consecutive fused
// multiply-adds do not wait for each other. AVX-512 and portable: four sums of 32 lanes (nonzero t
// of the row's range goes to sum t % 4; sum 0 starts from the accumulator), then
// acc = (s0 + s1) + (s2 + s3): the two give the same bits. AVX2 has 16 registers, not 32: it keeps
// two sums of four 8-lane registers (t % 2; acc = s0 + s1) and walks each row once. Its results
// differ from the others' by rounding only (test_kernels bounds all three against a double-sum
// reference): holding it to the same bits took two passes over every row, ~30 % slower.
__attribute__((target("avx2,fma"))) void block_avx2(const CsrMatrix& w, int b, const float* panel, float* acc) {
    static_assert(kPanel == 32, "four 8-lane registers per panel row");
    const uint32_t* rp = &w.row_ptr[size_t(b) * (w.out + 1)];
    const uint16_t* col = w.col.data();
    const float* val = w.val.data();
    for (int o = 0; o < w.out; ++o) {
        float* a = acc + size_t(o) * kPanel;
        __m256 s0 = _mm256_loadu_ps(a), s1 = _mm256_loadu_ps(a + 8), s2 = _mm256_loadu_ps(a + 16), s3 = _mm256_loadu_ps(a + 24);
        __m256 t0 = _mm256_setzero_ps(), t1 = t0, t2 = t0, t3 = t0;
        uint32_t k = rp[o];
        const uint32_t end = rp[o + 1];
// One nonzero kk into the partial sum (x0 .. x3); a macro, since lambdas do not inherit the target.
#define SS_CSR_STEP(kk, x0, x1, x2, x3)                                              \
    do {                                                                             \
        const float* p = panel + size_t(col[kk]) * kPanel;                           \
        const __m256 v = _mm256_broadcast_ss(val + (kk));                            \
        x0 = _mm256_fmadd_ps(v, _mm256_loadu_ps(p), x0);                             \
        x1 = _mm256_fmadd_ps(v, _mm256_loadu_ps(p + 8), x1);                         \
        x2 = _mm256_fmadd_ps(v, _mm256_loadu_ps(p + 16), x2);                        \
        x3 = _mm256_fmadd_ps(v, _mm256_loadu_ps(p + 24), x3);                        \
    } while (0)
        for (; k + 2 <= end; k += 2) {
            SS_CSR_STEP(k, s0, s1, s2, s3);
            SS_CSR_STEP(k + 1, t0, t1, t2, t3);
        }
        if (k < end) SS_CSR_STEP(k, s0, s1, s2, s3);
        _mm256_storeu_ps(a, _mm256_add_ps(s0, t0));
        _mm256_storeu_ps(a + 8, _mm256_add_ps(s1, t1));
        _mm256_storeu_ps(a + 16, _mm256_add_ps(s2, t2));
        _mm256_storeu_ps(a + 24, _mm256_add_ps(s3, t3));
    }
}
#undef SS_CSR_STEP

__attribute__((target("avx512f,avx2,fma"))) void block_avx512(const CsrMatrix& w, int b, const float* panel, float* acc) {
    const uint32_t* rp = &w.row_ptr[size_t(b) * (w.out + 1)];
    for (int o = 0; o < w.out; ++o) {
        float* a = acc + size_t(o) * kPanel;
        __m512 s00 = _mm512_loadu_ps(a), s01 = _mm512_loadu_ps(a + 16);
        __m512 s10 = _mm512_setzero_ps(), s11 = s10, s20 = s10, s21 = s10, s30 = s10, s31 = s10;
        uint32_t k = rp[o];
        const uint32_t end = rp[o + 1];
#define SS_CSR_STEP(kk, x0, x1)                                                      \
    do {                                                                             \
        const float* p = panel + size_t(w.col[kk]) * kPanel;                         \
        const __m512 v = _mm512_set1_ps(w.val[kk]);                                  \
        x0 = _mm512_fmadd_ps(v, _mm512_loadu_ps(p), x0);                             \
        x1 = _mm512_fmadd_ps(v, _mm512_loadu_ps(p + 16), x1);                        \
    } while (0)
        for (; k + 4 <= end; k += 4) {
            SS_CSR_STEP(k, s00, s01);
            SS_CSR_STEP(k + 1, s10, s11);
            SS_CSR_STEP(k + 2, s20, s21);
            SS_CSR_STEP(k + 3, s30, s31);
        }
        if (k < end) { SS_CSR_STEP(k, s00, s01); ++k; }
        if (k < end) { SS_CSR_STEP(k, s10, s11); ++k; }
        if (k < end) { SS_CSR_STEP(k, s20, s21); ++k; }
        _mm512_storeu_ps(a, _mm512_add_ps(_mm512_add_ps(s00, s10), _mm512_add_ps(s20, s30)));
        _mm512_storeu_ps(a + 16, _mm512_add_ps(_mm512_add_ps(s01, s11), _mm512_add_ps(s21, s31)));
    }
}
#undef SS_CSR_STEP

void block_portable(const CsrMatrix& w, int b, const float* panel, float* acc) {
    const uint32_t* rp = &w.row_ptr[size_t(b) * (w.out + 1)];
    float sums[4][kPanel];
    for (int o = 0; o < w.out; ++o) {
        float* a = acc + size_t(o) * kPanel;
        for (int r = 0; r < kPanel; ++r) {
            sums[0][r] = a[r];
            sums[1][r] = sums[2][r] = sums[3][r] = 0.0f;
        }
        for (uint32_t k = rp[o], t = 0; k < rp[o + 1]; ++k, ++t) {
            const float* p = panel + size_t(w.col[k]) * kPanel;
            const float v = w.val[k];
            for (int r = 0; r < kPanel; ++r) sums[t % 4][r] = std::fma(v, p[r], sums[t % 4][r]);
        }
        for (int r = 0; r < kPanel; ++r) a[r] = (sums[0][r] + sums[1][r]) + (sums[2][r] + sums[3][r]);
    }
}

// Few rows: a panel would be mostly padding. Per row and output, the nonzeros of each block are
// spread over 8 accumulators (nonzero t of a row's block range goes to lane t % 8), then summed in
// one fixed order. Scalar loads: on AMD Zen 3 and 4 an 8-lane gather (vpgatherdd / vgatherdps)
// costs more than eight scalar loads, and the products are the same either way. The AVX2 and
// AVX-512 paths compile this body with FMA, the portable one calls std::fma: the same bits.
float reduce_lanes(const float* a) { return ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7])); }

inline __attribute__((always_inline)) float matvec_row_body(const CsrMatrix& w, const float* xr, int o) {
    float l0 = 0, l1 = 0, l2 = 0, l3 = 0, l4 = 0, l5 = 0, l6 = 0, l7 = 0;
    const uint16_t* col = w.col.data();
    const float* val = w.val.data();
    for (int b = 0; b < w.blocks(); ++b) {
        const uint32_t* rp = &w.row_ptr[size_t(b) * (w.out + 1)];
        const float* xb = xr + size_t(b) * CsrMatrix::kKBlock;
        uint32_t k = rp[o];
        const uint32_t end = rp[o + 1];
        for (; k + 8 <= end; k += 8) {
            l0 = std::fma(val[k], xb[col[k]], l0);
            l1 = std::fma(val[k + 1], xb[col[k + 1]], l1);
            l2 = std::fma(val[k + 2], xb[col[k + 2]], l2);
            l3 = std::fma(val[k + 3], xb[col[k + 3]], l3);
            l4 = std::fma(val[k + 4], xb[col[k + 4]], l4);
            l5 = std::fma(val[k + 5], xb[col[k + 5]], l5);
            l6 = std::fma(val[k + 6], xb[col[k + 6]], l6);
            l7 = std::fma(val[k + 7], xb[col[k + 7]], l7);
        }
        const uint32_t left = end - k; // 0 .. 7, into lanes 0 .. left - 1
        if (left > 0) l0 = std::fma(val[k], xb[col[k]], l0);
        if (left > 1) l1 = std::fma(val[k + 1], xb[col[k + 1]], l1);
        if (left > 2) l2 = std::fma(val[k + 2], xb[col[k + 2]], l2);
        if (left > 3) l3 = std::fma(val[k + 3], xb[col[k + 3]], l3);
        if (left > 4) l4 = std::fma(val[k + 4], xb[col[k + 4]], l4);
        if (left > 5) l5 = std::fma(val[k + 5], xb[col[k + 5]], l5);
        if (left > 6) l6 = std::fma(val[k + 6], xb[col[k + 6]], l6);
    }
    const float a[8] = {l0, l1, l2, l3, l4, l5, l6, l7};
    return reduce_lanes(a);
}

__attribute__((target("avx2,fma"))) float matvec_row_fma(const CsrMatrix& w, const float* xr, int o) { return matvec_row_body(w, xr, o); }
float matvec_row_portable(const CsrMatrix& w, const float* xr, int o) { return matvec_row_body(w, xr, o); }

template <bool Avx2>
void matvec_rows(const CsrMatrix& w, const float* bias, const float* x, int n, float* y) {
    parallel_for(w.out, 32, [&](int64_t o0, int64_t o1) { // output rows split over the threads
        for (int r = 0; r < n; ++r) {
            const float* xr = x + size_t(r) * w.in;
            float* yr = y + size_t(r) * w.out;
            for (int64_t o = o0; o < o1; ++o)
                yr[o] = (Avx2 ? matvec_row_fma(w, xr, int(o)) : matvec_row_portable(w, xr, int(o))) + (bias ? bias[o] : 0.0f);
        }
    }, double(n) * double(w.nnz()));
}

template <bool Avx2>
void matmul(const CsrMatrix& w, const float* bias, const float* x, int n, float* y) {
    if (n <= 2) return matvec_rows<Avx2>(w, bias, x, n, y); // == kCsrMaxRowBatch (kernel_plan.h)
    panel_matmul(x, n, w.in, w.out, w.out, CsrMatrix::kKBlock, bias, y, double(n) * double(w.nnz()), [&](int b, const float* panel, float* acc) {
        if constexpr (Avx2) simd_avx512() ? block_avx512(w, b, panel, acc) : block_avx2(w, b, panel, acc);
        else block_portable(w, b, panel, acc);
    });
}

} // namespace

CsrMatrix csr_from_dense(const float* w, int out, int in) {
    CsrMatrix c;
    c.out = out;
    c.in = in;
    const int blocks = c.blocks();
    c.row_ptr.reserve(size_t(blocks) * (out + 1));
    for (int b = 0; b < blocks; ++b) {
        const int k0 = b * CsrMatrix::kKBlock, k1 = std::min(in, k0 + CsrMatrix::kKBlock);
        c.row_ptr.push_back(uint32_t(c.val.size()));
        for (int o = 0; o < out; ++o) {
            for (int j = k0; j < k1; ++j) {
                const float v = w[size_t(o) * in + j];
                if (v != 0.0f) {
                    c.col.push_back(uint16_t(j - k0));
                    c.val.push_back(v);
                }
            }
            c.row_ptr.push_back(uint32_t(c.val.size()));
        }
    }
    return c;
}

std::vector<float> csr_to_dense(const CsrMatrix& c) {
    std::vector<float> w(size_t(c.out) * c.in, 0.0f);
    for (int b = 0; b < c.blocks(); ++b) {
        const uint32_t* rp = &c.row_ptr[size_t(b) * (c.out + 1)];
        for (int o = 0; o < c.out; ++o)
            for (uint32_t k = rp[o]; k < rp[o + 1]; ++k) w[size_t(o) * c.in + size_t(b) * CsrMatrix::kKBlock + c.col[k]] = c.val[k];
    }
    return w;
}

void csr_matmul(const CsrMatrix& w, const float* bias, const float* x, int n, float* y) {
    if (simd_avx2()) matmul<true>(w, bias, x, n, y);
    else matmul<false>(w, bias, x, n, y);
}

} // namespace ss
