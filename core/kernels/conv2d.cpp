// conv2d.cpp
#include "kernels/conv2d.h"

#include "error.h"
#include "kernels/window2d.h"
#include "kernels/thread_pool.h"

#include <cblas.h>

#include <cstring>
#include <vector>

namespace ss {

void validate_conv2d(const Conv2dShape& s, int h, int w, const std::string& where) {
    auto refuse = [&](const std::string& field, const std::string& rule) { throw Error(where + ": " + field + " " + rule); };
    if (s.in_channels <= 0 || s.out_channels <= 0) refuse("channels", "must be positive (in " + std::to_string(s.in_channels) + ", out " + std::to_string(s.out_channels) + ")");
    if (s.kernel_h <= 0 || s.kernel_w <= 0) refuse("kernel_shape", "must be positive");
    if (s.stride_h <= 0 || s.stride_w <= 0) refuse("strides", "must be positive");
    if (s.dilation_h <= 0 || s.dilation_w <= 0) refuse("dilations", "must be positive");
    if (s.pad_h < 0 || s.pad_w < 0) refuse("pads", "must not be negative");
    if (s.groups <= 0 || s.in_channels % s.groups || s.out_channels % s.groups)
        refuse("group", std::to_string(s.groups) + " must divide the input channels (" + std::to_string(s.in_channels) + ") and the output channels (" +
                            std::to_string(s.out_channels) + ")");
    if (h <= 0 || w <= 0) refuse("input", "must have a positive height and width");
    if (const std::string misfit = window_misfit(s.kernel_h, s.kernel_w, s.dilation_h, s.dilation_w, s.pad_h, s.pad_w, h, w); !misfit.empty())
        refuse("kernel_shape", misfit);
}

namespace {

// One sample's group g as columns: cols (group_in * kernel_h * kernel_w, oh * ow).
void im2col(const Conv2dShape& s, const float* x, int h, int w, int g, int oh, int ow, float* cols) {
    const int cin = s.group_in();
    for (int c = 0; c < cin; ++c) {
        const float* plane = x + size_t(g * cin + c) * h * w;
        for (int kh = 0; kh < s.kernel_h; ++kh)
            for (int kw = 0; kw < s.kernel_w; ++kw) {
                float* row = cols + (size_t(c * s.kernel_h + kh) * s.kernel_w + kw) * oh * ow;
                for (int i = 0; i < oh; ++i) {
                    const int yy = i * s.stride_h - s.pad_h + kh * s.dilation_h;
                    float* out = row + size_t(i) * ow;
                    if (yy < 0 || yy >= h) {
                        std::memset(out, 0, sizeof(float) * size_t(ow));
                        continue;
                    }
                    const float* in = plane + size_t(yy) * w;
                    for (int j = 0; j < ow; ++j) {
                        const int xx = j * s.stride_w - s.pad_w + kw * s.dilation_w;
                        out[j] = xx >= 0 && xx < w ? in[xx] : 0.0f;
                    }
                }
            }
    }
}

// Depthwise: channel c of the output from channel c of the input (group_in == group_out == 1).
void depthwise(const Conv2dShape& s, const float* weight, const float* bias, const float* x, int h, int w, int oh, int ow, float* y) {
    for (int c = 0; c < s.out_channels; ++c) {
        const float* plane = x + size_t(c) * h * w;
        const float* k = weight + size_t(c) * s.kernel_h * s.kernel_w;
        float* out = y + size_t(c) * oh * ow;
        for (int i = 0; i < oh; ++i)
            for (int j = 0; j < ow; ++j) {
                float acc = 0.0f;
                for (int kh = 0; kh < s.kernel_h; ++kh) {
                    const int yy = i * s.stride_h - s.pad_h + kh * s.dilation_h;
                    if (yy < 0 || yy >= h) continue;
                    for (int kw = 0; kw < s.kernel_w; ++kw) {
                        const int xx = j * s.stride_w - s.pad_w + kw * s.dilation_w;
                        if (xx >= 0 && xx < w) acc += k[kh * s.kernel_w + kw] * plane[size_t(yy) * w + xx];
                    }
                }
                out[size_t(i) * ow + j] = acc + (bias ? bias[c] : 0.0f);
            }
    }
}

} // namespace

void conv2d_forward(const Conv2dShape& s, const float* weight, const float* bias, const float* x, int n, int h, int w, float* y) {
    const int oh = s.out_h(h), ow = s.out_w(w), cin = s.group_in(), cout = s.group_out();
    const int kdim = cin * s.kernel_h * s.kernel_w, pixels = oh * ow;
    const size_t in_size = size_t(s.in_channels) * h * w, out_size = size_t(s.out_channels) * pixels;
    parallel_for(n, 1, [&](int64_t n0, int64_t n1) {
        thread_local std::vector<float> cols;
        for (int64_t b = n0; b < n1; ++b) {
            const float* xb = x + size_t(b) * in_size;
            float* yb = y + size_t(b) * out_size;
            if (cin == 1 && cout == 1) {
                depthwise(s, weight, bias, xb, h, w, oh, ow, yb);
                continue;
            }
            cols.resize(size_t(kdim) * pixels);
            for (int g = 0; g < s.groups; ++g) {
                im2col(s, xb, h, w, g, oh, ow, cols.data());
                float* yg = yb + size_t(g) * cout * pixels;
                for (int o = 0; o < cout; ++o)
                    for (int p = 0; p < pixels; ++p) yg[size_t(o) * pixels + p] = bias ? bias[g * cout + o] : 0.0f;
                // yg (cout, pixels) += W_g (cout, kdim) cols (kdim, pixels)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cout, pixels, kdim, 1.0f, weight + size_t(g) * cout * kdim, kdim, cols.data(), pixels,
                            1.0f, yg, pixels);
            }
        }
    }, double(n) * s.out_channels * pixels * kdim);
}

void conv2d_reference(const Conv2dShape& s, const float* weight, const float* bias, const float* x, int n, int h, int w, float* y) {
    const int oh = s.out_h(h), ow = s.out_w(w), cin = s.group_in(), cout = s.group_out();
    for (int b = 0; b < n; ++b)
        for (int o = 0; o < s.out_channels; ++o) {
            const int g = o / cout;
            for (int i = 0; i < oh; ++i)
                for (int j = 0; j < ow; ++j) {
                    double acc = bias ? bias[o] : 0.0;
                    for (int c = 0; c < cin; ++c)
                        for (int kh = 0; kh < s.kernel_h; ++kh)
                            for (int kw = 0; kw < s.kernel_w; ++kw) {
                                const int yy = i * s.stride_h - s.pad_h + kh * s.dilation_h, xx = j * s.stride_w - s.pad_w + kw * s.dilation_w;
                                if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                                acc += double(weight[((size_t(o) * cin + c) * s.kernel_h + kh) * s.kernel_w + kw]) *
                                       x[((size_t(b) * s.in_channels + g * cin + c) * h + yy) * w + xx];
                            }
                    y[((size_t(b) * s.out_channels + o) * oh + i) * ow + j] = float(acc);
                }
        }
}

} // namespace ss
