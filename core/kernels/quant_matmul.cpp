// quant_matmul.cpp
#include "kernels/quant_matmul.h"

#include "error.h"
#include "formats/safetensors.h"
#include "kernels/simd_path.h"
#include "kernels/thread_pool.h"

#include <cblas.h>
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace ss {

namespace {

constexpr int kB = QMatrix::kBlock;
// How far ahead of the block being multiplied the x86 kernels prefetch codes (bytes).
constexpr int kPrefetchBytes = 2048;

// Activations quantized per block of 32: codes (n, blocks * 32), scales dx (n, blocks), and per
// group xs = sum over its blocks of dx * sum(codes) (n, groups), for the zero-point term.
struct QuantizedActs {
    int blocks = 0, groups = 0;
    std::vector<int8_t> q;
    std::vector<float> d, s;
    // (n, blocks, 8) when zf != 0: zf * (sum of xq over inputs 4l .. 4l + 3), added to each dot so
    // that it becomes sum((code - zero) * xq) for the symmetric default zero point; zf also undoes
    // the AVX2 path's shift of int8 codes to signed (code - 128).
    int zf = 0;
    std::vector<int32_t> z;
    const int8_t* xq(int r) const { return q.data() + size_t(r) * blocks * kB; }
    const int32_t* zx(int r) const { return z.data() + size_t(r) * blocks * 8; }
    std::vector<float> d8; // (n, blocks, 8): dx repeated over 8 lanes, for two-block registers
    const float* dx(int r) const { return d.data() + size_t(r) * blocks; }
    const float* dx8(int r) const { return d8.data() + size_t(r) * blocks * 8; }
    const float* xs(int r) const { return s.data() + size_t(r) * groups; }
};

// One whole block of kB activations with AVX2: max |x|, and the codes nearbyint(x * inv) clamped
// to +-127 with their sum. _mm256_round_ps to nearest is nearbyint in the default rounding mode
// (half to even) and the products are the same single-precision ones, so the codes are the
// scalar loop's, bit for bit (test_kernels compares the paths). It runs on the calling thread
// before the rows are split, so its speed bounds what a second thread can gain.
__attribute__((target("avx2,fma"))) float block_amax_avx2(const float* x) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_andnot_ps(sign, _mm256_loadu_ps(x));
    for (int k = 8; k < kB; k += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + k)));
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
    return _mm_cvtss_f32(h);
}

__attribute__((target("avx2,fma"))) int block_codes_avx2(const float* x, float inv, int8_t* q) {
    static_assert(kB == 32, "four registers of eight");
    const __m256 vinv = _mm256_set1_ps(inv), lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
    __m256i v[4];
    for (int k = 0; k < 4; ++k) {
        __m256 f = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), vinv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        v[k] = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(f, lo), hi));
    }
    __m256i sum = _mm256_add_epi32(_mm256_add_epi32(v[0], v[1]), _mm256_add_epi32(v[2], v[3]));
    // int32 -> int8 in order: the packs interleave 128-bit lanes, the permute puts them back.
    const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(v[0], v[1]), _mm256_packs_epi32(v[2], v[3]));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q), _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
    __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, _MM_SHUFFLE(1, 0, 3, 2)));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s4);
}

