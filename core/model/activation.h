// activation.h - elementwise activations, in place over n floats.
#pragma once

#include "model/model.h"

#include <cstddef>

namespace ss {

// x (n) -> act(x) (n), in place. gelu is the exact erf form: 0.5 x (1 + erf(x / sqrt 2)), computed
// by gelu.h to within a few ulp.
// negative_slope is used by leaky_relu only.
void apply_activation(Activation a, float* x, size_t n, float negative_slope = 0.01f);

// d act / dx at x, times dy, written to dx (n). Used by the trainer.
void activation_backward(Activation a, const float* x, const float* dy, float* dx, size_t n, float negative_slope = 0.01f);

} // namespace ss
