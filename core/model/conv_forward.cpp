// conv_forward.cpp
#include "model/conv_forward.h"

#include "kernels/dense_linear.h"
#include "kernels/prepared_matrix.h"
#include "model/forward.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ss {

void im2col_rows(const Conv2dShape& s, const float* x, int count, int h, int w, float* patches) {
    const int oh = s.out_h(h), ow = s.out_w(w), C = s.in_channels, K = C * s.kernel_h * s.kernel_w;
    for (int n = 0; n < count; ++n) {
        const float* xs = x + size_t(n) * C * h * w;
        for (int oy = 0; oy < oh; ++oy)
            for (int ox = 0; ox < ow; ++ox) {
                float* row = patches + (size_t(n) * oh * ow + size_t(oy) * ow + ox) * K;
                const int y0 = oy * s.stride_h - s.pad_h, x0 = ox * s.stride_w - s.pad_w;
                if (y0 >= 0 && y0 + (s.kernel_h - 1) * s.dilation_h < h && x0 >= 0 && x0 + (s.kernel_w - 1) * s.dilation_w < w) {
                    // The whole window inside the image (most positions): no bounds checks.
                    float* r = row;
                    for (int c = 0; c < C; ++c)
                        for (int i = 0; i < s.kernel_h; ++i) {
                            const float* src = xs + (size_t(c) * h + y0 + i * s.dilation_h) * w + x0;
                            for (int j = 0; j < s.kernel_w; ++j) *r++ = src[j * s.dilation_w];
                        }
                    continue;
                }
                for (int c = 0; c < C; ++c)
                    for (int i = 0; i < s.kernel_h; ++i) {
                        const int y = oy * s.stride_h - s.pad_h + i * s.dilation_h;
                        float* r = row + (size_t(c) * s.kernel_h + i) * s.kernel_w;
                        if (y < 0 || y >= h) {
                            std::fill(r, r + s.kernel_w, 0.0f);
                            continue;
                        }
                        const float* xr = xs + (size_t(c) * h + y) * w;
                        for (int j = 0; j < s.kernel_w; ++j) {
                            const int xx = ox * s.stride_w - s.pad_w + j * s.dilation_w;
                            r[j] = xx >= 0 && xx < w ? xr[xx] : 0.0f;
                        }
                    }
            }
    }
}

void col2im_rows_add(const Conv2dShape& s, const float* patches, int count, int h, int w, float* dx) {
    const int oh = s.out_h(h), ow = s.out_w(w), C = s.in_channels, K = C * s.kernel_h * s.kernel_w;
    for (int n = 0; n < count; ++n) {
        float* xs = dx + size_t(n) * C * h * w;
        for (int oy = 0; oy < oh; ++oy)
            for (int ox = 0; ox < ow; ++ox) {
                const float* row = patches + (size_t(n) * oh * ow + size_t(oy) * ow + ox) * K;
                for (int c = 0; c < C; ++c)
                    for (int i = 0; i < s.kernel_h; ++i) {
                        const int y = oy * s.stride_h - s.pad_h + i * s.dilation_h;
                        if (y < 0 || y >= h) continue;
                        const float* r = row + (size_t(c) * s.kernel_h + i) * s.kernel_w;
                        float* xr = xs + (size_t(c) * h + y) * w;
                        for (int j = 0; j < s.kernel_w; ++j) {
                            const int xx = ox * s.stride_w - s.pad_w + j * s.dilation_w;
                            if (xx >= 0 && xx < w) xr[xx] += r[j];
                        }
                    }
            }
    }
}

void conv2d_layer_forward(const Conv2dLayer& c, const ActivationShape& in, const float* x, int n, float* y, ConvScratch& scratch,
                          ForwardObserver* observer) {
    const Conv2dShape& s = c.shape;
    const int oh = s.out_h(in.h), ow = s.out_w(in.w), O = s.out_channels;
    const size_t plane = size_t(oh) * ow;
    if (s.groups != 1) {
        const LinearWeights& l = c.w;
        if (!l.weight.empty() && !l.quant) {
            conv2d_forward(s, l.weight.data(), l.has_bias ? l.bias.data() : nullptr, x, n, in.h, in.w, y);
        } else {
            const std::vector<float> w = dense_weights(l); // the values the codes or kernel copies hold
            conv2d_forward(s, w.data(), l.has_bias ? l.bias.data() : nullptr, x, n, in.h, in.w, y);
        }
        return;
    }
    const size_t K = size_t(c.w.in);
    // Samples per product: patches up to about 4 M floats (16 MB), at least one sample.
    const int per = int(std::max<size_t>(1, (size_t(4) << 20) / std::max<size_t>(1, plane * K)));
    for (int first = 0; first < n; first += per) {
        const int count = std::min(per, n - first);
        const size_t rows = size_t(count) * plane;
        scratch.patches.resize(rows * K);
        scratch.product.resize(rows * size_t(O));
        im2col_rows(s, x + size_t(first) * in.c * in.h * in.w, count, in.h, in.w, scratch.patches.data());
        if (observer) observer->linear_input(c.w, scratch.patches.data(), int(rows));
        linear_forward(c.w, scratch.patches.data(), int(rows), scratch.product.data());
        // (rows, O) -> (count, O, oh * ow)
        for (int k = 0; k < count; ++k) {
            const float* src = scratch.product.data() + size_t(k) * plane * O;
            float* dst = y + (size_t(first) + k) * O * plane;
            for (size_t p = 0; p < plane; ++p)
                for (int o = 0; o < O; ++o) dst[size_t(o) * plane + p] = src[p * O + size_t(o)];
        }
    }
}

void batchnorm2d_forward(const BatchNorm2dLayer& bn, const ActivationShape& in, const float* x, int n, float* y) {
    const size_t plane = size_t(in.flat ? 1 : in.h * in.w);
    for (int c = 0; c < bn.channels; ++c) {
        const double k = double(bn.weight[size_t(c)]) / std::sqrt(double(bn.var[size_t(c)]) + bn.eps);
        const float scale = float(k), shift = float(double(bn.bias[size_t(c)]) - double(bn.mean[size_t(c)]) * k);
        for (int i = 0; i < n; ++i) {
            const size_t base = (size_t(i) * bn.channels + c) * plane;
            for (size_t p = 0; p < plane; ++p) y[base + p] = x[base + p] * scale + shift;
        }
    }
}

void spatial_forward(const SpatialLayer& s, const ActivationShape& in, const float* x, int n, float* y) {
    switch (s.op) {
    case SpatialOp::MaxPool: max_pool2d(s.pool, x, n, in.c, in.h, in.w, y); return;
    case SpatialOp::AvgPool: avg_pool2d(s.pool, x, n, in.c, in.h, in.w, y); return;
    case SpatialOp::GlobalAvgPool: global_avg_pool2d(x, n, in.c, in.h, in.w, y); return;
    case SpatialOp::Flatten: std::memcpy(y, x, sizeof(float) * size_t(n) * size_t(in.features())); return;
    }
}

} // namespace ss
