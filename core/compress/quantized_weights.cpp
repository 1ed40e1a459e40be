// quantized_weights.cpp
#include "compress/quantized_weights.h"

#include "error.h"
#include "formats/safetensors.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace ss {

uint16_t f32_to_f16(float f) {
    const uint32_t x = std::bit_cast<uint32_t>(f);
    const uint32_t sign = (x >> 16) & 0x8000u;
    const uint32_t mag = x & 0x7fffffffu;
    if (mag > 0x7f800000u) return uint16_t(sign | 0x7e00u); // NaN
    if (mag >= 0x477ff000u) return uint16_t(sign | 0x7c00u); // >= 65520 rounds to infinity
    const int e = int(mag >> 23);
    uint32_t r, rem, halfway;
    if (e < 113) { // below 2^-14: a half subnormal, in units of 2^-24
        if (e < 102) return uint16_t(sign); // below 2^-25: rounds to zero
        const uint32_t m = (mag & 0x7fffffu) | 0x800000u;
        const int shift = 126 - e;
        r = m >> shift;
        rem = m & ((1u << shift) - 1);
        halfway = 1u << (shift - 1);
    } else {
        r = uint32_t(e - 127 + 15) << 10 | (mag & 0x7fffffu) >> 13;
        rem = mag & 0x1fffu;
        halfway = 0x1000u;
    }
    if (rem > halfway || (rem == halfway && (r & 1u))) ++r; // ties to even; a carry moves the exponent
    return uint16_t(sign | r);
}

