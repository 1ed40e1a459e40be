// conv2d.h - 2-D convolution over (N, C, H, W) activations, as PyTorch's nn.Conv2d computes it:
// stride, zero padding, dilation and groups (depthwise: groups == in_channels).
//
//   y[n, o, i, j] = bias[o] + sum over c in o's group, kh, kw of
//                   w[o, c - group start, kh, kw] * x[n, c, i * stride_h - pad_h + kh * dilation_h,
//                                                          j * stride_w - pad_w + kw * dilation_w]
// (inputs outside the image are zero). Layouts are row-major: weight (out_channels,
// in_channels / groups, kernel_h, kernel_w), x (n, in_channels, h, w), y (n, out_channels, oh, ow).
//
// conv2d_forward: per sample and group, the receptive fields are copied into a column matrix
// (im2col: (in_channels / groups * kernel_h * kernel_w, oh * ow)) and multiplied by OpenBLAS sgemm;
// a depthwise convolution (one input and one output channel per group) runs direct loops instead,
// where sgemm would get one row. Samples are split over the threads.
#pragma once

#include "kernels/window2d.h"

#include <string>

namespace ss {

struct Conv2dShape {
    int in_channels = 0, out_channels = 0;
    int kernel_h = 1, kernel_w = 1;
    int stride_h = 1, stride_w = 1;
    int pad_h = 0, pad_w = 0;
    int dilation_h = 1, dilation_w = 1;
    int groups = 1;

    int out_h(int h) const { return window_out(h, kernel_h, stride_h, pad_h, dilation_h); }
    int out_w(int w) const { return window_out(w, kernel_w, stride_w, pad_w, dilation_w); }
    int group_in() const { return in_channels / groups; }   // input channels per group
    int group_out() const { return out_channels / groups; } // output channels per group
    long long weight_count() const { return (long long)out_channels * group_in() * kernel_h * kernel_w; }
};

// Throws ss::Error naming `where`, the field and the rule when the shape cannot run on an h x w
// input: non-positive sizes, strides or dilations, negative padding, channels not divisible by
// groups, or a (dilated) kernel larger than the padded input.
void validate_conv2d(const Conv2dShape& s, int h, int w, const std::string& where);

// x (n, in_channels, h, w) -> y (n, out_channels, out_h(h), out_w(w)); bias may be null.
// The shape must have passed validate_conv2d for h x w.
void conv2d_forward(const Conv2dShape& s, const float* weight, const float* bias, const float* x, int n, int h, int w, float* y);

// The plain reference: the definition above, summed in double.
void conv2d_reference(const Conv2dShape& s, const float* weight, const float* bias, const float* x, int n, int h, int w, float* y);

} // namespace ss
