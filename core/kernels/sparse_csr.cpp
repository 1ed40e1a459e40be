// sparse_csr.cpp
#include "kernels/sparse_csr.h"

#include "kernels/activation_panel.h"
#include "kernels/thread_pool.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ss {

namespace {

// Per output row and K block the nonzeros are spread over four partial sums (nonzero t of the
// row's range goes to sum t % 4; sum 0 starts from the accumulator), so consecutive fused
// multiply-adds do not wait for each other; then acc = (s0 + s1) + (s2 + s3). Every path does
// exactly this per lane, so AVX2, AVX-512 and portable give the same bits.
__attribute__((target("avx2,fma"))) void block_avx2(const CsrMatrix& w, int b, const float* panel, float* acc) {
    const uint32_t* rp = &w.row_ptr[size_t(b) * (w.out + 1)];
    for (int o = 0; o < w.out; ++o)
        for (int h = 0; h < 2; ++h) { // lanes 16h .. 16h + 15
            float* a = acc + size_t(o) * kPanel + 16 * h;
            __m256 s00 = _mm256_loadu_ps(a), s01 = _mm256_loadu_ps(a + 8);
            __m256 s10 = _mm256_setzero_ps(), s11 = s10, s20 = s10, s21 = s10, s30 = s10, s31 = s10;
            uint32_t k = rp[o];
            const uint32_t end = rp[o + 1];
// One nonzero kk into partial sum (x0, x1); a macro, since lambdas do not inherit the target.
#define SS_CSR_STEP(kk, x0, x1)                                                      \
    do {                                                                             \
        const float* p = panel + size_t(w.col[kk]) * kPanel + 16 * h;                \
        const __m256 v = _mm256_broadcast_ss(&w.val[kk]);                            \
        x0 = _mm256_fmadd_ps(v, _mm256_loadu_ps(p), x0);                             \
        x1 = _mm256_fmadd_ps(v, _mm256_loadu_ps(p + 8), x1);                         \
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
            _mm256_storeu_ps(a, _mm256_add_ps(_mm256_add_ps(s00, s10), _mm256_add_ps(s20, s30)));
            _mm256_storeu_ps(a + 8, _mm256_add_ps(_mm256_add_ps(s01, s11), _mm256_add_ps(s21, s31)));
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
// spread over 8 lane accumulators (nonzero t of a row's block range goes to lane t % 8), which AVX2
// fills 8 at a time with a gather; the lanes are then summed in one fixed order. The portable path
// does the same fused multiply-adds lane by lane, so both give identical bits.
float reduce_lanes(const float* a) { return ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7])); }

__attribute__((target("avx2,fma"))) void matvec_row_avx2(const CsrMatrix& w, const float* xr, int o, float* lanes) {
    __m256 acc = _mm256_setzero_ps();
    alignas(32) float tail[8];
    for (int b = 0; b < w.blocks(); ++b) {
        const uint32_t* rp = &w.row_ptr[size_t(b) * (w.out + 1)];
        const float* xb = xr + size_t(b) * CsrMatrix::kKBlock;
        uint32_t k = rp[o];
        const uint32_t end = rp[o + 1];
        for (; k + 8 <= end; k += 8) {
            const __m256i idx = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(&w.col[k])));
            acc = _mm256_fmadd_ps(_mm256_loadu_ps(&w.val[k]), _mm256_i32gather_ps(xb, idx, 4), acc);
        }
        if (k < end) {
            _mm256_store_ps(tail, acc);
            for (int lane = 0; k < end; ++k, ++lane) tail[lane] = std::fma(w.val[k], xb[w.col[k]], tail[lane]);
            acc = _mm256_load_ps(tail);
        }
    }
    _mm256_storeu_ps(lanes, acc);
}

void matvec_row_portable(const CsrMatrix& w, const float* xr, int o, float* lanes) {
    for (int l = 0; l < 8; ++l) lanes[l] = 0.0f;
    for (int b = 0; b < w.blocks(); ++b) {
        const uint32_t* rp = &w.row_ptr[size_t(b) * (w.out + 1)];
        const float* xb = xr + size_t(b) * CsrMatrix::kKBlock;
        for (uint32_t k = rp[o], t = 0; k < rp[o + 1]; ++k, ++t) lanes[t % 8] = std::fma(w.val[k], xb[w.col[k]], lanes[t % 8]);
    }
}

template <bool Avx2>
void matvec_rows(const CsrMatrix& w, const float* bias, const float* x, int n, float* y) {
    parallel_for(w.out, 32, [&](int64_t o0, int64_t o1) { // output rows split over the threads
        float lanes[8];
        for (int r = 0; r < n; ++r) {
            const float* xr = x + size_t(r) * w.in;
            float* yr = y + size_t(r) * w.out;
            for (int64_t o = o0; o < o1; ++o) {
                if constexpr (Avx2) matvec_row_avx2(w, xr, int(o), lanes);
                else matvec_row_portable(w, xr, int(o), lanes);
                yr[o] = reduce_lanes(lanes) + (bias ? bias[o] : 0.0f);
            }
        }
    }, double(n) * double(w.nnz()));
}

template <bool Avx2>
void matmul(const CsrMatrix& w, const float* bias, const float* x, int n, float* y) {
    if (n <= 2) return matvec_rows<Avx2>(w, bias, x, n, y); // == kCsrMaxRowBatch (kernel_plan.h)
    panel_matmul(x, n, w.in, w.out, w.out, CsrMatrix::kKBlock, bias, y, double(n) * double(w.nnz()), [&](int b, const float* panel, float* acc) {
        if constexpr (Avx2) cpu_has_avx512f() ? block_avx512(w, b, panel, acc) : block_avx2(w, b, panel, acc);
        else block_portable(w, b, panel, acc);
    });
}

} // namespace

bool cpu_has_avx512f() {
    static const bool has = cpu_has_avx2_fma() && __builtin_cpu_supports("avx512f");
    return has;
}

bool cpu_has_avx2_fma() {
    static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return has;
}

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
    if (cpu_has_avx2_fma()) matmul<true>(w, bias, x, n, y);
    else matmul<false>(w, bias, x, n, y);
}

void csr_matmul_portable(const CsrMatrix& w, const float* bias, const float* x, int n, float* y) { matmul<false>(w, bias, x, n, y); }

} // namespace ss
