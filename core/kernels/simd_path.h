// simd_path.h - which instruction set every kernel runs, and the switch that forces a lower one.
//
// The kernels (CSR, 4x1 blocks, 2:4, integer dot, BF16 rows, activation panels, GELU) each have a
// portable C++ path and SIMD paths. simd_path() is the one they take: the best this CPU runs,
// capped by the environment variable SPARSESCOPE_ISA (read once) or by force_simd_path() (tests,
// benchmarks). So an AVX-512 machine can measure and test what an AVX2-only one (AMD Zen 2/3,
// older Intel) runs:
//     SPARSESCOPE_ISA=portable | avx2 | avx-vnni | avx512   (avx512-vnni is taken as avx512)
// A request the CPU cannot run falls back to the best it can; every run's kernel line names the
// path taken (kernel_plan.h). The float kernels run avx-vnni as avx2; the integer kernels use
// 256-bit VNNI there, and 512-bit VNNI under avx512 where the CPU has it.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ss {

enum class SimdPath { Portable = 0, Avx2 = 1, AvxVnni = 2, Avx512 = 3 };

// The CPU's own best: Avx512 needs AVX-512 F, BW, DQ and VL; Avx2 needs AVX2 and FMA; AvxVnni
// is AVX2 + FMA + AVX-VNNI (CPUID 7.1 EAX bit 4) without those AVX-512 subsets.
SimdPath simd_best();
// What the kernels take now: simd_best() capped by the forced path or SPARSESCOPE_ISA.
SimdPath simd_path();
// Process-wide; nullopt goes back to SPARSESCOPE_ISA / the CPU's best. A path the CPU cannot run
// is capped to simd_best().
void force_simd_path(std::optional<SimdPath> path);
// Every path this CPU can run, lowest first (portable always).
std::vector<SimdPath> simd_paths_available();

const char* simd_path_name(SimdPath path); // "portable", "avx2", "avx-vnni", "avx512"
std::optional<SimdPath> parse_simd_path(const std::string& name);

// Parts of the paths the kernels test for themselves.
bool cpu_has_avxvnni();
bool cpu_has_avx512vnni();

// At least AVX2 + FMA / AVX-512 F under the current path (the float kernels' tests).
inline bool simd_avx2() { return simd_path() >= SimdPath::Avx2; }
inline bool simd_avx512() { return simd_path() == SimdPath::Avx512; }

// Forces a path for the lifetime of this object (tests), then restores the previous one.
class ScopedSimdPath {
public:
    explicit ScopedSimdPath(SimdPath path);
    ~ScopedSimdPath();
    ScopedSimdPath(const ScopedSimdPath&) = delete;
    ScopedSimdPath& operator=(const ScopedSimdPath&) = delete;

private:
    std::optional<SimdPath> previous_;
};

} // namespace ss
