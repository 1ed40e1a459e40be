// conv_backward.cpp
#include "train/conv_backward.h"

#include "error.h"
#include "model/conv_forward.h"

#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

namespace ss {

void conv2d_backward(const Conv2dLayer& c, const ActivationShape& in, const float* x, const float* dy, int n, Conv2dLayer& g, float* dx) {
    const Conv2dShape& s = c.shape;
    if (s.groups != 1) throw Error("training: conv2d '" + c.w.name + "' has groups = " + std::to_string(s.groups) + "; only groups = 1 is trained");
    if (c.w.weight.empty()) throw Error("training: conv2d '" + c.w.name + "' holds no fp32 weights");
    const int oh = s.out_h(in.h), ow = s.out_w(in.w), O = s.out_channels, K = c.w.in;
    const size_t plane = size_t(oh) * ow, rows = size_t(n) * plane;
    // Kept between calls: megabytes per layer, which a fresh allocation would fault in every step.
    thread_local std::vector<float> patches, dyr;
    patches.resize(rows * size_t(K));
    dyr.resize(rows * size_t(O));
    im2col_rows(s, x, n, in.h, in.w, patches.data());
    for (int k = 0; k < n; ++k) // (n, O, plane) -> (n * plane, O)
        for (int o = 0; o < O; ++o) {
            const float* src = dy + (size_t(k) * O + o) * plane;
            for (size_t p = 0; p < plane; ++p) dyr[(size_t(k) * plane + p) * O + size_t(o)] = src[p];
        }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, O, K, int(rows), 1.0f, dyr.data(), O, patches.data(), K, 1.0f, g.w.weight.data(), K);
    if (c.w.has_bias) {
        float* gb = g.w.bias.data();
        for (size_t r = 0; r < rows; ++r)
            for (int o = 0; o < O; ++o) gb[o] += dyr[r * O + size_t(o)];
    }
    if (!dx) return;
    // d patches (rows, K) = dy_rows W, then back onto the input.
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(rows), K, O, 1.0f, dyr.data(), O, c.w.weight.data(), K, 0.0f, patches.data(), K);
    std::memset(dx, 0, sizeof(float) * size_t(n) * size_t(in.features()));
    col2im_rows_add(s, patches.data(), n, in.h, in.w, dx);
}

void spatial_backward(const SpatialLayer& sp, const ActivationShape& in, const float* x, const float* dy, int n, float* dx) {
    const size_t count = size_t(n) * size_t(in.features());
    if (sp.op == SpatialOp::Flatten) {
        std::memcpy(dx, dy, sizeof(float) * count);
        return;
    }
    std::memset(dx, 0, sizeof(float) * count);
    const int h = in.h, w = in.w;
    const size_t hw = size_t(h) * w;
    if (sp.op == SpatialOp::GlobalAvgPool) {
        for (size_t p = 0; p < size_t(n) * in.c; ++p)
            for (size_t k = 0; k < hw; ++k) dx[p * hw + k] = dy[p] / float(hw);
        return;
    }
    const Pool2dShape& s = sp.pool;
    const int oh = s.out_h(h), ow = s.out_w(w);
    for (size_t p = 0; p < size_t(n) * in.c; ++p) {
        const float* plane = x + p * hw;
        float* dplane = dx + p * hw;
        const float* g = dy + p * size_t(oh) * ow;
        for (int i = 0; i < oh; ++i)
            for (int j = 0; j < ow; ++j) {
                const float gv = g[size_t(i) * ow + j];
                if (sp.op == SpatialOp::MaxPool) {
                    float m = -std::numeric_limits<float>::infinity();
                    size_t at = SIZE_MAX;
                    for (int kh = 0; kh < s.kernel_h; ++kh) {
                        const int yy = i * s.stride_h - s.pad_h + kh * s.dilation_h;
                        if (yy < 0 || yy >= h) continue;
                        for (int kw = 0; kw < s.kernel_w; ++kw) {
                            const int xx = j * s.stride_w - s.pad_w + kw * s.dilation_w;
                            if (xx < 0 || xx >= w) continue;
                            const float v = plane[size_t(yy) * w + xx];
                            if (at == SIZE_MAX || m < v) m = v, at = size_t(yy) * w + xx;
                        }
                    }
                    if (at != SIZE_MAX) dplane[at] += gv;
                    continue;
                }
                // Average: the forward pass's divisor, spread over the inputs inside.
                int inside = 0;
                for (int kh = 0; kh < s.kernel_h; ++kh) {
                    const int yy = i * s.stride_h - s.pad_h + kh;
                    for (int kw = 0; kw < s.kernel_w; ++kw) {
                        const int xx = j * s.stride_w - s.pad_w + kw;
                        inside += yy >= 0 && yy < h && xx >= 0 && xx < w;
                    }
                }
                int div = inside;
                if (s.count_include_pad) {
                    const int y0 = i * s.stride_h - s.pad_h, x0 = j * s.stride_w - s.pad_w;
                    const int y1 = std::min(y0 + s.kernel_h, h + s.pad_h), x1 = std::min(x0 + s.kernel_w, w + s.pad_w);
                    div = (y1 - y0) * (x1 - x0);
                }
                for (int kh = 0; kh < s.kernel_h; ++kh) {
                    const int yy = i * s.stride_h - s.pad_h + kh;
                    if (yy < 0 || yy >= h) continue;
                    for (int kw = 0; kw < s.kernel_w; ++kw) {
                        const int xx = j * s.stride_w - s.pad_w + kw;
                        if (xx >= 0 && xx < w) dplane[size_t(yy) * w + xx] += gv / float(div);
                    }
                }
            }
    }
}

} // namespace ss
