// dense_linear.h - y = x W^T + b through the kernel the plan chose for the matrix (kernel_plan.h).
#pragma once

#include "model/model.h"

namespace ss {

// x (n, in) row-major -> y (n, out) row-major, by kernel_for(l, n): a prepared sparse or integer
// kernel, else OpenBLAS sgemv (n == 1) or sgemm on the fp32 weights - or, for a deferred BF16
// matrix, bf16_matmul on its BF16 values. y must not alias x.
void linear_forward(const LinearWeights& l, const float* x, int n, float* y);

// Plain triple loop, the reference the BLAS path is tested against.
void linear_forward_reference(const LinearWeights& l, const float* x, int n, float* y);

} // namespace ss
