// gelu.h - GELU with the exact erf form, 0.5 x (1 + erf(x / sqrt 2)) = x * Phi(x), vectorized.
//
// Phi(x) = 1 - E / 2 for x >= 0 and E / 2 for x < 0, with E = erfc(|x| / sqrt 2) from the
// Chebyshev fit in Numerical Recipes (erfcc, fractional error below 1.2e-7 everywhere) and exp by
// range reduction (e^y = 2^n e^r, |r| <= ln2 / 2, degree-7 Taylor polynomial). Evaluated in fp32
// with fused multiply-adds, the relative error against the double-precision GELU is below 4e-7
// (about 3 ulp) for x >= -1, 1e-6 down to x = -3 and 7e-6 in the far negative tail (where GELU is
// below 0.004 in size) - the form 0.5 x (1 + erff(x / sqrt 2)) loses every digit there to
// cancellation. The AVX2 and portable paths give identical bits.
#pragma once

#include <cstddef>

namespace ss {

void gelu_erf_inplace(float* x, size_t n); // on the path simd_path() names (kernels/simd_path.h)

} // namespace ss
