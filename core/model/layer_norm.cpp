// layer_norm.cpp
#include "model/layer_norm.h"

#include <cmath>
#include <vector>

namespace ss {

namespace {
void moments(const float* x, int dim, double eps, double* mean, double* inv_std) {
    double s = 0.0, ss2 = 0.0;
    for (int i = 0; i < dim; ++i) s += x[i];
    *mean = s / dim;
    for (int i = 0; i < dim; ++i) {
        const double d = x[i] - *mean;
        ss2 += d * d;
    }
    *inv_std = 1.0 / std::sqrt(ss2 / dim + eps);
}
} // namespace

void layer_norm_forward(const LayerNormLayer& ln, const float* x, int n, float* y) {
    const int dim = ln.dim;
    for (int r = 0; r < n; ++r) {
        const float* xr = x + size_t(r) * dim;
        float* yr = y + size_t(r) * dim;
        double mean, inv_std;
        moments(xr, dim, ln.eps, &mean, &inv_std);
        for (int i = 0; i < dim; ++i) yr[i] = float((xr[i] - mean) * inv_std) * ln.weight[size_t(i)] + ln.bias[size_t(i)];
    }
}

void layer_norm_backward(const LayerNormLayer& ln, const float* x, const float* dy, int n, LayerNormLayer& g, float* dx) {
    const int dim = ln.dim;
    std::vector<double> xhat(static_cast<size_t>(dim)), dxhat(static_cast<size_t>(dim));
    float* gw = g.weight.data();
    float* gb = g.bias.data();
    for (int r = 0; r < n; ++r) {
        const float* xr = x + size_t(r) * dim;
        const float* dyr = dy + size_t(r) * dim;
        double mean, inv_std;
        moments(xr, dim, ln.eps, &mean, &inv_std);
        double sum_dxhat = 0.0, sum_dxhat_xhat = 0.0;
        for (int i = 0; i < dim; ++i) {
            xhat[size_t(i)] = (xr[i] - mean) * inv_std;
            dxhat[size_t(i)] = double(dyr[i]) * ln.weight[size_t(i)];
            gw[i] += float(dyr[i] * xhat[size_t(i)]);
            gb[i] += dyr[i];
            sum_dxhat += dxhat[size_t(i)];
            sum_dxhat_xhat += dxhat[size_t(i)] * xhat[size_t(i)];
        }
        for (int i = 0; i < dim; ++i)
            dx[size_t(r) * dim + i] = float(inv_std / dim * (dim * dxhat[size_t(i)] - sum_dxhat - xhat[size_t(i)] * sum_dxhat_xhat));
    }
}

} // namespace ss
