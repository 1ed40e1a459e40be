// dense_linear.h - y = x W^T + b through OpenBLAS.
#pragma once

#include "model/model.h"

namespace ss {

// x (n, in) row-major -> y (n, out) row-major. A matrix with a CSR copy (kernel_plan.h) runs the
// sparse kernel for n >= kCsrMinBatch; otherwise n == 1 uses sgemv and n > 1 sgemm. y must not
// alias x.
void linear_forward(const LinearWeights& l, const float* x, int n, float* y);

// Plain triple loop, the reference the BLAS path is tested against.
void linear_forward_reference(const LinearWeights& l, const float* x, int n, float* y);

} // namespace ss
