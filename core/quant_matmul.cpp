// quant_matmul.cpp
#include "quant_matmul.h"

#include "error.h"
#include "thread_pool.h"

#include <cblas.h>
#include <immintrin.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace ss {

namespace {

constexpr int kB = QMatrix::kBlock;

// Activations quantized per block of 32: codes (n, blocks * 32), scales dx (n, blocks), and per
// group xs = sum over its blocks of dx * sum(codes) (n, groups), for the zero-point term.
struct QuantizedActs {
    int blocks = 0, groups = 0;
    std::vector<int8_t> q;
    std::vector<float> d, s;
    std::vector<int32_t> z; // (n, blocks, 8): default_zero * (sum of xq over inputs 4l .. 4l + 3)
    const int8_t* xq(int r) const { return q.data() + size_t(r) * blocks * kB; }
    const int32_t* zx(int r) const { return z.data() + size_t(r) * blocks * 8; }
    const float* dx(int r) const { return d.data() + size_t(r) * blocks; }
    const float* xs(int r) const { return s.data() + size_t(r) * groups; }
};

void quantize_acts(const QMatrix& w, const float* x, int n, QuantizedActs& a) {
    a.blocks = w.blocks;
    a.groups = w.groups;
    a.q.assign(size_t(n) * w.blocks * kB, 0);
    a.d.assign(size_t(n) * w.blocks, 0.0f);
    a.s.assign(size_t(n) * w.groups, 0.0f);
    a.z.assign(w.default_zero ? size_t(n) * w.blocks * 8 : 0, 0);
    for (int r = 0; r < n; ++r) {
        const float* xr = x + size_t(r) * w.in;
        int8_t* q = a.q.data() + size_t(r) * w.blocks * kB;
        float* dx = a.d.data() + size_t(r) * w.blocks;
        float* xs = a.s.data() + size_t(r) * w.groups;
        for (int b = 0; b < w.blocks; ++b) {
            const int i0 = b * kB, i1 = std::min(w.in, i0 + kB);
            float amax = 0.0f;
            for (int i = i0; i < i1; ++i) amax = std::max(amax, std::fabs(xr[i]));
            if (amax == 0.0f) continue; // codes and scale stay 0
            dx[b] = amax / 127.0f;
            const float inv = 127.0f / amax;
            int sum = 0;
            for (int i = i0; i < i1; ++i) {
                const int v = int(std::clamp(std::nearbyint(xr[i] * inv), -127.0f, 127.0f));
                q[i] = int8_t(v);
                sum += v;
            }
            const int g = b / w.group_blocks;
            xs[g] = std::fma(dx[b], float(sum), xs[g]);
            if (w.default_zero)
                for (int l = 0; l < 8; ++l) {
                    int32_t& zl = a.z[(size_t(r) * w.blocks + b) * 8 + l];
                    for (int j = 4 * l; j < 4 * l + 4; ++j) zl += q[i0 + j];
                    zl *= w.default_zero;
                }
        }
    }
}

// The 8 lane sums in one fixed order, minus the per-group zero-point terms, plus the bias.
float finish_row(const QMatrix& w, const QuantizedActs& a, int r, int o, const float* lanes, const float* bias) {
    float corr = 0.0f;
    if (!w.zero.empty())
        for (int g = 0; g < w.groups; ++g)
            corr = std::fma(w.scale[size_t(o) * w.groups + g] * float(w.zero[size_t(o) * w.groups + g]), a.xs(r)[g], corr);
    const float sum = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
    return (sum - corr) + (bias ? bias[o] : 0.0f);
}

// Code of weight j (0..31) of block `blk`, as the integer the kernels multiply.
inline int block_code(const QMatrix& w, const uint8_t* blk, int j) {
    if (w.layout_bits == 8) return int(int8_t(blk[j]));
    return j < 16 ? int(blk[j] & 0x0f) : int(blk[j - 16] >> 4);
}

template <int NR>
void rows_portable(const QMatrix& w, const QuantizedActs& a, int r0, const float* bias, float* y, int o0, int o1) {
    const int bb = w.block_bytes();
    for (int o = o0; o < o1; ++o) {
        const uint8_t* codes = w.codes.data() + size_t(o) * w.blocks * bb;
        for (int r = 0; r < NR; ++r) {
            float acc[2][8] = {};
            const int8_t* xq = a.xq(r0 + r);
            for (int b = 0; b < w.blocks; ++b) {
                const float s = w.scale[size_t(o) * w.groups + (b >> w.group_shift)];
                const uint8_t* blk = codes + size_t(b) * bb;
                for (int l = 0; l < 8; ++l) {
                    int d = w.default_zero ? -a.zx(r0 + r)[size_t(b) * 8 + l] : 0;
                    for (int j = 4 * l; j < 4 * l + 4; ++j) d += block_code(w, blk, j) * int(xq[size_t(b) * kB + j]);
                    acc[b & 1][l] = std::fma(float(d), a.dx(r0 + r)[b] * s, acc[b & 1][l]);
                }
            }
            float lanes[8];
            for (int l = 0; l < 8; ++l) lanes[l] = acc[0][l] + acc[1][l];
            y[size_t(r0 + r) * w.out + o] = finish_row(w, a, r0 + r, o, lanes, bias);
        }
    }
}

} // namespace