// `shift`: what the kernel subtracts from each code before multiplying (128 for AVX2 and int8).
// `avx2`: whole blocks go through block_amax_avx2 / block_codes_avx2 (the same codes).
void quantize_acts(const QMatrix& w, const float* x, int n, int shift, QuantizedActs& a, bool avx2) {
    a.blocks = w.blocks;
    a.groups = w.groups;
    a.zf = shift - (w.zero.empty() ? w.default_zero : 0);
    a.q.assign(size_t(n) * w.blocks * kB, 0);
    a.d.assign(size_t(n) * w.blocks, 0.0f);
    a.s.assign(size_t(n) * w.groups, 0.0f);
    a.z.assign(a.zf ? size_t(n) * w.blocks * 8 : 0, 0);
    a.d8.resize(size_t(n) * w.blocks * 8);
    for (int r = 0; r < n; ++r) {
        const float* xr = x + size_t(r) * w.in;
        int8_t* q = a.q.data() + size_t(r) * w.blocks * kB;
        float* dx = a.d.data() + size_t(r) * w.blocks;
        float* xs = a.s.data() + size_t(r) * w.groups;
        for (int b = 0; b < w.blocks; ++b) {
            const int i0 = b * kB, i1 = std::min(w.in, i0 + kB);
            const bool simd = avx2 && i1 - i0 == kB;
            float amax = 0.0f;
            if (simd) amax = block_amax_avx2(xr + i0);
            else
                for (int i = i0; i < i1; ++i) amax = std::max(amax, std::fabs(xr[i]));
            if (amax == 0.0f) continue; // codes and scale stay 0
            dx[b] = amax / 127.0f;
            const float inv = 127.0f / amax;
            int sum = 0;
            if (simd) sum = block_codes_avx2(xr + i0, inv, q + i0);
            else
                for (int i = i0; i < i1; ++i) {
                    const int v = int(std::clamp(std::nearbyint(xr[i] * inv), -127.0f, 127.0f));
                    q[i] = int8_t(v);
                    sum += v;
                }
            const int g = b / w.group_blocks;
            xs[g] = std::fma(dx[b], float(sum), xs[g]);
            if (a.zf)
                for (int l = 0; l < 8; ++l) {
                    int32_t& zl = a.z[(size_t(r) * w.blocks + b) * 8 + l];
                    for (int j = 4 * l; j < 4 * l + 4; ++j) zl += q[i0 + j];
                    zl *= a.zf;
                }
        }
        float* d8 = a.d8.data() + size_t(r) * w.blocks * 8;
        for (int b = 0; b < w.blocks; ++b)
            for (int l = 0; l < 8; ++l) d8[size_t(b) * 8 + l] = dx[b];
    }
}

// The row's sum of scaled dot products, times the row scale (one scale per row: applied once,
// here), minus the per-group zero-point terms, plus the bias.
float finish_sum(const QMatrix& w, const QuantizedActs& a, int r, int o, float sum, const float* bias) {
    float corr = 0.0f;
    if (!w.zero.empty())
        for (int g = 0; g < w.groups; ++g)
            corr = std::fma(w.scale_at(o, g) * float(w.zero[size_t(o) * w.groups + g]), a.xs(r)[g], corr);
    if (w.groups == 1) sum *= w.scale_at(o, 0);
    return (sum - corr) + (bias ? bias[o] : 0.0f);
}

// The 8 lane sums in one fixed order, then finish_sum.
float finish_row(const QMatrix& w, const QuantizedActs& a, int r, int o, const float* lanes, const float* bias) {
    return finish_sum(w, a, r, o, ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7])), bias);
}

// --- int4 codes: four blocks per step ------------------------------------------------------------
// A 64-byte load holds four blocks of nibbles: 128-bit lane L is block 4u + L, its low nibbles the
// block's inputs 0-15 and its high nibbles inputs 16-31. The activations are rearranged to match
// once per call (Units), so two dpbusd give 16 int32 lanes, four per block, with no shuffles:
//   lo[16 L + j] = xq[4u + L][j], hi[16 L + j] = xq[4u + L][16 + j]      (j < 16)
// Lane 4 L + k sums inputs 4k .. 4k + 3 and 16 + 4k .. 16 + 4k + 3 of block 4u + L. About half the
// instructions of a block-at-a-time kernel per weight (that kernel limited a language model's int4
// decode: weights streamed at 19 GB/s through it against sgemv's 44 on AMD EPYC). The 256-bit
// kernels take half a step (two blocks) at a time and the portable one lane by lane, all in the
// AVX-512 kernel's order:
//   acc[k % 2][l] += float(dot_l) * (dx_l * scale of the lane's block)     (k: step, l: lane)
//   y = reduce16(acc[0] + acc[1]), then finish_sum
// so every path gives the same bits.
struct Units {
    int units = 0;              // per row, ceil(blocks / 4)
    std::vector<int8_t> q;      // (n, units, 128): lo then hi
    std::vector<int32_t> z;     // (n, units, 16): zf * (the lane's 8 xq), when zf != 0
    std::vector<float> d;       // (n, units, 16): dx of the lane's block
    const int8_t* xq(int r) const { return q.data() + size_t(r) * units * 128; }
    const int32_t* zx(int r) const { return z.data() + size_t(r) * units * 16; }
    const float* dx(int r) const { return d.data() + size_t(r) * units * 16; }
};

