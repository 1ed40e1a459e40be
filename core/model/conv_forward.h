// conv_forward.h - the forward pass of the conv-net layers over (N, C, H, W) activations.
#pragma once

#include "model/conv_net.h"
#include "model/model.h"

#include <vector>

namespace ss {

struct ForwardObserver; // forward.h

// Scratch reused across calls: im2col patches and the matrix product before it is transposed.
struct ConvScratch {
    std::vector<float> patches; // (rows, in_channels * kh * kw)
    std::vector<float> product; // (rows, out_channels)
};

// Rows of receptive fields of `count` samples x (count, C, h, w): patches (count * oh * ow,
// C * kh * kw), column c * kh * kw + i * kw + j - the weight's (O, C, kh, kw) flattening. groups == 1.
void im2col_rows(const Conv2dShape& s, const float* x, int count, int h, int w, float* patches);
// The adjoint: dx (count, C, h, w) += each patch row's values added back where they were read.
void col2im_rows_add(const Conv2dShape& s, const float* patches, int count, int h, int w, float* dx);

// x (n, C, H, W) with `in` -> y (n, out_channels, oh, ow). groups == 1: the receptive fields as
// rows (im2col, (oh * ow, C * kh * kw) per sample, several samples per product) through
// linear_forward, so the plan's sparse or integer kernel runs the convolution; the observer sees
// those rows as the matrix's input (calibration, Wanda). groups > 1 (depthwise included):
// conv2d_forward on the matrix's fp32 values.
void conv2d_layer_forward(const Conv2dLayer& c, const ActivationShape& in, const float* x, int n, float* y, ConvScratch& scratch,
                          ForwardObserver* observer);

// Per-channel affine: y = (x - mean) / sqrt(var + eps) * weight + bias, over (n, channels, h * w).
void batchnorm2d_forward(const BatchNorm2dLayer& bn, const ActivationShape& in, const float* x, int n, float* y);

// Pooling or flattening (a flatten copies: the layout is already (n, C * H * W)).
void spatial_forward(const SpatialLayer& s, const ActivationShape& in, const float* x, int n, float* y);

} // namespace ss
