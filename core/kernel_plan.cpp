// kernel_plan.cpp
#include "kernel_plan.h"

#include <utility>

namespace ss {

void plan_kernels(Model& model) {
    for_each_compressible_linear(model, [](LinearWeights& l) {
        l.csr.reset();
        int64_t zeros = 0;
        const float* w = std::as_const(l.weight).data();
        for (size_t k = 0; k < l.weight.size(); ++k) zeros += w[k] == 0.0f;
        if (!l.weight.empty() && double(zeros) >= kCsrMinSparsity * double(l.weight.size()))
            l.csr = std::make_shared<const CsrMatrix>(csr_from_dense(w, l.out, l.in));
    });
}

std::string kernel_summary(const Model& model) {
    int total = 0, sparse = 0;
    for_each_compressible_linear(model, [&](const LinearWeights& l) {
        ++total;
        sparse += bool(l.csr);
    });
    if (sparse == 0) return "dense: OpenBLAS sgemm (batches), sgemv (batch 1)";
    return "csr (" + std::string(cpu_has_avx2_fma() ? "AVX2+FMA" : "portable") + ") for " + std::to_string(sparse) + " of " +
           std::to_string(total) + " matrices at batch <= " + std::to_string(kCsrMaxRowBatch) + " and >= " + std::to_string(kCsrMinBatch) +
           "; OpenBLAS otherwise";
}

} // namespace ss