void make_units(const QuantizedActs& a, int n, Units& u) {
    u.units = (a.blocks + 3) / 4;
    u.q.assign(size_t(n) * u.units * 128, 0); // padding blocks: xq = 0, dx = 0
    u.z.assign(a.zf ? size_t(n) * u.units * 16 : 0, 0);
    u.d.assign(size_t(n) * u.units * 16, 0.0f);
    for (int r = 0; r < n; ++r)
        for (int b = 0; b < a.blocks; ++b) {
            const int k = b >> 2, L = b & 3;
            const int8_t* x = a.xq(r) + size_t(b) * kB;
            int8_t* q = u.q.data() + (size_t(r) * u.units + k) * 128;
            std::memcpy(q + 16 * L, x, 16);
            std::memcpy(q + 64 + 16 * L, x + 16, 16);
            for (int l = 0; l < 4; ++l) {
                u.d[(size_t(r) * u.units + k) * 16 + 4 * L + l] = a.dx(r)[b];
                if (a.zf) {
                    int32_t s = 0;
                    for (int t = 0; t < 4; ++t) s += x[4 * l + t] + x[16 + 4 * l + t];
                    u.z[(size_t(r) * u.units + k) * 16 + 4 * L + l] = a.zf * s;
                }
            }
        }
}

// The 16 lane sums in one fixed order (halves, then quarters, ...), as every int4 kernel ends.
float reduce16(const float* t) {
    float u[8], v[4];
    for (int i = 0; i < 8; ++i) u[i] = t[i] + t[i + 8];
    for (int i = 0; i < 4; ++i) v[i] = u[i] + u[i + 4];
    return (v[0] + v[2]) + (v[1] + v[3]);
}

// The portable int4 kernel, lane by lane in the order above.
template <int NR>
void rows4_portable(const QMatrix& w, const QuantizedActs& a, const Units& un, int r0, const float* bias, float* y, int o0, int o1) {
    for (int o = o0; o < o1; ++o) {
        const uint8_t* codes = w.codes.data() + size_t(o) * w.blocks * 16;
        for (int r = 0; r < NR; ++r) {
            float acc[2][16] = {};
            for (int k = 0; k < un.units; ++k) {
                const int8_t* q = un.xq(r0 + r) + size_t(k) * 128;
                for (int l = 0; l < 16; ++l) {
                    const int L = l / 4, j = l % 4, b = 4 * k + L;
                    if (b >= w.blocks) continue; // a padding block adds 0
                    int d = a.zf ? un.zx(r0 + r)[size_t(k) * 16 + l] : 0;
                    for (int t = 4 * j; t < 4 * j + 4; ++t) {
                        const uint8_t c = codes[size_t(b) * 16 + t];
                        d += int(c & 0x0f) * q[16 * L + t] + int(c >> 4) * q[64 + 16 * L + t];
                    }
                    const float f = un.dx(r0 + r)[size_t(k) * 16 + l];
                    acc[k & 1][l] = std::fma(float(d), w.groups == 1 ? f : f * w.scale_at(o, b >> w.group_shift), acc[k & 1][l]);
                }
            }
            float t[16];
            for (int l = 0; l < 16; ++l) t[l] = acc[0][l] + acc[1][l];
            y[size_t(r0 + r) * w.out + o] = finish_sum(w, a, r0 + r, o, reduce16(t), bias);
        }
    }
}

// Code of weight j (0..31) of block `blk`, as the integer the kernels multiply.
inline int block_code(const QMatrix& w, const uint8_t* blk, int j) {
    if (w.layout_bits == 8) return int(blk[j]);
    return j < 16 ? int(blk[j] & 0x0f) : int(blk[j - 16] >> 4);
}

