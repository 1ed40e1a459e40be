// sparse_nm24.cpp
#include "kernels/sparse_nm24.h"

#include "error.h"
#include "kernels/simd_path.h"
#include "kernels/thread_pool.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ss {

namespace {

constexpr int kWindow = 32; // inputs per window: 8 groups, 16 values

float reduce16(const float* a) {
    float h[8];
    for (int l = 0; l < 8; ++l) h[l] = a[l] + a[l + 8];
    return ((h[0] + h[4]) + (h[1] + h[5])) + ((h[2] + h[6]) + (h[3] + h[7]));
}

// x padded to whole windows (zeros past `in`), so every window can be loaded whole.
const float* padded_row(const Nm24Matrix& w, const float* xr, std::vector<float>& buf) {
    const size_t n = size_t(w.values_per_row / 16) * kWindow;
    buf.assign(n, 0.0f);
    std::memcpy(buf.data(), xr, sizeof(float) * size_t(w.in));
    return buf.data();
}

// GCC 12's AVX-512 headers trip -Wmaybe-uninitialized on their own masked builtins (a false
// positive); silenced for this function only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__attribute__((target("avx512f,avx2,fma"))) void rows_avx512(const Nm24Matrix& w, const float* x, int o0, int o1, const float* bias, float* y) {
    for (int o = o0; o < o1; ++o) {
        const float* v = w.val.data() + size_t(o) * w.values_per_row;
        const uint8_t* p = w.pos.data() + size_t(o) * w.values_per_row;
        __m512 acc = _mm512_setzero_ps();
        for (int k = 0, win = 0; k < w.values_per_row; k += 16, win += kWindow) {
            const __m512 lo = _mm512_loadu_ps(x + win), hi = _mm512_loadu_ps(x + win + 16);
            const __m512i idx = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + k)));
            acc = _mm512_fmadd_ps(_mm512_loadu_ps(v + k), _mm512_permutex2var_ps(lo, idx, hi), acc);
        }
        alignas(64) float lanes[16];
        _mm512_store_ps(lanes, acc);
        y[o] = reduce16(lanes) + (bias ? bias[o] : 0.0f);
    }
}
#pragma GCC diagnostic pop

// AVX2 has no two-register permute, but the 2:4 layout needs none: values 0-3 of a window come
// from its inputs 0-7, values 4-7 from 8-15, 8-11 from 16-23 and 12-15 from 24-31 (two values per
// group of four). So each 8 values are two one-register permutes (the low three bits of a
// position pick within 8 inputs) and a blend, where a gather would cost more than eight loads on
// AMD Zen. The same lanes and products as the other paths: the same bits.
__attribute__((target("avx2,fma"))) void rows_avx2(const Nm24Matrix& w, const float* x, int o0, int o1, const float* bias, float* y) {
    for (int o = o0; o < o1; ++o) {
        const float* v = w.val.data() + size_t(o) * w.values_per_row;
        const uint8_t* p = w.pos.data() + size_t(o) * w.values_per_row;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(); // lanes 0-7 and 8-15
        for (int k = 0, win = 0; k < w.values_per_row; k += 16, win += kWindow) {
            const __m256i i0 = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + k)));
            const __m256i i1 = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + k + 8)));
            const __m256 x0 = _mm256_permutevar8x32_ps(_mm256_loadu_ps(x + win), i0);
            const __m256 x1 = _mm256_permutevar8x32_ps(_mm256_loadu_ps(x + win + 8), i0);
            const __m256 x2 = _mm256_permutevar8x32_ps(_mm256_loadu_ps(x + win + 16), i1);
            const __m256 x3 = _mm256_permutevar8x32_ps(_mm256_loadu_ps(x + win + 24), i1);
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(v + k), _mm256_blend_ps(x0, x1, 0xF0), a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(v + k + 8), _mm256_blend_ps(x2, x3, 0xF0), a1);
        }
        alignas(32) float lanes[16];
        _mm256_store_ps(lanes, a0);
        _mm256_store_ps(lanes + 8, a1);
        y[o] = reduce16(lanes) + (bias ? bias[o] : 0.0f);
    }
}