uint16_t f32_to_bf16(float f) {
    const uint32_t x = std::bit_cast<uint32_t>(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return uint16_t((x >> 16) | 0x40u); // quiet NaN
    return uint16_t((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

void pack_codes(const std::vector<uint32_t>& codes, int bits, std::vector<uint8_t>& out) {
    out.assign((codes.size() * size_t(bits) + 7) / 8, 0);
    size_t bit = 0;
    for (uint32_t c : codes) {
        for (int b = 0; b < bits; ++b, ++bit)
            if (c >> b & 1u) out[bit >> 3] |= uint8_t(1u << (bit & 7));
    }
}

namespace {
// Sets code k (b bits, into zeroed storage) of the bit stream pack_codes writes.
inline void put_code(uint8_t* packed, size_t k, int bits, uint32_t c) {
    if (bits == 8) {
        packed[k] = uint8_t(c);
        return;
    }
    size_t bit = k * size_t(bits);
    for (int b = 0; b < bits; ++b, ++bit)
        if (c >> b & 1u) packed[bit >> 3] |= uint8_t(1u << (bit & 7));
}
} // namespace

uint32_t unpack_code(const uint8_t* packed, size_t k, int bits) {
    if (bits == 8) return packed[k];
    uint32_t c = 0;
    size_t bit = k * size_t(bits);
    for (int b = 0; b < bits; ++b, ++bit) c |= uint32_t(packed[bit >> 3] >> (bit & 7) & 1u) << b;
    return c;
}

uint32_t QuantizedWeights::code(size_t k) const { return unpack_code(packed.data(), k, spec.bits()); }

int64_t QuantizedWeights::storage_bytes() const {
    const int64_t n = int64_t(out) * in;
    if (!spec.is_integer()) return n * 2; // fp16 / bf16
    const int64_t groups = int64_t(out) * groups_per_row();
    return (n * spec.bits() + 7) / 8 + groups * 2 + (spec.asym ? groups : 0); // f16 scales
}

namespace {
// The f16 value nearest to s (scales are stored as f16, as ggml's blocks keep them). A scale
// too large for f16 (a weight above 65504 times 2^(bits-1) - 1 in size) is refused rather than
// turned into infinity.
float f16_scale(float s) {
    const float h = f16_to_f32(f32_to_f16(s));
    if (!std::isfinite(h)) throw Error("quantize: a group's largest weight (scale " + std::to_string(s) + ") exceeds what an f16 scale holds (65504)");
    return h;
}
} // namespace

QuantizedWeights quantize_weights(const float* w, int out, int in, const QuantSpec& spec) {
    QuantizedWeights q;
    q.spec = spec;
    q.out = out;
    q.in = in;
    const size_t n = size_t(out) * in;
    if (spec.scheme == QuantScheme::F16 || spec.scheme == QuantScheme::BF16) {
        q.half.resize(n);
        for (size_t k = 0; k < n; ++k) q.half[k] = spec.scheme == QuantScheme::F16 ? f32_to_f16(w[k]) : f32_to_bf16(w[k]);
        return q;
    }
    if (!spec.is_integer()) throw Error("quantize: scheme 'none' has no stored form");
    const int bits = spec.bits();
    q.group = spec.group ? spec.group : in;
    const int groups = q.groups_per_row();
    q.scale.assign(size_t(out) * groups, 0.0f);
    if (spec.asym) q.zero.assign(size_t(out) * groups, 0);
    // Codes go straight into the packed stream: no (out, in) array of 32-bit codes on the way.
    q.packed.assign((n * size_t(bits) + 7) / 8, 0);
    uint8_t* packed = q.packed.data();
    const int qmax_sym = (1 << (bits - 1)) - 1; // e.g. 127, 7, 3, 1
    const uint32_t offset = 1u << (bits - 1);
    const int levels = (1 << bits) - 1;         // asymmetric codes 0 .. levels
    for (int o = 0; o < out; ++o)
        for (int g = 0; g < groups; ++g) {
            const int i0 = g * q.group, i1 = std::min(in, i0 + q.group);
            const float* wr = w + size_t(o) * in;
            float& scale = q.scale[size_t(o) * groups + g];
            if (!spec.asym) {
                float amax = 0.0f;
                for (int i = i0; i < i1; ++i) amax = std::max(amax, std::fabs(wr[i]));
                scale = f16_scale(amax / float(qmax_sym)); // codes are rounded on the stored scale's grid
                for (int i = i0; i < i1; ++i) {
                    const float v = scale > 0.0f ? std::clamp(std::nearbyint(wr[i] / scale), float(-qmax_sym), float(qmax_sym)) : 0.0f;
                    put_code(packed, size_t(o) * in + i, bits, uint32_t(int(v) + int(offset)));
                }
            } else {
                // The range always holds 0, so zero (e.g. a pruned weight) stays exactly zero.
                float lo = 0.0f, hi = 0.0f;
                for (int i = i0; i < i1; ++i) {
                    lo = std::min(lo, wr[i]);
                    hi = std::max(hi, wr[i]);
                }
                scale = f16_scale((hi - lo) / float(levels));
                const float zero = scale > 0.0f ? std::clamp(std::nearbyint(-lo / scale), 0.0f, float(levels)) : 0.0f;
                q.zero[size_t(o) * groups + g] = uint8_t(zero);
                for (int i = i0; i < i1; ++i) {
                    const float v = scale > 0.0f ? std::clamp(std::nearbyint(wr[i] / scale) + zero, 0.0f, float(levels)) : zero;
                    put_code(packed, size_t(o) * in + i, bits, uint32_t(v));
                }
            }
        }
    return q;
}

std::vector<float> dequantize_weights(const QuantizedWeights& q) {
    const size_t n = size_t(q.out) * q.in;
    std::vector<float> w(n);
    if (!q.half.empty()) {
        for (size_t k = 0; k < n; ++k) w[k] = q.spec.scheme == QuantScheme::F16 ? f16_to_f32(q.half[k]) : bf16_to_f32(q.half[k]);
        return w;
    }
    const int bits = q.spec.bits(), groups = q.groups_per_row();
    const int offset = 1 << (bits - 1);
    for (int o = 0; o < q.out; ++o)
        for (int i = 0; i < q.in; ++i) {
            const size_t k = size_t(o) * q.in + i;
            const size_t g = size_t(o) * groups + size_t(i / q.group);
            const int z = q.spec.asym ? int(q.zero[g]) : offset;
            w[k] = float(int(q.code(k)) - z) * q.scale[g];
        }
    return w;
}

} // namespace ss
