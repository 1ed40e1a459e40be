// quantize_int8.h - int8 per-output-channel symmetric round-to-nearest quantization.
//
// For each output row o of W (out, in): scale_o = max_i |W[o, i]| / 127 and
// q[o, i] = clamp(round(W[o, i] / scale_o), -127, 127). A zero row gets scale 0 and q = 0.
// Dequantized w' = q * scale_o satisfies |w - w'| <= scale_o / 2.
#pragma once

#include "model.h"

#include <cstdint>
#include <vector>

namespace ss {

struct QuantizedInt8 {
    int out = 0, in = 0;
    std::vector<int8_t> q;      // (out, in) row-major
    std::vector<float> scale;   // (out)
};

QuantizedInt8 quantize_int8_per_channel(const LinearWeights& l);
void dequantize_int8(const QuantizedInt8& q, std::vector<float>& weight); // -> (out, in)

// Replaces every compressible weight matrix of `model` by its int8 round trip (fp32 values that
// are exactly q * scale), so a forward pass computes what an int8 model computes.
void quantize_model_int8(Model& model);

} // namespace ss
