// dense_linear.cpp
#include "dense_linear.h"

#include "kernel_plan.h"

#include <cblas.h>

namespace ss {

void linear_forward(const LinearWeights& l, const float* x, int n, float* y) {
    const bool bias = !l.bias.empty();
    if (l.csr && csr_runs_at(n)) return csr_matmul(*l.csr, bias ? l.bias.data() : nullptr, x, n, y);
    if (n == 1) {
        if (bias)
            for (int o = 0; o < l.out; ++o) y[o] = l.bias[o];
        cblas_sgemv(CblasRowMajor, CblasNoTrans, l.out, l.in, 1.0f, l.weight.data(), l.in, x, 1, bias ? 1.0f : 0.0f, y, 1);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, l.out, l.in, 1.0f, x, l.in, l.weight.data(), l.in, 0.0f, y, l.out);
    if (bias)
        for (int r = 0; r < n; ++r) {
            float* yr = y + size_t(r) * l.out;
            for (int o = 0; o < l.out; ++o) yr[o] += l.bias[o];
        }
}

void linear_forward_reference(const LinearWeights& l, const float* x, int n, float* y) {
    for (int r = 0; r < n; ++r)
        for (int o = 0; o < l.out; ++o) {
            double acc = l.bias.empty() ? 0.0 : l.bias[o];
            for (int i = 0; i < l.in; ++i) acc += double(x[size_t(r) * l.in + i]) * l.weight[size_t(o) * l.in + i];
            y[size_t(r) * l.out + o] = float(acc);
        }
}

} // namespace ss
