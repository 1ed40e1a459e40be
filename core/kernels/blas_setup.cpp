// blas_setup.cpp
#include "kernels/blas_setup.h"

#include <cblas.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

extern "C" char* openblas_get_corename(void);

namespace ss {

namespace {

constexpr const char* kMarker = "SPARSESCOPE_BLAS_CORE_SET"; // set when we chose the core

// OpenBLAS's generic fallbacks for x86-64 CPUs it does not recognise.
bool is_fallback_core(const char* name) {
    for (const char* f : {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Unknown"})
        if (std::strcmp(name, f) == 0) return true;
    return false;
}

const char* fitting_core() {
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
    return nullptr;
}

} // namespace

void ensure_blas_core(char** argv) {
    if (std::getenv("OPENBLAS_CORETYPE") || std::getenv(kMarker)) return;
    const char* now = openblas_get_corename();
    if (!now || !is_fallback_core(now)) return;
    const char* core = fitting_core();
    if (!core) return;
    setenv("OPENBLAS_CORETYPE", core, 1);
    setenv(kMarker, now, 1);
    execv("/proc/self/exe", argv); // returns only on failure: then run on as we are
    unsetenv("OPENBLAS_CORETYPE");
    unsetenv(kMarker);
}

std::string blas_core_description() {
    const char* name = openblas_get_corename();
    std::string s = name ? name : "unknown";
    if (const char* was = std::getenv(kMarker)) return s + " (set by SparseScope; OpenBLAS detected " + was + ")";
    if (std::getenv("OPENBLAS_CORETYPE")) return s + " (OPENBLAS_CORETYPE)";
    return s + " (detected)";
}

} // namespace ss
