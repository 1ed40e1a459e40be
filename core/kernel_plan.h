// kernel_plan.h - which kernel each weight matrix runs with.
//
// Static rule, from bench/bench_sparse on the development machine (docs/performance.md): from 50 %
// sparsity the CSR kernel beats OpenBLAS at batch 1-2 (gathered row path: 1.4x sgemv at 50 %,
// 3.6x at 90 %) and at batches of 8 and more (panel path: 3x sgemm at 50 %, ~10x at 90 %); between
// the two, sgemm stays. So a matrix with at least kCsrMinSparsity zeros gets a CSR copy. The
// choice depends only on the weights and the batch size, so a model and its export always run the
// same kernels.
#pragma once

#include "model.h"

#include <string>

namespace ss {

inline constexpr double kCsrMinSparsity = 0.5;
inline constexpr int kCsrMinBatch = 8;    // panel path from this batch size
inline constexpr int kCsrMaxRowBatch = 2; // row (gather) path up to this batch size

// Whether a matrix with a CSR copy runs the sparse kernel at this batch size, and its name.
inline bool csr_runs_at(int batch) { return batch <= kCsrMaxRowBatch || batch >= kCsrMinBatch; }
inline const char* kernel_name(const LinearWeights& l, int batch) {
    if (l.csr && csr_runs_at(batch)) return batch <= kCsrMaxRowBatch ? "csr-rows" : "csr-panel";
    return batch == 1 ? "sgemv" : "sgemm";
}

// (Re)builds the CSR copies of every compressible matrix by the rule above.
void plan_kernels(Model& model);

// "sgemm/sgemv" or e.g. "csr for 18 of 18 matrices at batch >= 8, sgemv at batch 1".
std::string kernel_summary(const Model& model);

} // namespace ss