template <int NR>
void rows_portable(const QMatrix& w, const QuantizedActs& a, int r0, const float* bias, float* y, int o0, int o1) {
    const int bb = w.block_bytes();
    for (int o = o0; o < o1; ++o) {
        const uint8_t* codes = w.codes.data() + size_t(o) * w.blocks * bb;
        for (int r = 0; r < NR; ++r) {
            float acc[4][8] = {};
            const int8_t* xq = a.xq(r0 + r);
            for (int b = 0; b < w.blocks; ++b) {
                const float s = w.scale_at(o, b >> w.group_shift);
                const float f = w.groups == 1 ? a.dx(r0 + r)[b] : a.dx(r0 + r)[b] * s;
                const uint8_t* blk = codes + size_t(b) * bb;
                for (int l = 0; l < 8; ++l) {
                    int d = a.zf ? a.zx(r0 + r)[size_t(b) * 8 + l] : 0;
                    for (int j = 4 * l; j < 4 * l + 4; ++j) d += block_code(w, blk, j) * int(xq[size_t(b) * kB + j]);
                    acc[b & 3][l] = std::fma(float(d), f, acc[b & 3][l]);
                }
            }
            float lanes[8];
            for (int l = 0; l < 8; ++l) lanes[l] = (acc[0][l] + acc[2][l]) + (acc[1][l] + acc[3][l]);
            y[size_t(r0 + r) * w.out + o] = finish_row(w, a, r0 + r, o, lanes, bias);
        }
    }
}

// Row o's scales as fp32, converted from the f16 the matrix keeps into a per-thread buffer
// (F16C, eight at a time): the kernels multiply with fp32 scales.
__attribute__((target("avx2,fma,f16c"))) const float* row_scales(const QMatrix& w, int o) {
    thread_local std::vector<float> buf;
    if (buf.size() < size_t(w.groups)) buf.resize(size_t(w.groups));
    const uint16_t* h = w.scale.data() + size_t(o) * w.groups;
    int g = 0;
    for (; g + 8 <= w.groups; g += 8) _mm256_storeu_ps(buf.data() + g, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + g))));
    for (; g < w.groups; ++g) buf[size_t(g)] = _cvtsh_ss(h[g]);
    return buf.data();
}

} // namespace

#define QK_NS avx2_kernel
#define QK_TARGET __attribute__((target("avx2,fma")))
#define QK_DOT(d, u, s) d = _mm256_add_epi32(d, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), ones))
// Two products of 4-bit codes (<= 15) with int8: the 16-bit pair sums add without overflow (<= 2 * 2 * 15 * 127).
#define QK_DOT2(d, u1, s1, u2, s2) d = _mm256_add_epi32(d, _mm256_madd_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(u1, s1), _mm256_maddubs_epi16(u2, s2)), ones))
namespace {
#include "kernels/quant_matmul_x86.inc"
}
#undef QK_NS
#undef QK_TARGET
#undef QK_DOT
#undef QK_DOT2

#define QK_NS vnni_kernel
#define QK_TARGET __attribute__((target("avx2,fma,avxvnni")))
#define QK_DOT(d, u, s) d = _mm256_dpbusd_avx_epi32(d, u, s)
#define QK_DOT2(d, u1, s1, u2, s2) d = _mm256_dpbusd_avx_epi32(_mm256_dpbusd_avx_epi32(d, u1, s1), u2, s2)
namespace {
#include "kernels/quant_matmul_x86.inc"
}
#undef QK_NS
#undef QK_TARGET
#undef QK_DOT
#undef QK_DOT2

