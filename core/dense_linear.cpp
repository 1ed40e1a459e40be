// dense_linear.cpp
#include "dense_linear.h"

#include "kernel_plan.h"

#include <cblas.h>

namespace ss {

void linear_forward(const LinearWeights& l, const float* x, int n, float* y) {
    const float* bias = l.bias.empty() ? nullptr : l.bias.data();
    switch (kernel_for(l, n)) {
    case Kernel::CsrRows:
    case Kernel::CsrPanel: return csr_matmul(*l.csr, bias, x, n, y);
    case Kernel::QuantDot: return qmatmul_dot(*l.qmat, bias, x, n, y);
    case Kernel::QuantTiles: return qmatmul_tiles(*l.qmat, bias, x, n, y);
    case Kernel::Sgemv:
        for (int o = 0; o < l.out; ++o) y[o] = bias ? bias[o] : 0.0f;
        cblas_sgemv(CblasRowMajor, CblasNoTrans, l.out, l.in, 1.0f, l.weight.data(), l.in, x, 1, bias ? 1.0f : 0.0f, y, 1);
        return;
    case Kernel::Sgemm:
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, l.out, l.in, 1.0f, x, l.in, l.weight.data(), l.in, 0.0f, y, l.out);
        if (bias)
            for (int r = 0; r < n; ++r) {
                float* yr = y + size_t(r) * l.out;
                for (int o = 0; o < l.out; ++o) yr[o] += bias[o];
            }
        return;
    }
}

void linear_forward_reference(const LinearWeights& l, const float* x, int n, float* y) {
    std::vector<float> restored;
    const float* w = l.weight.data();
    if (l.weight.empty() && l.quant) w = (restored = dequantize_weights(*l.quant)).data();
    else if (l.weight.empty() && l.csr) w = (restored = csr_to_dense(*l.csr)).data();
    for (int r = 0; r < n; ++r)
        for (int o = 0; o < l.out; ++o) {
            double acc = l.bias.empty() ? 0.0 : l.bias[o];
            for (int i = 0; i < l.in; ++i) acc += double(x[size_t(r) * l.in + i]) * w[size_t(o) * l.in + i];
            y[size_t(r) * l.out + o] = float(acc);
        }
}

} // namespace ss
