// pool2d.cpp
#include "kernels/pool2d.h"

#include "error.h"
#include "kernels/window2d.h"

#include <algorithm>
#include <limits>

namespace ss {

void validate_pool2d(const Pool2dShape& s, int h, int w, const std::string& where) {
    auto refuse = [&](const std::string& field, const std::string& rule) { throw Error(where + ": " + field + " " + rule); };
    if (s.kernel_h <= 0 || s.kernel_w <= 0) refuse("kernel_shape", "must be positive");
    if (s.stride_h <= 0 || s.stride_w <= 0) refuse("strides", "must be positive");
    if (s.dilation_h <= 0 || s.dilation_w <= 0) refuse("dilations", "must be positive");
    if (s.pad_h < 0 || s.pad_w < 0) refuse("pads", "must not be negative");
    // Every window must reach into the image (else a max has no input and an average no count):
    // padding smaller than the window's extent. (PyTorch asks for at most half the kernel; ONNX
    // allows more, e.g. its node test maxpool_2d_pads.)
    if (s.pad_h > (s.kernel_h - 1) * s.dilation_h || s.pad_w > (s.kernel_w - 1) * s.dilation_w)
        refuse("pads", "must be smaller than the window ((kernel - 1) * dilation + 1)");
    if (h <= 0 || w <= 0) refuse("input", "must have a positive height and width");
    if (const std::string misfit = window_misfit(s.kernel_h, s.kernel_w, s.dilation_h, s.dilation_w, s.pad_h, s.pad_w, h, w); !misfit.empty())
        refuse("kernel_shape", misfit);
}

void max_pool2d(const Pool2dShape& s, const float* x, int n, int channels, int h, int w, float* y) {
    const int oh = s.out_h(h), ow = s.out_w(w);
    for (int64_t p = 0; p < int64_t(n) * channels; ++p) {
        const float* plane = x + size_t(p) * h * w;
        float* out = y + size_t(p) * oh * ow;
        for (int i = 0; i < oh; ++i)
            for (int j = 0; j < ow; ++j) {
                float m = -std::numeric_limits<float>::infinity();
                for (int kh = 0; kh < s.kernel_h; ++kh) {
                    const int yy = i * s.stride_h - s.pad_h + kh * s.dilation_h;
                    if (yy < 0 || yy >= h) continue;
                    for (int kw = 0; kw < s.kernel_w; ++kw) {
                        const int xx = j * s.stride_w - s.pad_w + kw * s.dilation_w;
                        if (xx >= 0 && xx < w) m = std::max(m, plane[size_t(yy) * w + xx]);
                    }
                }
                out[size_t(i) * ow + j] = m;
            }
    }
}

void avg_pool2d(const Pool2dShape& s, const float* x, int n, int channels, int h, int w, float* y) {
    if (s.dilation_h != 1 || s.dilation_w != 1) throw Error("average pooling: dilations must be 1 (PyTorch's and ONNX's AveragePool have none)");
    const int oh = s.out_h(h), ow = s.out_w(w);
    for (int64_t p = 0; p < int64_t(n) * channels; ++p) {
        const float* plane = x + size_t(p) * h * w;
        float* out = y + size_t(p) * oh * ow;
        for (int i = 0; i < oh; ++i)
            for (int j = 0; j < ow; ++j) {
                float sum = 0.0f;
                int inside = 0;
                for (int kh = 0; kh < s.kernel_h; ++kh) {
                    const int yy = i * s.stride_h - s.pad_h + kh;
                    if (yy < 0 || yy >= h) continue;
                    for (int kw = 0; kw < s.kernel_w; ++kw) {
                        const int xx = j * s.stride_w - s.pad_w + kw;
                        if (xx < 0 || xx >= w) continue;
                        sum += plane[size_t(yy) * w + xx];
                        ++inside;
                    }
                }
                // PyTorch's divisor with count_include_pad: the window clipped to the padded input.
                int div = inside;
                if (s.count_include_pad) {
                    const int y0 = i * s.stride_h - s.pad_h, x0 = j * s.stride_w - s.pad_w;
                    const int y1 = std::min(y0 + s.kernel_h, h + s.pad_h), x1 = std::min(x0 + s.kernel_w, w + s.pad_w);
                    div = (y1 - y0) * (x1 - x0);
                }
                out[size_t(i) * ow + j] = sum / float(div);
            }
    }
}

void global_avg_pool2d(const float* x, int n, int channels, int h, int w, float* y) {
    const size_t hw = size_t(h) * w;
    for (int64_t p = 0; p < int64_t(n) * channels; ++p) {
        const float* plane = x + size_t(p) * hw;
        double sum = 0.0;
        for (size_t k = 0; k < hw; ++k) sum += plane[k];
        y[p] = float(sum / double(hw));
    }
}

} // namespace ss
