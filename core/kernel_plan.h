// kernel_plan.h - which kernel each weight matrix runs with.
//
// Static rule, from bench/bench_sparse on the development machine (docs/performance.md): the CSR
// kernel beats OpenBLAS sgemm from 50 % sparsity at batches of 8 and more (3x at 50 %, 10x+ at
// 90 %, 1024 x 1024), but its batch-1 path is slower than sgemv below ~90 %. So a matrix with at
// least kCsrMinSparsity zeros gets a CSR copy, used for batches of kCsrMinBatch rows or more;
// smaller batches keep sgemv. The choice depends only on the weights and the batch size, so a model
// and its export always run the same kernels.
#pragma once

#include "model.h"

#include <string>

namespace ss {

inline constexpr double kCsrMinSparsity = 0.5;
inline constexpr int kCsrMinBatch = 8;

// (Re)builds the CSR copies of every compressible matrix by the rule above.
void plan_kernels(Model& model);

// "sgemm/sgemv" or e.g. "csr for 18 of 18 matrices at batch >= 8, sgemv at batch 1".
std::string kernel_summary(const Model& model);

} // namespace ss
