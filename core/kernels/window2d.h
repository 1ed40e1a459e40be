// window2d.h - the sliding window convolution and pooling share: its output size, and the check
// that a (dilated) window fits the padded input.
#pragma once

#include <string>

namespace ss {

// Output positions along one axis, floored as PyTorch's default (ceil_mode=False).
inline int window_out(int size, int kernel, int stride, int pad, int dilation) { return (size + 2 * pad - dilation * (kernel - 1) - 1) / stride + 1; }

// "" when a kernel_h x kernel_w window, dilated, fits an h x w input padded by pad_h, pad_w;
// otherwise the rule it breaks, for an error message about the kernel_shape field.
inline std::string window_misfit(int kernel_h, int kernel_w, int dilation_h, int dilation_w, int pad_h, int pad_w, int h, int w) {
    if (dilation_h * (kernel_h - 1) + 1 <= h + 2 * pad_h && dilation_w * (kernel_w - 1) + 1 <= w + 2 * pad_w) return {};
    std::string rule = std::to_string(kernel_h);
    rule += " x " + std::to_string(kernel_w) + " (dilated) is larger than the padded input (";
    rule += std::to_string(h + 2 * pad_h) + " x " + std::to_string(w + 2 * pad_w) + ")";
    return rule;
}

} // namespace ss