#define QK_NS avx2_kernel
#define QK_TARGET __attribute__((target("avx2,fma")))
#define QK_DOT(d, u, s) d = _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), ones)
namespace {
#include "quant_matmul_x86.inc"
}
#undef QK_NS
#undef QK_TARGET
#undef QK_DOT

#define QK_NS vnni_kernel
#define QK_TARGET __attribute__((target("avx2,fma,avxvnni")))
#define QK_DOT(d, u, s) d = _mm256_dpbusd_avx_epi32(d, u, s)
namespace {
#include "quant_matmul_x86.inc"
}
#undef QK_NS
#undef QK_TARGET
#undef QK_DOT

namespace {

enum class Isa { Portable, Avx2, Vnni };

Isa detect_isa() {
    static const Isa isa = [] {
        if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) return Isa::Portable;
        return __builtin_cpu_supports("avxvnni") ? Isa::Vnni : Isa::Avx2;
    }();
    return isa;
}

template <int NR, bool Four, bool Z0>
void rows_x86(Isa isa, const QMatrix& w, const QuantizedActs& a, int r0, const float* bias, float* y, int o0, int o1) {
    if (isa == Isa::Vnni) vnni_kernel::rows<NR, Four, Z0>(w, a, r0, bias, y, o0, o1);
    else avx2_kernel::rows<NR, Four, Z0>(w, a, r0, bias, y, o0, o1);
}

template <int NR>
void rows_isa(Isa isa, const QMatrix& w, const QuantizedActs& a, int r0, const float* bias, float* y, int o0, int o1) {
    if (isa == Isa::Portable) return rows_portable<NR>(w, a, r0, bias, y, o0, o1);
    const bool four = w.layout_bits == 4, z0 = w.default_zero != 0;
    if (four && z0) rows_x86<NR, true, true>(isa, w, a, r0, bias, y, o0, o1);
    else if (four) rows_x86<NR, true, false>(isa, w, a, r0, bias, y, o0, o1);
    else if (z0) rows_x86<NR, false, true>(isa, w, a, r0, bias, y, o0, o1);
    else rows_x86<NR, false, false>(isa, w, a, r0, bias, y, o0, o1);
}

void dot(Isa isa, const QMatrix& w, const float* bias, const float* x, int n, float* y) {
    thread_local QuantizedActs acts;
    quantize_acts(w, x, n, acts);
    const QuantizedActs& a = acts;
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
    });
}

} // namespace

bool qmatrix_supports(const QuantizedWeights& q) {
    if (!q.half.empty() || !q.spec.is_integer() || q.out <= 0 || q.in <= 0) return false;
    return q.group == q.in || (q.group % kB == 0 && std::has_single_bit(unsigned(q.group / kB)));
}