void rows_portable(const Nm24Matrix& w, const float* x, int o0, int o1, const float* bias, float* y) {
    for (int o = o0; o < o1; ++o) {
        const float* v = w.val.data() + size_t(o) * w.values_per_row;
        const uint8_t* p = w.pos.data() + size_t(o) * w.values_per_row;
        float lanes[16] = {};
        for (int k = 0, win = 0; k < w.values_per_row; k += 16, win += kWindow)
            for (int l = 0; l < 16; ++l) lanes[l] = std::fma(v[k + l], x[win + p[k + l]], lanes[l]);
        y[o] = reduce16(lanes) + (bias ? bias[o] : 0.0f);
    }
}

void matmul(SimdPath path, const Nm24Matrix& w, const float* bias, const float* x, int n, float* y) {
    for (int r = 0; r < n; ++r) {
        thread_local std::vector<float> buf;
        const float* xr = padded_row(w, x + size_t(r) * w.in, buf);
        float* yr = y + size_t(r) * w.out;
        parallel_for(w.out, 32, [&](int64_t o0, int64_t o1) {
            if (path == SimdPath::Avx512) rows_avx512(w, xr, int(o0), int(o1), bias, yr);
            else if (path >= SimdPath::Avx2) rows_avx2(w, xr, int(o0), int(o1), bias, yr);
            else rows_portable(w, xr, int(o0), int(o1), bias, yr);
        }, double(w.out) * w.in / 2);
    }
}

} // namespace

bool fits_nm24(const float* w, int out, int in) {
    for (int o = 0; o < out; ++o)
        for (int g = 0; g * 4 < in; ++g) {
            int nz = 0;
            for (int i = g * 4; i < std::min(in, g * 4 + 4); ++i) nz += w[size_t(o) * in + i] != 0.0f;
            if (nz > 2) return false;
        }
    return true;
}

Nm24Matrix nm24_from_dense(const float* w, int out, int in) {
    if (!fits_nm24(w, out, in)) throw Error("2:4 kernel: a group of 4 inputs has more than 2 nonzeros");
    Nm24Matrix m;
    m.out = out;
    m.in = in;
    m.groups = (in + 3) / 4;
    m.values_per_row = (2 * m.groups + 15) / 16 * 16;
    m.val.assign(size_t(out) * m.values_per_row, 0.0f);
    m.pos.assign(size_t(out) * m.values_per_row, 0);
    for (int o = 0; o < out; ++o)
        for (int g = 0; g < m.groups; ++g) {
            const size_t k0 = size_t(o) * m.values_per_row + 2 * size_t(g);
            int slot = 0;
            for (int i = 0; i < 4 && g * 4 + i < in; ++i) {
                const float v = w[size_t(o) * in + g * 4 + i];
                if (v == 0.0f) continue;
                m.val[k0 + slot] = v;
                m.pos[k0 + slot] = uint8_t(4 * (g % 8) + i);
                ++slot;
            }
            for (; slot < 2; ++slot) m.pos[k0 + slot] = uint8_t(4 * (g % 8)); // a zero value at the group's first input
        }
    for (int o = 0; o < out; ++o) // padding values (zero) point into their own window
        for (int k = 2 * m.groups; k < m.values_per_row; ++k) m.pos[size_t(o) * m.values_per_row + k] = uint8_t(4 * ((k / 2) % 8));
    return m;
}

std::vector<float> nm24_to_dense(const Nm24Matrix& m) {
    std::vector<float> w(size_t(m.out) * m.in, 0.0f);
    for (int o = 0; o < m.out; ++o)
        for (int k = 0; k < 2 * m.groups; ++k) {
            const size_t at = size_t(o) * m.values_per_row + k;
            const int col = (k / 16) * kWindow + m.pos[at];
            if (m.val[at] != 0.0f) w[size_t(o) * m.in + col] = m.val[at];
        }
    return w;
}

void nm24_matmul(const Nm24Matrix& w, const float* bias, const float* x, int n, float* y) { matmul(simd_path(), w, bias, x, n, y); }

} // namespace ss
