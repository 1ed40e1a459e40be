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

// l.weight (out, in) -> q (out, in) and scale (out).
Int8Weights quantize_int8_per_channel(const LinearWeights& l);
std::vector<float> dequantize_int8(const Int8Weights& q, int out, int in); // -> (out, in)

// Replaces every compressible weight matrix of `model` by its int8 round trip (fp32 values that
// are exactly float(q) * scale), keeps the int8 form in LinearWeights::int8, and marks the model
// WeightFormat::Int8PerChannel. A model that already is int8 is left as it is.
void quantize_model_int8(Model& model);

} // namespace ss