namespace {

#include "kernels/quant_matmul_avx512.inc"

enum class Isa { Portable, Avx2, Vnni, Avx512Vnni };

// The integer path under simd_path() (simd_path.h): 512-bit VNNI needs AVX-512 VNNI besides the
// subsets simd_path's avx512 has; a CPU without it runs 256-bit VNNI or maddubs there.
Isa isa_allowed() {
    const SimdPath path = simd_path();
    if (path == SimdPath::Avx512 && cpu_has_avx512vnni()) return Isa::Avx512Vnni;
    if (path >= SimdPath::AvxVnni && cpu_has_avxvnni()) return Isa::Vnni;
    return path >= SimdPath::Avx2 ? Isa::Avx2 : Isa::Portable;
}

void dot(Isa isa, const QMatrix& w, const float* bias, const float* x, int n, float* y);

// Where 512-bit VNNI is allowed, a 256-bit path (VNNI, or AVX2's maddubs) may still be faster: AMD Zen 4 runs 512-bit
// operations as two halves, and for int8 codes the AVX-512 kernel's zero-point term costs an extra
// load and add per block that AVX2's signed-code trick avoids (a 1 B model's int8 decode: 54 tok/s
// with AVX-512 VNNI, 68 with AVX2, Zen 4). The paths give the same bits (4-bit codes on AVX-512:
// the same up to float rounding), so the choice is made by timing them once per process, per code layout, at batch 1 on a 4096 x 4096 matrix (16 MB of
// int8 codes: weights streamed from memory, as a language model's are; on a matrix that fits the
// caches the AVX-512 kernel wins, which misleads), and the fastest is kept. About 60 ms.
Isa measured_isa(int layout_bits) {
    auto measure = [](int layout) {
        QMatrix w;
        w.out = 4096;
        w.in = 4096;
        w.bits = layout;
        w.layout_bits = layout;
        w.blocks = w.in / kB;
        w.group_blocks = layout == 8 ? w.blocks : 1;
        w.groups = w.blocks / w.group_blocks;
        w.group_shift = layout == 8 ? 30 : 0;
        w.default_zero = 1 << (layout - 1);
        w.codes.resize(size_t(w.out) * w.blocks * w.block_bytes());
        for (size_t k = 0; k < w.codes.size(); ++k) w.codes[k] = uint8_t((k * 2654435761u) >> 13);
        w.scale.assign(size_t(w.out) * w.groups, f32_to_f16(0.01f));
        std::vector<float> x(size_t(w.in)), y(size_t(w.out));
        for (size_t i = 0; i < x.size(); ++i) x[i] = float(int(i % 17) - 8);
        auto best_of = [&](Isa isa) {
            double best = 1e30;
            for (int rep = 0; rep < 5; ++rep) {
                const auto t0 = std::chrono::steady_clock::now();
                dot(isa, w, nullptr, x.data(), 1, y.data());
                best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
            }
            return best;
        };
        Isa best = Isa::Avx512Vnni;
        double fastest = best_of(best);
        for (Isa other : {Isa::Vnni, Isa::Avx2}) {
            if (other == Isa::Vnni && !cpu_has_avxvnni()) continue;
            if (const double t = best_of(other); t < fastest) {
                fastest = t;
                best = other;
            }
        }
        return best;
    };
    static const Isa for8 = measure(8), for4 = measure(4);
    return layout_bits == 8 ? for8 : for4;
}

Isa detect_isa(int layout_bits) {
    const Isa allowed = isa_allowed();
    return allowed == Isa::Avx512Vnni ? measured_isa(layout_bits) : allowed;
}

// AVX2 without VNNI multiplies unsigned by signed bytes with 16-bit pair sums (maddubs), which
// would saturate for int8 codes up to 255: it shifts them to signed (code - 128) first.
int code_shift(Isa isa, const QMatrix& w) { return isa == Isa::Avx2 && w.layout_bits == 8 && w.bits == 8 ? 128 : 0; }

template <int NR, bool Z0>
void rows_x86(Isa isa, const QMatrix& w, const QuantizedActs& a, int r0, const float* bias, float* y, int o0, int o1) {
    if (isa == Isa::Avx512Vnni) avx512_kernel::rows<NR, Z0>(w, a, r0, bias, y, o0, o1);
    else if (isa == Isa::Vnni) vnni_kernel::rows<NR, Z0, false>(w, a, r0, bias, y, o0, o1);
    else if (code_shift(isa, w)) avx2_kernel::rows<NR, Z0, true>(w, a, r0, bias, y, o0, o1);
    else avx2_kernel::rows<NR, Z0, false>(w, a, r0, bias, y, o0, o1);
}

template <int NR>
void rows_isa(Isa isa, const QMatrix& w, const QuantizedActs& a, int r0, const float* bias, float* y, int o0, int o1) {
    if (isa == Isa::Portable) return rows_portable<NR>(w, a, r0, bias, y, o0, o1);
    if (a.zf) rows_x86<NR, true>(isa, w, a, r0, bias, y, o0, o1);
    else rows_x86<NR, false>(isa, w, a, r0, bias, y, o0, o1);
}

template <int NR, bool Z0>
void rows4_x86(Isa isa, const QMatrix& w, const QuantizedActs& a, const Units& un, int r0, const float* bias, float* y, int o0, int o1) {
    const bool row_scale = w.groups == 1;
    if (isa == Isa::Avx512Vnni) avx512_kernel::rows4<NR, Z0>(w, a, un, r0, bias, y, o0, o1);
    else if (isa == Isa::Vnni) row_scale ? vnni_kernel::rows4<NR, Z0, true>(w, a, un, r0, bias, y, o0, o1) : vnni_kernel::rows4<NR, Z0, false>(w, a, un, r0, bias, y, o0, o1);
    else row_scale ? avx2_kernel::rows4<NR, Z0, true>(w, a, un, r0, bias, y, o0, o1) : avx2_kernel::rows4<NR, Z0, false>(w, a, un, r0, bias, y, o0, o1);
}

template <int NR>
void rows4_isa(Isa isa, const QMatrix& w, const QuantizedActs& a, const Units& un, int r0, const float* bias, float* y, int o0, int o1) {
    if (isa == Isa::Portable) rows4_portable<NR>(w, a, un, r0, bias, y, o0, o1);
    else if (a.zf) rows4_x86<NR, true>(isa, w, a, un, r0, bias, y, o0, o1);
    else rows4_x86<NR, false>(isa, w, a, un, r0, bias, y, o0, o1);
}

void dot(Isa isa, const QMatrix& w, const float* bias, const float* x, int n, float* y) {
    thread_local QuantizedActs acts;
    quantize_acts(w, x, n, code_shift(isa, w), acts, isa != Isa::Portable);
    const QuantizedActs& a = acts;
    if (w.layout_bits == 4) { // four blocks per step (Units)
        thread_local Units units;
        make_units(a, n, units);
        const Units& un = units;
        parallel_for(w.out, 16, [&](int64_t o0, int64_t o1) {
            int r0 = 0;
            for (; r0 + 4 <= n; r0 += 4) rows4_isa<4>(isa, w, a, un, r0, bias, y, int(o0), int(o1));
            switch (n - r0) {
            case 3: rows4_isa<3>(isa, w, a, un, r0, bias, y, int(o0), int(o1)); break;
            case 2: rows4_isa<2>(isa, w, a, un, r0, bias, y, int(o0), int(o1)); break;
            case 1: rows4_isa<1>(isa, w, a, un, r0, bias, y, int(o0), int(o1)); break;
            default: break;
            }
        }, double(n) * w.out * w.in);
        return;
    }
    // Output rows split over the threads; each weight block is read once per 4 activation rows.
    parallel_for(w.out, 16, [&](int64_t o0, int64_t o1) {
        int r0 = 0;
        for (; r0 + 4 <= n; r0 += 4) rows_isa<4>(isa, w, a, r0, bias, y, int(o0), int(o1));
        switch (n - r0) {
        case 3: rows_isa<3>(isa, w, a, r0, bias, y, int(o0), int(o1)); break;
        case 2: rows_isa<2>(isa, w, a, r0, bias, y, int(o0), int(o1)); break;
        case 1: rows_isa<1>(isa, w, a, r0, bias, y, int(o0), int(o1)); break;
        default: break;
        }
    }, double(n) * w.out * w.in);
}

} // namespace

