// sparse_bsr.cpp
#include "kernels/sparse_bsr.h"

#include "kernels/simd_path.h"
#include "kernels/activation_panel.h"
#include "kernels/thread_pool.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>

namespace ss {

namespace {

constexpr int kR = BsrMatrix::kRows;

// acc (row_blocks * 4, kPanel) += W's K block b x panel, half h (lanes 16h .. 16h + 15).
__attribute__((target("avx2,fma"))) void block_avx2(const BsrMatrix& w, int b, const float* panel, float* acc) {
    const uint32_t* ptr = &w.ptr[size_t(b) * (w.row_blocks() + 1)];
    for (int q = 0; q < w.row_blocks(); ++q)
        for (int h = 0; h < 2; ++h) {
            float* a = acc + size_t(q) * kR * kPanel + 16 * h;
            __m256 a00 = _mm256_loadu_ps(a), a01 = _mm256_loadu_ps(a + 8);
            __m256 a10 = _mm256_loadu_ps(a + kPanel), a11 = _mm256_loadu_ps(a + kPanel + 8);
            __m256 a20 = _mm256_loadu_ps(a + 2 * kPanel), a21 = _mm256_loadu_ps(a + 2 * kPanel + 8);
            __m256 a30 = _mm256_loadu_ps(a + 3 * kPanel), a31 = _mm256_loadu_ps(a + 3 * kPanel + 8);
            for (uint32_t k = ptr[q]; k < ptr[q + 1]; ++k) {
                const float* p = panel + size_t(w.col[k]) * kPanel + 16 * h;
                const __m256 p0 = _mm256_loadu_ps(p), p1 = _mm256_loadu_ps(p + 8);
                const float* v = &w.val[size_t(k) * kR];
                __m256 s = _mm256_broadcast_ss(v);
                a00 = _mm256_fmadd_ps(s, p0, a00);
                a01 = _mm256_fmadd_ps(s, p1, a01);
                s = _mm256_broadcast_ss(v + 1);
                a10 = _mm256_fmadd_ps(s, p0, a10);
                a11 = _mm256_fmadd_ps(s, p1, a11);
                s = _mm256_broadcast_ss(v + 2);
                a20 = _mm256_fmadd_ps(s, p0, a20);
                a21 = _mm256_fmadd_ps(s, p1, a21);
                s = _mm256_broadcast_ss(v + 3);
                a30 = _mm256_fmadd_ps(s, p0, a30);
                a31 = _mm256_fmadd_ps(s, p1, a31);
            }
            _mm256_storeu_ps(a, a00);
            _mm256_storeu_ps(a + 8, a01);
            _mm256_storeu_ps(a + kPanel, a10);
            _mm256_storeu_ps(a + kPanel + 8, a11);
            _mm256_storeu_ps(a + 2 * kPanel, a20);
            _mm256_storeu_ps(a + 2 * kPanel + 8, a21);
            _mm256_storeu_ps(a + 3 * kPanel, a30);
            _mm256_storeu_ps(a + 3 * kPanel + 8, a31);
        }
}

// AVX-512: the whole 32-lane panel row in two registers, so each stored column costs two panel
// loads and four broadcasts for eight 16-wide fused multiply-adds.
__attribute__((target("avx512f,avx2,fma"))) void block_avx512(const BsrMatrix& w, int b, const float* panel, float* acc) {
    const uint32_t* ptr = &w.ptr[size_t(b) * (w.row_blocks() + 1)];
    for (int q = 0; q < w.row_blocks(); ++q) {
        float* a = acc + size_t(q) * kR * kPanel;
        __m512 a00 = _mm512_loadu_ps(a), a01 = _mm512_loadu_ps(a + 16);
        __m512 a10 = _mm512_loadu_ps(a + kPanel), a11 = _mm512_loadu_ps(a + kPanel + 16);
        __m512 a20 = _mm512_loadu_ps(a + 2 * kPanel), a21 = _mm512_loadu_ps(a + 2 * kPanel + 16);
        __m512 a30 = _mm512_loadu_ps(a + 3 * kPanel), a31 = _mm512_loadu_ps(a + 3 * kPanel + 16);
        for (uint32_t k = ptr[q]; k < ptr[q + 1]; ++k) {
            const float* p = panel + size_t(w.col[k]) * kPanel;
            const __m512 p0 = _mm512_loadu_ps(p), p1 = _mm512_loadu_ps(p + 16);
            const float* v = &w.val[size_t(k) * kR];
            __m512 s = _mm512_set1_ps(v[0]);
            a00 = _mm512_fmadd_ps(s, p0, a00);
            a01 = _mm512_fmadd_ps(s, p1, a01);
            s = _mm512_set1_ps(v[1]);
            a10 = _mm512_fmadd_ps(s, p0, a10);
            a11 = _mm512_fmadd_ps(s, p1, a11);
            s = _mm512_set1_ps(v[2]);
            a20 = _mm512_fmadd_ps(s, p0, a20);
            a21 = _mm512_fmadd_ps(s, p1, a21);
            s = _mm512_set1_ps(v[3]);
            a30 = _mm512_fmadd_ps(s, p0, a30);
            a31 = _mm512_fmadd_ps(s, p1, a31);
        }
        _mm512_storeu_ps(a, a00);
        _mm512_storeu_ps(a + 16, a01);
        _mm512_storeu_ps(a + kPanel, a10);
        _mm512_storeu_ps(a + kPanel + 16, a11);
        _mm512_storeu_ps(a + 2 * kPanel, a20);
        _mm512_storeu_ps(a + 2 * kPanel + 16, a21);
        _mm512_storeu_ps(a + 3 * kPanel, a30);
        _mm512_storeu_ps(a + 3 * kPanel + 16, a31);
    }
}

void block_portable(const BsrMatrix& w, int b, const float* panel, float* acc) {
    const uint32_t* ptr = &w.ptr[size_t(b) * (w.row_blocks() + 1)];
    for (int q = 0; q < w.row_blocks(); ++q)
        for (uint32_t k = ptr[q]; k < ptr[q + 1]; ++k) {
            const float* p = panel + size_t(w.col[k]) * kPanel;
            for (int i = 0; i < kR; ++i) {
                float* a = acc + (size_t(q) * kR + i) * kPanel;
                const float v = w.val[size_t(k) * kR + i];
                for (int r = 0; r < kPanel; ++r) a[r] = std::fma(v, p[r], a[r]);
            }
        }
}

// Few rows: per row of x and row block, the four outputs in one 4-lane register, one fused
// multiply-add per stored column.
__attribute__((target("avx2,fma"))) void rows_avx2(const BsrMatrix& w, const float* xr, int q0, int q1, float* out4) {
    const int qs = w.row_blocks();
    for (int q = q0; q < q1; ++q) {
        __m128 acc = _mm_setzero_ps();
        for (int b = 0; b < w.k_blocks(); ++b) {
            const uint32_t* ptr = &w.ptr[size_t(b) * (qs + 1)];
            const float* xb = xr + size_t(b) * BsrMatrix::kKBlock;
            for (uint32_t k = ptr[q]; k < ptr[q + 1]; ++k)
                acc = _mm_fmadd_ps(_mm_loadu_ps(&w.val[size_t(k) * kR]), _mm_broadcast_ss(xb + w.col[k]), acc);
        }
        _mm_storeu_ps(out4 + size_t(q) * kR, acc);
    }
}

void rows_portable(const BsrMatrix& w, const float* xr, int q0, int q1, float* out4) {
    const int qs = w.row_blocks();
    for (int q = q0; q < q1; ++q) {
        float acc[kR] = {};
        for (int b = 0; b < w.k_blocks(); ++b) {
            const uint32_t* ptr = &w.ptr[size_t(b) * (qs + 1)];
            const float* xb = xr + size_t(b) * BsrMatrix::kKBlock;
            for (uint32_t k = ptr[q]; k < ptr[q + 1]; ++k)
                for (int i = 0; i < kR; ++i) acc[i] = std::fma(w.val[size_t(k) * kR + i], xb[w.col[k]], acc[i]);
        }
        for (int i = 0; i < kR; ++i) out4[size_t(q) * kR + i] = acc[i];
    }
}

template <bool Avx2>
void matmul(const BsrMatrix& w, const float* bias, const float* x, int n, float* y) {
    const int padded = w.row_blocks() * kR;
    if (n <= 2) {
        parallel_for(w.row_blocks(), 8, [&](int64_t q0, int64_t q1) {
            thread_local std::vector<float> out4;
            out4.resize(size_t(padded));
            for (int r = 0; r < n; ++r) {
                if constexpr (Avx2) rows_avx2(w, x + size_t(r) * w.in, int(q0), int(q1), out4.data());
                else rows_portable(w, x + size_t(r) * w.in, int(q0), int(q1), out4.data());
                for (int o = int(q0) * kR; o < std::min(w.out, int(q1) * kR); ++o) y[size_t(r) * w.out + o] = out4[size_t(o)] + (bias ? bias[o] : 0.0f);
            }
        }, double(n) * double(w.val.size()));
        return;
    }
    panel_matmul(x, n, w.in, w.out, padded, BsrMatrix::kKBlock, bias, y, double(n) * double(w.val.size()), [&](int b, const float* panel, float* acc) {
        if constexpr (Avx2) simd_avx512() ? block_avx512(w, b, panel, acc) : block_avx2(w, b, panel, acc);
        else block_portable(w, b, panel, acc);
    });
}

} // namespace

BsrMatrix bsr_from_dense(const float* w, int out, int in) {
    BsrMatrix m;
    m.out = out;
    m.in = in;
    const int qs = m.row_blocks();
    m.ptr.reserve(size_t(m.k_blocks()) * (qs + 1));
    for (int b = 0; b < m.k_blocks(); ++b) {
        const int k0 = b * BsrMatrix::kKBlock, k1 = std::min(in, k0 + BsrMatrix::kKBlock);
        m.ptr.push_back(uint32_t(m.col.size()));
        for (int q = 0; q < qs; ++q) {
            for (int j = k0; j < k1; ++j) {
                float v[kR] = {};
                bool any = false;
                for (int i = 0; i < kR && q * kR + i < out; ++i) any |= (v[i] = w[size_t(q * kR + i) * in + j]) != 0.0f;
                if (!any) continue;
                m.col.push_back(uint16_t(j - k0));
                m.val.insert(m.val.end(), v, v + kR);
            }
            m.ptr.push_back(uint32_t(m.col.size()));
        }
    }
    return m;
}

std::vector<float> bsr_to_dense(const BsrMatrix& m) {
    std::vector<float> w(size_t(m.out) * m.in, 0.0f);
    const int qs = m.row_blocks();
    for (int b = 0; b < m.k_blocks(); ++b)
        for (int q = 0; q < qs; ++q)
            for (uint32_t k = m.ptr[size_t(b) * (qs + 1) + q]; k < m.ptr[size_t(b) * (qs + 1) + q + 1]; ++k)
                for (int i = 0; i < kR && q * kR + i < m.out; ++i)
                    w[size_t(q * kR + i) * m.in + size_t(b) * BsrMatrix::kKBlock + m.col[k]] = m.val[size_t(k) * kR + i];
    return w;
}

void bsr_matmul(const BsrMatrix& w, const float* bias, const float* x, int n, float* y) {
    if (simd_avx2()) matmul<true>(w, bias, x, n, y);
    else matmul<false>(w, bias, x, n, y);
}

} // namespace ss
