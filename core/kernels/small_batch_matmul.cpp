// small_batch_matmul.cpp
#include "kernels/small_batch_matmul.h"

#include "kernels/simd_path.h"
#include "kernels/thread_pool.h"

#include <immintrin.h>

#include <algorithm>

namespace ss {

namespace {

constexpr int kChunk = 8; // activation rows per pass over W

// GCC 12 warns "'__Y' is used uninitialized" inside its own AVX-512 headers (the _mm512_undefined_*
// operands of masked builtins); a false positive, silenced for these kernels only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#define SS_AVX512 __attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma")))

// Weight rows o and o + 1 against activation rows x[0 .. N): y[r * out + o (+1)].
template <int N>
SS_AVX512 void two_rows_avx512(const float* w0, const float* w1, int in, const float* x, int o, int out, const float* bias, float* y) {
    __m512 a0[N], a1[N];
    for (int r = 0; r < N; ++r) a0[r] = a1[r] = _mm512_setzero_ps();
    int i = 0;
    for (; i + 16 <= in; i += 16) {
        const __m512 v0 = _mm512_loadu_ps(w0 + i), v1 = _mm512_loadu_ps(w1 + i);
        for (int r = 0; r < N; ++r) {
            const __m512 xv = _mm512_loadu_ps(x + size_t(r) * in + i);
            a0[r] = _mm512_fmadd_ps(v0, xv, a0[r]);
            a1[r] = _mm512_fmadd_ps(v1, xv, a1[r]);
        }
    }
    if (i < in) { // the last 1 .. 15 inputs, masked (masked-off lanes are not read)
        const __mmask16 m = __mmask16((1u << (in - i)) - 1);
        const __m512 v0 = _mm512_maskz_loadu_ps(m, w0 + i), v1 = _mm512_maskz_loadu_ps(m, w1 + i);
        for (int r = 0; r < N; ++r) {
            const __m512 xv = _mm512_maskz_loadu_ps(m, x + size_t(r) * in + i);
            a0[r] = _mm512_fmadd_ps(v0, xv, a0[r]);
            a1[r] = _mm512_fmadd_ps(v1, xv, a1[r]);
        }
    }
    const float b0 = bias ? bias[o] : 0.0f, b1 = bias ? bias[o + 1] : 0.0f;
    for (int r = 0; r < N; ++r) {
        y[size_t(r) * out + o] = _mm512_reduce_add_ps(a0[r]) + b0;
        y[size_t(r) * out + o + 1] = _mm512_reduce_add_ps(a1[r]) + b1;
    }
}

// One weight row against N activation rows, for an odd last row.
template <int N>
SS_AVX512 void one_row_avx512(const float* w0, int in, const float* x, int o, int out, const float* bias, float* y) {
    __m512 a0[N];
    for (int r = 0; r < N; ++r) a0[r] = _mm512_setzero_ps();
    for (int i = 0; i < in; i += 16) {
        const __mmask16 m = in - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (in - i)) - 1);
        const __m512 v0 = _mm512_maskz_loadu_ps(m, w0 + i);
        for (int r = 0; r < N; ++r) a0[r] = _mm512_fmadd_ps(v0, _mm512_maskz_loadu_ps(m, x + size_t(r) * in + i), a0[r]);
    }
    for (int r = 0; r < N; ++r) y[size_t(r) * out + o] = _mm512_reduce_add_ps(a0[r]) + (bias ? bias[o] : 0.0f);
}

template <int N>
void rows_avx512(const float* w, int out, int in, const float* bias, const float* x, float* y, int o0, int o1) {
    int o = o0;
    for (; o + 2 <= o1; o += 2) two_rows_avx512<N>(w + size_t(o) * in, w + size_t(o + 1) * in, in, x, o, out, bias, y);
    if (o < o1) one_row_avx512<N>(w + size_t(o) * in, in, x, o, out, bias, y);
}

#undef SS_AVX512
#pragma GCC diagnostic pop

__attribute__((target("avx2,fma"))) inline float hsum8(__m256 v) {
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    q = _mm_add_ss(q, _mm_movehdup_ps(q));
    return _mm_cvtss_f32(q);
}

template <int N>
__attribute__((target("avx2,fma"))) void rows_avx2(const float* w, int out, int in, const float* bias, const float* x, float* y, int o0, int o1) {
    const int whole = in / 8 * 8;
    for (int o = o0; o < o1; ++o) {
        const float* wr = w + size_t(o) * in;
        __m256 a[N];
        for (int r = 0; r < N; ++r) a[r] = _mm256_setzero_ps();
        for (int i = 0; i < whole; i += 8) {
            const __m256 v = _mm256_loadu_ps(wr + i);
            for (int r = 0; r < N; ++r) a[r] = _mm256_fmadd_ps(v, _mm256_loadu_ps(x + size_t(r) * in + i), a[r]);
        }
        for (int r = 0; r < N; ++r) {
            float s = hsum8(a[r]);
            for (int i = whole; i < in; ++i) s += wr[i] * x[size_t(r) * in + i];
            y[size_t(r) * out + o] = s + (bias ? bias[o] : 0.0f);
        }
    }
}

void rows_portable(const float* w, int out, int in, const float* bias, const float* x, int n, float* y, int o0, int o1) {
    for (int r = 0; r < n; ++r)
        for (int o = o0; o < o1; ++o) {
            const float* wr = w + size_t(o) * in;
            const float* xr = x + size_t(r) * in;
            float s = 0.0f;
            for (int i = 0; i < in; ++i) s += wr[i] * xr[i];
            y[size_t(r) * out + o] = s + (bias ? bias[o] : 0.0f);
        }
}

using RowsFn = void (*)(const float*, int, int, const float*, const float*, float*, int, int);

RowsFn avx512_for(int n) {
    static const RowsFn t[kChunk] = {rows_avx512<1>, rows_avx512<2>, rows_avx512<3>, rows_avx512<4>,
                                     rows_avx512<5>, rows_avx512<6>, rows_avx512<7>, rows_avx512<8>};
    return t[n - 1];
}
RowsFn avx2_for(int n) {
    static const RowsFn t[kChunk] = {rows_avx2<1>, rows_avx2<2>, rows_avx2<3>, rows_avx2<4>, rows_avx2<5>, rows_avx2<6>, rows_avx2<7>, rows_avx2<8>};
    return t[n - 1];
}

} // namespace

void small_batch_matmul(const float* w, int out, int in, const float* bias, const float* x, int n, float* y) {
    const bool avx512 = simd_avx512(), avx2 = simd_avx2();
    // Output rows split over the threads (pairs for AVX-512); every chunk of activation rows per range.
    parallel_for(out, 32, [&](int64_t o0, int64_t o1) {
        for (int r0 = 0; r0 < n; r0 += kChunk) {
            const int m = std::min(kChunk, n - r0);
            const float* xc = x + size_t(r0) * in;
            float* yc = y + size_t(r0) * out;
            if (avx512) avx512_for(m)(w, out, in, bias, xc, yc, int(o0), int(o1));
            else if (avx2) avx2_for(m)(w, out, in, bias, xc, yc, int(o0), int(o1));
            else rows_portable(w, out, in, bias, xc, m, yc, int(o0), int(o1));
        }
    }, double(n) * out * in);
}

} // namespace ss