bool qmatrix_supports(const QuantizedWeights& q) {
    if (!q.half.empty() || !q.spec.is_integer() || q.out <= 0 || q.in <= 0) return false;
    if (!(q.group == q.in || (q.group % kB == 0 && std::has_single_bit(unsigned(q.group / kB))))) return false;
    for (float s : q.scale)
        if (f16_to_f32(f32_to_f16(s)) != s) return false;
    return true;
}

float QMatrix::scale_at(int o, int g) const { return f16_to_f32(scale[size_t(o) * groups + size_t(g)]); }

QMatrix qmatrix_from(const QuantizedWeights& q) {
    if (!qmatrix_supports(q)) throw Error("quantized kernel: scheme " + q.spec.label() + " has no integer kernel");
    QMatrix w;
    w.out = q.out;
    w.in = q.in;
    const int bits = q.spec.bits();
    w.layout_bits = bits <= 4 ? 4 : 8; // int4, int3 and int2 codes all fit a nibble
    w.blocks = (q.in + kB - 1) / kB;
    w.group_blocks = q.group == q.in ? w.blocks : q.group / kB;
    w.groups = (w.blocks + w.group_blocks - 1) / w.group_blocks;
    w.group_shift = w.groups == 1 ? 30 : std::countr_zero(unsigned(w.group_blocks)); // 30: one scale per row (applied once at the end)
    if (w.groups != q.groups_per_row()) throw Error("quantized kernel: group layout mismatch"); // cannot happen for valid q
    w.scale.resize(q.scale.size());
    for (size_t k = 0; k < q.scale.size(); ++k) w.scale[k] = f32_to_f16(q.scale[k]); // exact: qmatrix_supports checked
    w.bits = bits;
    if (q.spec.asym) w.zero = q.zero;
    else w.default_zero = 1 << (bits - 1);
    const int bb = w.block_bytes();
    w.codes.assign(size_t(w.out) * w.blocks * bb, 0);
    for (int o = 0; o < w.out; ++o)
        for (int b = 0; b < w.blocks; ++b) {
            uint8_t* blk = w.codes.data() + (size_t(o) * w.blocks + b) * bb;
            const int pad = w.zero_at(o, b >> w.group_shift); // padding encodes a zero weight
            for (int j = 0; j < kB; ++j) {
                const int i = b * kB + j;
                const int c = i < q.in ? int(q.code(size_t(o) * q.in + i)) : pad;
                if (w.layout_bits == 8) blk[j] = uint8_t(c);
                else if (j < 16) blk[j] = uint8_t(c);
                else blk[j - 16] = uint8_t(blk[j - 16] | (c << 4));
            }
        }
    return w;
}

