// gelu.cpp
#include "model/gelu.h"

#include "kernels/simd_path.h"

#include <immintrin.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace ss {

namespace {

constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693145751953125f;     // ln 2 split so that n * kLn2Hi is exact
constexpr float kLn2Lo = 1.428606765330187e-06f;
constexpr float kMinExp = -87.0f;                // e^y for y below this is below 2^-125: flushed
constexpr float kZeroTail = 9.2f;                // erfc(z) < 1e-37 beyond: E = 0
// erfcc polynomial in t, highest degree first (Numerical Recipes, 2nd ed., section 6.2).
constexpr float kErfc[10] = {0.17087277f, -0.82215223f, 1.48851587f, -1.13520398f, 0.27886807f,
                             -0.18628806f, 0.09678418f, 0.37409196f, 1.00002368f, -1.26551223f};
constexpr float kExp[8] = {1.0f / 5040, 1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f};

float gelu_one(float x) {
    const float z = std::fabs(x) * kInvSqrt2;
    const float t = 1.0f / (1.0f + 0.5f * z);
    float p = kErfc[0];
    for (int i = 1; i < 10; ++i) p = std::fma(p, t, kErfc[i]);
    float y = std::fma(-z, z, p);
    y = y < kMinExp ? kMinExp : y;
    const float n = std::nearbyint(y * kLog2e);
    float r = std::fma(n, -kLn2Hi, y);
    r = std::fma(n, -kLn2Lo, r);
    float e = kExp[0];
    for (int i = 1; i < 8; ++i) e = std::fma(e, r, kExp[i]);
    const float pow2n = std::bit_cast<float>(uint32_t(int32_t(n) + 127) << 23);
    float E = t * (e * pow2n);
    if (!(z < kZeroTail)) E = 0.0f; // also NaN x: handled below
    const float cdf = x >= 0.0f ? std::fma(-0.5f, E, 1.0f) : 0.5f * E;
    return std::isnan(x) ? x : x * cdf;
}

__attribute__((target("avx2,fma"))) __m256 gelu8(__m256 x) {
    const __m256 z = _mm256_mul_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), x), _mm256_set1_ps(kInvSqrt2));
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 t = _mm256_div_ps(one, _mm256_add_ps(one, _mm256_mul_ps(_mm256_set1_ps(0.5f), z)));
    __m256 p = _mm256_set1_ps(kErfc[0]);
    for (int i = 1; i < 10; ++i) p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(kErfc[i]));
    __m256 y = _mm256_fmadd_ps(_mm256_sub_ps(_mm256_setzero_ps(), z), z, p);
    y = _mm256_blendv_ps(y, _mm256_set1_ps(kMinExp), _mm256_cmp_ps(y, _mm256_set1_ps(kMinExp), _CMP_LT_OQ));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(y, _mm256_set1_ps(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fmadd_ps(n, _mm256_set1_ps(-kLn2Hi), y);
    r = _mm256_fmadd_ps(n, _mm256_set1_ps(-kLn2Lo), r);
    __m256 e = _mm256_set1_ps(kExp[0]);
    for (int i = 1; i < 8; ++i) e = _mm256_fmadd_ps(e, r, _mm256_set1_ps(kExp[i]));
    const __m256 pow2n = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23));
    __m256 E = _mm256_mul_ps(t, _mm256_mul_ps(e, pow2n));
    E = _mm256_and_ps(E, _mm256_cmp_ps(z, _mm256_set1_ps(kZeroTail), _CMP_LT_OQ));
    const __m256 pos = _mm256_fmadd_ps(_mm256_set1_ps(-0.5f), E, one);
    const __m256 neg = _mm256_mul_ps(_mm256_set1_ps(0.5f), E);
    const __m256 cdf = _mm256_blendv_ps(neg, pos, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ));
    const __m256 g = _mm256_mul_ps(x, cdf);
    return _mm256_blendv_ps(g, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q)); // NaN stays NaN
}

__attribute__((target("avx2,fma"))) void gelu_avx2(float* x, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, gelu8(_mm256_loadu_ps(x + i)));
    if (i < n) { // the tail through the same vector code
        alignas(32) float tail[8] = {};
        std::memcpy(tail, x + i, (n - i) * sizeof(float));
        _mm256_store_ps(tail, gelu8(_mm256_load_ps(tail)));
        std::memcpy(x + i, tail, (n - i) * sizeof(float));
    }
}

} // namespace

void gelu_erf_inplace(float* x, size_t n) {
    if (simd_avx2()) return gelu_avx2(x, n);
    for (size_t i = 0; i < n; ++i) x[i] = gelu_one(x[i]);
}

} // namespace ss
