// pool2d.h - 2-D pooling over (N, C, H, W) activations, as PyTorch computes it:
//   max:     nn.MaxPool2d(kernel, stride, padding, dilation)   padding never wins (-inf)
//   average: nn.AvgPool2d(kernel, stride, padding)             divisor: the kernel's size, padding
//            included (count_include_pad=True, PyTorch's and ONNX's AveragePool default when set),
//            or only the inputs inside the image (count_include_pad=False)
//   global average: nn.AdaptiveAvgPool2d(1) / ONNX GlobalAveragePool, (N, C, H, W) -> (N, C, 1, 1)
// Output sizes floor as PyTorch's default (ceil_mode=False): (h + 2 pad - dilation (k - 1) - 1) / stride + 1.
#pragma once

#include "kernels/window2d.h"

#include <string>

namespace ss {

struct Pool2dShape {
    int kernel_h = 1, kernel_w = 1;
    int stride_h = 1, stride_w = 1;
    int pad_h = 0, pad_w = 0;
    int dilation_h = 1, dilation_w = 1; // max pooling only
    bool count_include_pad = true;      // average pooling only

    int out_h(int h) const { return window_out(h, kernel_h, stride_h, pad_h, dilation_h); }
    int out_w(int w) const { return window_out(w, kernel_w, stride_w, pad_w, dilation_w); }
};

// Throws ss::Error naming `where`, the field and the rule: non-positive kernel, stride or
// dilation, padding negative or not smaller than the window (a window in padding alone), or a
// window larger than the padded input.
void validate_pool2d(const Pool2dShape& s, int h, int w, const std::string& where);

// x (n, channels, h, w) -> y (n, channels, out_h(h), out_w(w)).
void max_pool2d(const Pool2dShape& s, const float* x, int n, int channels, int h, int w, float* y);
void avg_pool2d(const Pool2dShape& s, const float* x, int n, int channels, int h, int w, float* y);
// x (n, channels, h, w) -> y (n, channels): each plane's mean.
void global_avg_pool2d(const float* x, int n, int channels, int h, int w, float* y);

} // namespace ss