QuantizedWeights qmatrix_to_quantized(const QMatrix& w, const QuantSpec& spec, int group) {
    QuantizedWeights q;
    q.spec = spec;
    q.out = w.out;
    q.in = w.in;
    q.group = group;
    q.scale.resize(w.scale.size());
    for (size_t k = 0; k < w.scale.size(); ++k) q.scale[k] = f16_to_f32(w.scale[k]);
    if (spec.asym) q.zero = w.zero;
    std::vector<uint32_t> codes(size_t(w.out) * w.in);
    for (int o = 0; o < w.out; ++o)
        for (int i = 0; i < w.in; ++i)
            codes[size_t(o) * w.in + i] = uint32_t(block_code(w, w.codes.data() + (size_t(o) * w.blocks + size_t(i / kB)) * size_t(w.block_bytes()), i % kB));
    pack_codes(codes, spec.bits(), q.packed);
    return q;
}

int64_t qmatrix_zero_count(const QMatrix& w) {
    int64_t zeros = 0;
    const int bb = w.block_bytes();
    for (int o = 0; o < w.out; ++o)
        for (int b = 0; b < w.blocks; ++b) {
            const int g = b >> w.group_shift; // 0 when one scale covers the row (group_shift 30)
            const int z = w.zero_at(o, g);
            const bool zero_scale = w.scale_at(o, g) == 0.0f;
            const uint8_t* blk = w.codes.data() + (size_t(o) * w.blocks + b) * size_t(bb);
            const int n = std::min(kB, w.in - b * kB);
            for (int j = 0; j < n; ++j) zeros += zero_scale || block_code(w, blk, j) == z;
        }
    return zeros;
}

void qmatrix_dequantize_rows(const QMatrix& w, int o0, int o1, float* out) {
    const int bb = w.block_bytes();
    for (int o = o0; o < o1; ++o) {
        float* wr = out + size_t(o - o0) * w.in;
        const uint8_t* codes = w.codes.data() + size_t(o) * w.blocks * bb;
        for (int b = 0; b < w.blocks; ++b) {
            const int g = b / w.group_blocks, z = w.zero_at(o, g);
            const float s = w.scale_at(o, g);
            const int i0 = b * kB, n = std::min(kB, w.in - i0);
            for (int j = 0; j < n; ++j) wr[i0 + j] = float(block_code(w, codes + size_t(b) * bb, j) - z) * s;
        }
    }
}

