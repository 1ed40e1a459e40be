// bf16_matmul.cpp
#include "kernels/bf16_matmul.h"

#include "kernels/simd_path.h"
#include "kernels/thread_pool.h"

#include <cblas.h>
#include <immintrin.h>

#include <cstring>
#include <vector>

namespace ss {

namespace {
// One row's dot product with x, 8 lanes at a time (4 accumulators), bf16 widened in registers.
__attribute__((target("avx2,fma"))) float row_dot_avx2(const uint16_t* w, const float* x, int in) {
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    int i = 0;
    for (; i + 32 <= in; i += 32)
        for (int u = 0; u < 4; ++u) {
            const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + i + 8 * u));
            const __m256 wv = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
            acc[u] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + i + 8 * u), acc[u]);
        }
    for (; i + 8 <= in; i += 8) {
        const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + i));
        acc[0] = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)), _mm256_loadu_ps(x + i), acc[0]);
    }
    const __m256 s = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    q = _mm_add_ss(q, _mm_movehdup_ps(q));
    float sum = _mm_cvtss_f32(q);
    for (; i < in; ++i) {
        const uint32_t bits = uint32_t(w[i]) << 16;
        float v;
        std::memcpy(&v, &bits, 4);
        sum += v * x[i];
    }
    return sum;
}

} // namespace

void bf16_matmul(const uint16_t* w, int out, int in, const float* bias, const float* x, int n, float* y) {
    if (n == 1 && simd_avx2()) { // the matrix streamed once as BF16: half the bytes of an fp32 sgemv
        parallel_for(out, kBf16TileRows, [&](int64_t o0, int64_t o1) {
            for (int64_t o = o0; o < o1; ++o) y[o] = (bias ? bias[o] : 0.0f) + row_dot_avx2(w + size_t(o) * in, x, in);
        }, double(out) * in);
        return;
    }
    parallel_for(out, kBf16TileRows, [&](int64_t o0, int64_t o1) {
        // fp32 bit patterns: a bf16 value is the upper half of its fp32 (a loop compilers vectorize).
        thread_local std::vector<uint32_t> tile;
        for (int64_t t0 = o0; t0 < o1; t0 += kBf16TileRows) {
            const int rows = int(std::min<int64_t>(kBf16TileRows, o1 - t0));
            tile.resize(size_t(rows) * in);
            const uint16_t* src = w + size_t(t0) * in;
            uint32_t* dst = tile.data();
            for (size_t i = 0, m = tile.size(); i < m; ++i) dst[i] = uint32_t(src[i]) << 16;
            const float* wt = reinterpret_cast<const float*>(dst);
            if (n == 1) {
                for (int r = 0; r < rows; ++r) y[t0 + r] = bias ? bias[t0 + r] : 0.0f;
                cblas_sgemv(CblasRowMajor, CblasNoTrans, rows, in, 1.0f, wt, in, x, 1, bias ? 1.0f : 0.0f, y + t0, 1);
            } else {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, rows, in, 1.0f, x, in, wt, in, 0.0f, y + t0, out);
                if (bias)
                    for (int r = 0; r < n; ++r)
                        for (int o = 0; o < rows; ++o) y[size_t(r) * out + size_t(t0) + o] += bias[t0 + o];
            }
        }
    }, double(n) * out * in);
}

} // namespace ss
