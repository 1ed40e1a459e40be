// layer_norm.h - layer normalization over the last dimension.
#pragma once

#include "model/model.h"

namespace ss {

// x (n, dim) -> y (n, dim): (x - mean) / sqrt(var + eps) * weight + bias, biased variance,
// accumulated in double. y may alias x.
void layer_norm_forward(const LayerNormLayer& ln, const float* x, int n, float* y);

// Gradients: dy (n, dim) at input x -> dx (n, dim); adds to g.weight and g.bias.
void layer_norm_backward(const LayerNormLayer& ln, const float* x, const float* dy, int n, LayerNormLayer& g, float* dx);

} // namespace ss
