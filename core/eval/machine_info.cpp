// machine_info.cpp
#include "eval/machine_info.h"

#include "kernels/blas_setup.h"
#include "kernels/quant_matmul.h"

#include <sqlite3.h>
#include <unistd.h>

#include <fstream>

extern "C" char* openblas_get_config(void);

#ifndef SPARSESCOPE_VERSION
#define SPARSESCOPE_VERSION "unknown"
#endif

namespace ss {

namespace {

std::string cpuinfo_field(const std::string& name) {
    std::ifstream f("/proc/cpuinfo");
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind(name, 0) != 0) continue;
        const size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string v = line.substr(colon + 1);
        while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.erase(v.begin());
        return v;
    }
    return "";
}

} // namespace

const MachineInfo& machine_info() {
    static const MachineInfo m = [] {
        MachineInfo i;
        i.cpu = cpuinfo_field("model name");
        if (i.cpu.empty()) i.cpu = "unknown CPU";
        const std::string family = cpuinfo_field("cpu family"), model = cpuinfo_field("model\t");
        if (!family.empty()) i.cpu_id = "family " + family + " model " + model;
        i.cores = int(sysconf(_SC_NPROCESSORS_ONLN));
        i.isa = qmatmul_isa();
        const char* config = openblas_get_config();
        std::string version = config ? config : "OpenBLAS";
        if (const size_t sp = version.find(' ', version.find(' ') + 1); sp != std::string::npos) version.resize(sp); // "OpenBLAS 0.3.21"
        i.blas = version + " " + blas_core_description();
        i.app_version = SPARSESCOPE_VERSION;
        return i;
    }();
    return m;
}

std::string machine_summary() {
    const MachineInfo& m = machine_info();
    return m.cpu + (m.cpu_id.empty() ? "" : " (" + m.cpu_id + ")") + ", " + std::to_string(m.cores) + " cores, " + m.isa + ", " + m.blas;
}

std::string version_report() {
    const MachineInfo& m = machine_info();
    return "SparseScope " + m.app_version + "\n" + m.blas + "\nSQLite " + sqlite3_libversion() + "\nmachine: " + m.cpu +
           (m.cpu_id.empty() ? "" : " (" + m.cpu_id + ")") + ", " + std::to_string(m.cores) + " cores, kernels " + m.isa + "\n";
}

} // namespace ss
