// kernel_plan.cpp
#include "kernel_plan.h"

#include "blas_setup.h"

#include <utility>

namespace ss {

std::string kernel_name(const LinearWeights& l, int batch) {
    const std::string q = l.qmat ? (l.qmat->layout_bits == 4 ? "q4" : "q8") : "";
    switch (kernel_for(l, batch)) {
    case Kernel::Sgemv: return "sgemv";
    case Kernel::Sgemm: return "sgemm";
    case Kernel::CsrRows: return "csr-rows";
    case Kernel::CsrPanel: return "csr-panel";
    case Kernel::QuantDot: return q + "-dot";
    case Kernel::QuantTiles: return q + "-tiles";
    }
    return "?";
}

void plan_kernels(Model& model) {
    restore_dense_weights(model);
    for_each_compressible_linear(model, [](LinearWeights& l) {
        if (l.weight.empty()) return;
        const bool integer = l.quant && qmatrix_supports(*l.quant);
        const double zeros = double(count_zero_weights(l));
        if (zeros >= (integer ? kCsrMinSparsityQuantized : kCsrMinSparsity) * double(l.weight_count()))
            l.csr = std::make_shared<const CsrMatrix>(csr_from_dense(std::as_const(l.weight).data(), l.out, l.in));
        if (integer) {
            l.qmat = std::make_shared<const QMatrix>(qmatrix_from(*l.quant));
            l.weight = WeightData(); // the codes (and the CSR) serve every batch size
        }
    });
}

std::string kernel_summary(const Model& model) {
    int total = 0, sparse = 0, q8 = 0, q4 = 0;
    for_each_compressible_linear(model, [&](const LinearWeights& l) {
        ++total;
        sparse += bool(l.csr);
        if (l.qmat) (l.qmat->layout_bits == 4 ? q4 : q8)++;
    });
    const std::string of = " of " + std::to_string(total) + " matrices";
    std::string s;
    auto add = [&](const std::string& part) { s += (s.empty() ? "" : "; ") + part; };
    if (q8 + q4 > 0)
        add(std::string(q4 ? "q4" : "q8") + (q4 && q8 ? "/q8" : "") + " dot (" + qmatmul_isa() + ") for " + std::to_string(q8 + q4) + of +
            " at batch <= " + std::to_string(kQuantDotMaxBatch) + ", dequantized tiles + sgemm above");
    if (sparse > 0)
        add("csr (" + std::string(cpu_has_avx2_fma() ? "AVX2+FMA" : "portable") + ") for " + std::to_string(sparse) + of + " at batch <= " +
            std::to_string(kCsrMaxRowBatch) + " and >= " + std::to_string(kCsrMinBatch));
    const std::string blas = "OpenBLAS " + blas_core_description();
    if (s.empty()) return "dense: " + blas + " sgemm (batches), sgemv (batch 1)";
    return s + "; " + blas + " otherwise";
}

} // namespace ss
