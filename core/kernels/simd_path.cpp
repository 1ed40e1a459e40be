// simd_path.cpp
#include "kernels/simd_path.h"

#include <cpuid.h>

#include <atomic>
#include <cstdlib>

namespace ss {

namespace {

// -1: not forced (SPARSESCOPE_ISA or the CPU's best); otherwise a SimdPath.
std::atomic<int> g_forced{-1};

SimdPath detect_best() {
    __builtin_cpu_init();
    if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) return SimdPath::Portable;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
        return SimdPath::Avx512;
    return cpu_has_avxvnni() ? SimdPath::AvxVnni : SimdPath::Avx2;
}

SimdPath cap(SimdPath want) {
    const SimdPath best = simd_best();
    if (want == SimdPath::AvxVnni && !cpu_has_avxvnni()) want = SimdPath::Avx2;
    return int(want) <= int(best) ? want : best;
}

SimdPath from_environment() {
    static const SimdPath path = [] {
        const char* env = std::getenv("SPARSESCOPE_ISA");
        const std::optional<SimdPath> want = env ? parse_simd_path(env) : std::nullopt;
        return want ? cap(*want) : simd_best();
    }();
    return path;
}

} // namespace

bool cpu_has_avxvnni() {
    // clang 14's __builtin_cpu_supports does not know "avxvnni": CPUID leaf 7, sub-leaf 1, EAX bit 4.
    static const bool has = [] {
        unsigned a = 0, b = 0, c = 0, d = 0;
        return __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 4)) != 0;
    }();
    return has;
}

bool cpu_has_avx512vnni() {
    static const bool has = simd_best() == SimdPath::Avx512 && __builtin_cpu_supports("avx512vnni");
    return has;
}

SimdPath simd_best() {
    static const SimdPath best = detect_best();
    return best;
}

SimdPath simd_path() {
    const int forced = g_forced.load(std::memory_order_relaxed);
    return forced >= 0 ? SimdPath(forced) : from_environment();
}

void force_simd_path(std::optional<SimdPath> path) { g_forced.store(path ? int(cap(*path)) : -1, std::memory_order_relaxed); }

std::vector<SimdPath> simd_paths_available() {
    std::vector<SimdPath> out{SimdPath::Portable};
    const SimdPath best = simd_best();
    if (best >= SimdPath::Avx2) out.push_back(SimdPath::Avx2);
    if (cpu_has_avxvnni() && best >= SimdPath::AvxVnni) out.push_back(SimdPath::AvxVnni);
    if (best == SimdPath::Avx512) out.push_back(SimdPath::Avx512);
    return out;
}

const char* simd_path_name(SimdPath path) {
    switch (path) {
    case SimdPath::Portable: return "portable";
    case SimdPath::Avx2: return "avx2";
    case SimdPath::AvxVnni: return "avx-vnni";
    case SimdPath::Avx512: return "avx512";
    }
    return "portable";
}

std::optional<SimdPath> parse_simd_path(const std::string& name) {
    if (name == "portable") return SimdPath::Portable;
    if (name == "avx2") return SimdPath::Avx2;
    if (name == "avx-vnni") return SimdPath::AvxVnni;
    if (name == "avx512" || name == "avx512-vnni") return SimdPath::Avx512;
    return std::nullopt;
}

ScopedSimdPath::ScopedSimdPath(SimdPath path) {
    const int was = g_forced.load();
    if (was >= 0) previous_ = SimdPath(was);
    force_simd_path(path);
}

ScopedSimdPath::~ScopedSimdPath() { force_simd_path(previous_); }

} // namespace ss
