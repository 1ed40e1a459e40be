// quantized_weights.h - a weight matrix as stored at low precision, and the fp32 it stands for.
//
// Integer schemes keep one unsigned b-bit code per weight, packed as a little-endian bit stream in
// row-major order (weight k = o * in + i starts at bit k * b), plus per group g of row o:
//   symmetric:  w = (code - 2^(b-1)) * scale[o, g]       code in 1 .. 2^b - 1
//   asymmetric: w = (code - zero[o, g]) * scale[o, g]     code, zero in 0 .. 2^b - 1
// Groups run along the input dimension (group = in for int8 per channel). fp16 / bf16 keep the
// 16-bit patterns. dequantize() computes each weight as float(code - offset) * scale, exactly as
// the export loader does, so round trips are bit for bit.
#pragma once

#include "compress/quant_spec.h"

#include <cstdint>
#include <vector>

namespace ss {

struct QuantizedWeights {
    QuantSpec spec;
    int out = 0, in = 0;
    int group = 0;                // effective group length along `in` (in for per channel)
    std::vector<uint8_t> packed;  // integer codes, ceil(out * in * bits / 8) bytes
    std::vector<float> scale;     // (out, groups); f16 values (quantize_weights rounds them; stored as F16)
    std::vector<uint8_t> zero;    // (out, groups); asymmetric only
    std::vector<uint16_t> half;   // (out, in) fp16 / bf16 bit patterns

    int groups_per_row() const { return group ? (in + group - 1) / group : 0; }
    // What this scheme stores for the matrix: packed codes + scales + zero points, or halves -
    // from the shape, so it is the same for the slim form below.
    int64_t storage_bytes() const;
    uint32_t code(size_t k) const; // integer schemes
    // Slim: an integer scheme whose codes, scales and zero points were handed to an integer kernel
    // (QMatrix, kernels/quant_matmul.h) and live only there; quantized_weights_of() rebuilds them.
    bool slim() const { return spec.is_integer() && packed.empty() && scale.empty(); }
};

// w (out, in) -> its quantized form. The spec must not be None.
QuantizedWeights quantize_weights(const float* w, int out, int in, const QuantSpec& spec);
// -> (out, in) fp32
std::vector<float> dequantize_weights(const QuantizedWeights& q);

// Packs / unpacks b-bit codes (b in 1..8) as described above.
void pack_codes(const std::vector<uint32_t>& codes, int bits, std::vector<uint8_t>& out);
uint32_t unpack_code(const uint8_t* packed, size_t k, int bits);

// fp32 -> fp16 / bf16 with round-to-nearest-even (NaN stays NaN, overflow goes to infinity).
uint16_t f32_to_f16(float f);
uint16_t f32_to_bf16(float f);

} // namespace ss