QMatrix qmatrix_from(const QuantizedWeights& q) {
    if (!qmatrix_supports(q)) throw Error("quantized kernel: scheme " + q.spec.label() + " has no integer kernel");
    QMatrix w;
    w.out = q.out;
    w.in = q.in;
    const int bits = q.spec.bits();
    w.layout_bits = bits == 4 ? 4 : 8;
    w.blocks = (q.in + kB - 1) / kB;
    w.group_blocks = q.group == q.in ? w.blocks : q.group / kB;
    w.groups = (w.blocks + w.group_blocks - 1) / w.group_blocks;
    w.group_shift = q.group == q.in ? 30 : std::countr_zero(unsigned(w.group_blocks)); // one group, or 1, 2, 4 blocks
    if (w.groups != q.groups_per_row()) throw Error("quantized kernel: group layout mismatch"); // cannot happen for valid q
    w.scale = q.scale;
    const int offset = 1 << (bits - 1);
    // Stored code and zero point: layout 8 shifts int8 down by 128 so both fit in int8 (the
    // difference, and so every weight, is unchanged); symmetric schemes fold the offset in.
    const int shift = bits == 8 ? 128 : 0;
    if (q.spec.asym) {
        w.zero.resize(q.zero.size());
        for (size_t k = 0; k < q.zero.size(); ++k) w.zero[k] = int8_t(int(q.zero[k]) - shift);
    } else {
        w.default_zero = w.layout_bits == 4 ? offset : 0;
    }
    const int bb = w.block_bytes();
    w.codes.assign(size_t(w.out) * w.blocks * bb, 0);
    for (int o = 0; o < w.out; ++o)
        for (int b = 0; b < w.blocks; ++b) {
            uint8_t* blk = w.codes.data() + (size_t(o) * w.blocks + b) * bb;
            const int pad = w.zero_at(o, b / w.group_blocks); // padding encodes a zero weight
            for (int j = 0; j < kB; ++j) {
                const int i = b * kB + j;
                int c;
                if (i >= q.in) c = pad;
                else if (q.spec.asym) c = int(q.code(size_t(o) * q.in + i)) - shift;
                else c = int(q.code(size_t(o) * q.in + i)) - (w.layout_bits == 4 ? 0 : offset);
                if (w.layout_bits == 8) blk[j] = uint8_t(int8_t(c));
                else if (j < 16) blk[j] = uint8_t(c);
                else blk[j - 16] = uint8_t(blk[j - 16] | (c << 4));
            }
        }
    return w;
}

void qmatrix_dequantize_rows(const QMatrix& w, int o0, int o1, float* out) {
    const int bb = w.block_bytes();
    for (int o = o0; o < o1; ++o) {
        float* wr = out + size_t(o - o0) * w.in;
        const uint8_t* codes = w.codes.data() + size_t(o) * w.blocks * bb;
        for (int b = 0; b < w.blocks; ++b) {
            const int g = b / w.group_blocks, z = w.zero_at(o, g);
            const float s = w.scale[size_t(o) * w.groups + g];
            const int i0 = b * kB, n = std::min(kB, w.in - i0);
            for (int j = 0; j < n; ++j) wr[i0 + j] = float(block_code(w, codes + size_t(b) * bb, j) - z) * s;
        }
    }
}

void qmatmul_dot(const QMatrix& w, const float* bias, const float* x, int n, float* y) { dot(detect_isa(), w, bias, x, n, y); }

void qmatmul_dot_portable(const QMatrix& w, const float* bias, const float* x, int n, float* y) { dot(Isa::Portable, w, bias, x, n, y); }

void qmatmul_dot_reference(const QMatrix& w, const float* bias, const float* x, int n, float* y) {
    QuantizedActs a;
    quantize_acts(w, x, n, a);
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
                acc += double(w.scale[size_t(o) * w.groups + g]) * a.dx(r)[b] * double(d - int64_t(w.zero_at(o, g)) * sx);
            }
            y[size_t(r) * w.out + o] = float(acc);
        }
}

void qmatmul_tiles(const QMatrix& w, const float* bias, const float* x, int n, float* y) {
    // Tiles of 64 rows (64 x in fp32: 200 KiB at in = 784) dequantized into a panel, each multiplied
    // by one sgemm, which uses OpenBLAS's threads.
    constexpr int kTile = 64;
    thread_local std::vector<float> panel;
    panel.resize(size_t(kTile) * w.in);
    for (int o0 = 0; o0 < w.out; o0 += kTile) {
        const int o1 = std::min(w.out, o0 + kTile);
        qmatrix_dequantize_rows(w, o0, o1, panel.data());
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, o1 - o0, w.in, 1.0f, x, w.in, panel.data(), w.in, 0.0f, y + o0, w.out);
    }
    if (bias)
        for (int r = 0; r < n; ++r)
            for (int o = 0; o < w.out; ++o) y[size_t(r) * w.out + o] += bias[o];
}

const char* qmatmul_isa() {
    switch (detect_isa()) {
    case Isa::Vnni: return "avx-vnni";
    case Isa::Avx2: return "avx2";
    case Isa::Portable: return "portable";
    }
    return "portable";
}

} // namespace ss
