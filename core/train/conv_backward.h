// conv_backward.h - gradients of the conv-net layers (recovery fine-tuning of conv nets).
#pragma once

#include "model/conv_net.h"
#include "model/model.h"

namespace ss {

// x (n, C, H, W): the layer's input with shape `in`; dy (n, O, oh, ow). Adds dL/dW and dL/db to
// g.w (the gradient model's layer); dx (n, C, H, W) = dL/dx when not null. groups == 1 only
// (throws ss::Error naming the layer otherwise): the patches (im2col) times dy, and dy times W
// scattered back (col2im).
void conv2d_backward(const Conv2dLayer& c, const ActivationShape& in, const float* x, const float* dy, int n, Conv2dLayer& g, float* dx);

// Pooling and flatten: dx (n, C, H, W) from dy. Max pooling sends each output's gradient to the
// input it took (the first of equal maxima, as the forward pass keeps it).
void spatial_backward(const SpatialLayer& s, const ActivationShape& in, const float* x, const float* dy, int n, float* dx);

} // namespace ss
