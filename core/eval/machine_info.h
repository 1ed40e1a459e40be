// machine_info.h - what a measurement ran on: CPU, cores, instruction sets, OpenBLAS.
#pragma once

#include <string>

namespace ss {

struct MachineInfo {
    std::string cpu;       // /proc/cpuinfo "model name", e.g. "Intel(R) Xeon(R) Processor"
    std::string cpu_id;    // "family 6 model 207"
    int cores = 0;         // online logical CPUs
    std::string isa;       // instruction sets the kernels use, e.g. "avx512-vnni"
    std::string blas;      // OpenBLAS version and core, e.g. "OpenBLAS 0.3.21 SkylakeX (set by SparseScope; ...)"
    std::string app_version;
};

const MachineInfo& machine_info();
// One line for status bars and run records: "Intel(R) Xeon(R) Processor (family 6 model 207), 2 cores, avx512-vnni, OpenBLAS ...".
std::string machine_summary();

// `--version` of both programs: "SparseScope 0.1.0", then one line each for OpenBLAS, SQLite and
// the machine ("machine: ..."); a program adds its own (Qt) after it.
std::string version_report();

} // namespace ss
