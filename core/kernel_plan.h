// kernel_plan.h - which kernel each weight matrix runs with, by format, shape and batch size.
//
// Static rule, from bench/bench_sparse and bench/bench_quant on the development machine
// (docs/performance.md):
//  - Unstructured sparse fp32 (at least kCsrMinSparsity zeros): a CSR copy, run by the gathered
//    row path at batch 1-2 (1.4x sgemv at 50 %, 3.6x at 90 %) and by the panel path from batch 8
//    (3x sgemm at 50 %, ~10x at 90 %); batches 3-7 stay on OpenBLAS.
//  - Integer-quantized (int8, int4, int3, int2): the codes in the kernels' block layout (qmat) and
//    no fp32 copy. Batches up to kQuantDotMaxBatch run the integer dot kernel (activations
//    quantized per block of 32); larger batches dequantize tiles and call sgemm, unless the matrix
//    is also at least kCsrMinSparsityQuantized sparse, when the CSR panel path runs them.
//  - Everything else: OpenBLAS sgemv (batch 1) / sgemm.
// The choice depends only on the weights and the batch size, so a model and its export always run
// the same kernels.
#pragma once

#include "model.h"

#include <string>

namespace ss {

inline constexpr double kCsrMinSparsity = 0.5;
inline constexpr double kCsrMinSparsityQuantized = 0.9; // a CSR copy beside codes costs ~6 bytes per nonzero
inline constexpr int kCsrMinBatch = 8;    // panel path from this batch size
inline constexpr int kCsrMaxRowBatch = 2; // row (gather) path up to this batch size
inline constexpr int kQuantDotMaxBatch = 32;

enum class Kernel { Sgemv, Sgemm, CsrRows, CsrPanel, QuantDot, QuantTiles };

inline Kernel kernel_for(const LinearWeights& l, int batch) {
    if (l.qmat) {
        if (batch <= kQuantDotMaxBatch) return Kernel::QuantDot;
        return l.csr ? Kernel::CsrPanel : Kernel::QuantTiles;
    }
    if (l.csr && (batch <= kCsrMaxRowBatch || batch >= kCsrMinBatch || l.weight.empty()))
        return batch <= kCsrMaxRowBatch ? Kernel::CsrRows : Kernel::CsrPanel;
    return batch == 1 ? Kernel::Sgemv : Kernel::Sgemm;
}

// "sgemv", "csr-rows", "q4-dot", "q8-tiles", ...
std::string kernel_name(const LinearWeights& l, int batch);

// (Re)builds the kernel copies of every compressible matrix by the rule above, dropping the fp32
// weights of matrices with an integer kernel.
void plan_kernels(Model& model);

// One line: which kernels the model's matrices use, e.g. "q4 dot (avx-vnni) for 18 of 18
// matrices at batch <= 8, dequantized tiles + sgemm above".
std::string kernel_summary(const Model& model);

} // namespace ss