void qmatmul_dot(const QMatrix& w, const float* bias, const float* x, int n, float* y) { dot(detect_isa(w.layout_bits), w, bias, x, n, y); }

void qmatmul_dot_reference(const QMatrix& w, const float* bias, const float* x, int n, float* y) {
    QuantizedActs a;
    quantize_acts(w, x, n, 0, a, false);
    const int bb = w.block_bytes();
    for (int r = 0; r < n; ++r)
        for (int o = 0; o < w.out; ++o) {
            double acc = bias ? bias[o] : 0.0;
            for (int b = 0; b < w.blocks; ++b) {
                const int g = b / w.group_blocks;
                int64_t d = 0, sx = 0;
                for (int j = 0; j < kB; ++j) {
                    d += int64_t(block_code(w, w.codes.data() + (size_t(o) * w.blocks + b) * bb, j)) * a.xq(r)[size_t(b) * kB + j];
                    sx += a.xq(r)[size_t(b) * kB + j];
                }
                acc += double(w.scale_at(o, g)) * a.dx(r)[b] * double(d - int64_t(w.zero_at(o, g)) * sx);
            }
            y[size_t(r) * w.out + o] = float(acc);
        }
}

void qmatmul_tiles(const QMatrix& w, const float* bias, const float* x, int n, float* y) {
    // Tiles of 64 rows (64 x in fp32: 200 KiB at in = 784) dequantized into a thread's panel, each
    // multiplied by one single-threaded sgemm; the tiles are split over the threads.
    constexpr int kTile = 64;
    parallel_for(w.out, kTile, [&](int64_t t0, int64_t t1) {
        thread_local std::vector<float> panel;
        panel.resize(size_t(kTile) * w.in);
        for (int64_t o0 = t0; o0 < t1; o0 += kTile) {
            const int o1 = int(std::min<int64_t>(t1, o0 + kTile));
            qmatrix_dequantize_rows(w, int(o0), o1, panel.data());
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, o1 - int(o0), w.in, 1.0f, x, w.in, panel.data(), w.in, 0.0f, y + o0, w.out);
        }
    }, double(n) * w.out * w.in);
    if (bias)
        for (int r = 0; r < n; ++r)
            for (int o = 0; o < w.out; ++o) y[size_t(r) * w.out + o] += bias[o];
}

namespace {
const char* isa_name(Isa isa) {
    switch (isa) {
    case Isa::Avx512Vnni: return "avx512-vnni";
    case Isa::Vnni: return "avx-vnni";
    case Isa::Avx2: return "avx2";
    case Isa::Portable: return "portable";
    }
    return "portable";
}
} // namespace

std::vector<std::string> qmatmul_paths_available() {
    const std::vector<SimdPath> simd = simd_paths_available();
    auto has = [&](SimdPath p) { return std::find(simd.begin(), simd.end(), p) != simd.end(); };
    std::vector<std::string> out{"portable"};
    if (has(SimdPath::Avx2)) out.push_back("avx2");
    if (has(SimdPath::Avx2) && cpu_has_avxvnni()) out.push_back("avx-vnni");
    if (has(SimdPath::Avx512) && cpu_has_avx512vnni()) out.push_back("avx512-vnni");
    return out;
}

void qmatmul_dot_on(const std::string& path, const QMatrix& w, const float* bias, const float* x, int n, float* y) {
    for (Isa isa : {Isa::Portable, Isa::Avx2, Isa::Vnni, Isa::Avx512Vnni})
        if (path == isa_name(isa)) {
            const auto all = qmatmul_paths_available();
            if (std::find(all.begin(), all.end(), path) == all.end()) throw Error("quantized kernel: this CPU has no " + path + " path");
            return dot(isa, w, bias, x, n, y);
        }
    throw Error("quantized kernel: no path named '" + path + "'");
}

std::string qmatmul_isa() {
    const Isa i8 = detect_isa(8), i4 = detect_isa(4);
    if (i8 == i4) return isa_name(i8);
    return std::string("int8 ") + isa_name(i8) + ", int4 " + isa_name(i4) + " (measured)";
}

} // namespace ss
