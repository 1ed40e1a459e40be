// blas_setup.h - making sure OpenBLAS runs its kernels for this CPU.
//
// OpenBLAS built with DYNAMIC_ARCH picks its kernels from the CPU model when the library loads.
// A CPU newer than the OpenBLAS release (Debian 12's 0.3.21 does not know Intel family 6 model
// 207, Emerald Rapids) falls back to the generic Prescott (SSE3) kernels, which on the
// development machine run sgemm at about half the speed of the AVX-512 ones. The choice can only
// be made before the library loads, through the OPENBLAS_CORETYPE environment variable; so a
// program that finds OpenBLAS on a fallback core while the CPU has AVX2 or AVX-512 restarts
// itself once with the variable set. A value the user set is never changed.
#pragma once

#include <string>

namespace ss {

// Call first thing in main(). May not return (execv of /proc/self/exe with the same arguments).
void ensure_blas_core(char** argv);

// OpenBLAS's kernel family as it runs now, e.g. "SkylakeX", and how it was chosen:
// "SkylakeX (detected)", "SkylakeX (OPENBLAS_CORETYPE)", "SkylakeX (set by SparseScope: ...)".
std::string blas_core_description();

} // namespace ss
