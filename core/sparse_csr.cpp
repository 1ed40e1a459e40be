// sparse_csr.cpp
#include "sparse_csr.h"

#include "thread_pool.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ss {

namespace {

constexpr int kPanel = 32; // batch rows per panel: four 8-wide AVX2 registers

// Transposes x rows [r0, r0 + m) (m <= kPanel), columns [k0, k1) into panel[j - k0][0..kPanel),
// zero-padding rows past m.
void pack_panel(const float* x, int in, int r0, int m, int k0, int k1, float* panel) {
    for (int j = k0; j < k1; ++j) {
        float* p = panel + size_t(j - k0) * kPanel;
        for (int r = 0; r < m; ++r) p[r] = x[size_t(r0 + r) * in + j];
        for (int r = m; r < kPanel; ++r) p[r] = 0.0f;
    }
}

void store_panel(const float* acc /* (out, kPanel) */, const float* bias, int out, int r0, int m, float* y) {
    for (int r = 0; r < m; ++r) {
        float* yr = y + size_t(r0 + r) * out;
        for (int o = 0; o < out; ++o) yr[o] = acc[size_t(o) * kPanel + r] + (bias ? bias[o] : 0.0f);
    }
}

__attribute__((target("avx2,fma"))) void block_avx2(const CsrMatrix& w, int b, const float* panel, float* acc) {
    const uint32_t* rp = &w.row_ptr[size_t(b) * (w.out + 1)];
    for (int o = 0; o < w.out; ++o) {
        float* a = acc + size_t(o) * kPanel;
        __m256 a0 = _mm256_loadu_ps(a), a1 = _mm256_loadu_ps(a + 8), a2 = _mm256_loadu_ps(a + 16), a3 = _mm256_loadu_ps(a + 24);
        for (uint32_t k = rp[o]; k < rp[o + 1]; ++k) {
            const float* p = panel + size_t(w.col[k]) * kPanel;
            const __m256 v = _mm256_broadcast_ss(&w.val[k]);
            a0 = _mm256_fmadd_ps(v, _mm256_loadu_ps(p), a0);
            a1 = _mm256_fmadd_ps(v, _mm256_loadu_ps(p + 8), a1);
            a2 = _mm256_fmadd_ps(v, _mm256_loadu_ps(p + 16), a2);
            a3 = _mm256_fmadd_ps(v, _mm256_loadu_ps(p + 24), a3);
        }
        _mm256_storeu_ps(a, a0);
        _mm256_storeu_ps(a + 8, a1);
        _mm256_storeu_ps(a + 16, a2);
        _mm256_storeu_ps(a + 24, a3);
    }
}

void block_portable(const CsrMatrix& w, int b, const float* panel, float* acc) {
    const uint32_t* rp = &w.row_ptr[size_t(b) * (w.out + 1)];
    for (int o = 0; o < w.out; ++o) {
        float* a = acc + size_t(o) * kPanel;
        for (uint32_t k = rp[o]; k < rp[o + 1]; ++k) {
            const float* p = panel + size_t(w.col[k]) * kPanel;
            const float v = w.val[k];
            for (int r = 0; r < kPanel; ++r) a[r] = std::fma(v, p[r], a[r]);
        }
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
    });
}

template <bool Avx2>
void matmul(const CsrMatrix& w, const float* bias, const float* x, int n, float* y) {
    if (n <= 2) return matvec_rows<Avx2>(w, bias, x, n, y); // == kCsrMaxRowBatch (kernel_plan.h)
    parallel_for(n, kPanel, [&](int64_t p0, int64_t p1) { // panels of batch rows split over the threads
        thread_local std::vector<float> panel, acc;
        panel.resize(size_t(CsrMatrix::kKBlock) * kPanel);
        acc.resize(size_t(w.out) * kPanel);
        for (int r0 = int(p0); r0 < int(p1); r0 += kPanel) {
            const int m = std::min(kPanel, n - r0);
            std::fill(acc.begin(), acc.end(), 0.0f);
            for (int b = 0; b < w.blocks(); ++b) {
                const int k0 = b * CsrMatrix::kKBlock, k1 = std::min(w.in, k0 + CsrMatrix::kKBlock);
                pack_panel(x, w.in, r0, m, k0, k1, panel.data());
                if constexpr (Avx2) block_avx2(w, b, panel.data(), acc.data());
                else block_portable(w, b, panel.data(), acc.data());
            }
            store_panel(acc.data(), bias, w.out, r0, m, y);
        }
    });
}

} // namespace

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
