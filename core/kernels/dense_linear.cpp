// dense_linear.cpp
#include "kernels/dense_linear.h"

#include "kernels/bf16_matmul.h"
#include "kernels/kernel_plan.h"
#include "kernels/simd_path.h"
#include "kernels/small_batch_matmul.h"
#include "kernels/thread_pool.h"

#include <cblas.h>

namespace ss {

void linear_forward(const LinearWeights& l, const float* x, int n, float* y) {
    const float* bias = l.bias.empty() ? nullptr : l.bias.data();
    const PreparedMatrix& p = prepared(l);
    const Kernel k = kernel_for(p, n);
    if (const uint16_t* wb = l.weight.bf16_data(); wb && (k == Kernel::Sgemv || k == Kernel::Sgemm))
        return bf16_matmul(wb, l.out, l.in, bias, x, n, y); // a deferred matrix stays BF16
    switch (k) {
    case Kernel::CsrRows:
    case Kernel::CsrPanel: return csr_matmul(*p.csr, bias, x, n, y);
    case Kernel::BsrRows:
    case Kernel::BsrPanel: return bsr_matmul(*p.bsr, bias, x, n, y);
    case Kernel::Nm24Rows: return nm24_matmul(*p.nm24, bias, x, n, y);
    case Kernel::QuantDot: return qmatmul_dot(*p.qmat, bias, x, n, y);
    case Kernel::QuantTiles: return qmatmul_tiles(*p.qmat, bias, x, n, y);
    case Kernel::Sgemv: // output rows split over the threads, one single-threaded sgemv each
        parallel_for(l.out, 64, [&](int64_t o0, int64_t o1) {
            for (int64_t o = o0; o < o1; ++o) y[o] = bias ? bias[o] : 0.0f;
            cblas_sgemv(CblasRowMajor, CblasNoTrans, int(o1 - o0), l.in, 1.0f, l.weight.data() + size_t(o0) * l.in, l.in, x, 1,
                        bias ? 1.0f : 0.0f, y + o0, 1);
        }, double(l.out) * l.in);
        return;
    case Kernel::Sgemm: // output columns split over the threads, one single-threaded sgemm each
        if (n <= kSmallGemmMax && simd_avx2()) return small_batch_matmul(l.weight.data(), l.out, l.in, bias, x, n, y); // no packing of W
        parallel_for(l.out, 64, [&](int64_t o0, int64_t o1) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, int(o1 - o0), l.in, 1.0f, x, l.in, l.weight.data() + size_t(o0) * l.in, l.in,
                        0.0f, y + o0, l.out);
            if (bias)
                for (int r = 0; r < n; ++r)
                    for (int64_t o = o0; o < o1; ++o) y[size_t(r) * l.out + o] += bias[o];
        }, double(n) * l.out * l.in);
        return;
    }
}

void linear_forward_reference(const LinearWeights& l, const float* x, int n, float* y) {
    std::vector<float> restored;
    const float* w = l.weight.data();
    if (l.weight.empty()) w = (restored = dense_weights(l)).data();
    for (int r = 0; r < n; ++r)
        for (int o = 0; o < l.out; ++o) {
            double acc = l.bias.empty() ? 0.0 : l.bias[o];
            for (int i = 0; i < l.in; ++i) acc += double(x[size_t(r) * l.in + i]) * w[size_t(o) * l.in + i];
            y[size_t(r) * l.out + o] = float(acc);
        }
}

} // namespace ss
