// machine_load.cpp - others' CPU use from /proc (machine_load.h).
#include "eval/machine_load.h"

#include <unistd.h>

#include <chrono>
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

namespace ss {

namespace {
std::string read_small(const char* path) {
    std::ifstream in(path);
    std::string text;
    if (in) std::getline(in, text); // both files' figures are on their first line
    return text;
}
} // namespace

bool parse_proc_stat_busy(const std::string& text, uint64_t* busy) {
    // "cpu  user nice system idle iowait irq softirq steal guest guest_nice" (guest is inside user)
    std::istringstream in(text);
    std::string name;
    uint64_t f[8] = {}; // user nice system idle iowait irq softirq steal
    if (!(in >> name) || name != "cpu") return false;
    int read = 0;
    while (read < 8 && in >> f[read]) ++read;
    if (read < 7) return false; // steal came with Linux 2.6.11: 0 before
    *busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
    return true;
}

bool parse_proc_self_ticks(const std::string& text, uint64_t* ticks) {
    // "pid (comm) state ppid ..." - comm may hold spaces and parentheses: fields count from the last ')'.
    const size_t close = text.rfind(')');
    if (close == std::string::npos) return false;
    std::istringstream in(text.substr(close + 1));
    std::string field;
    uint64_t utime = 0, stime = 0;
    for (int i = 3; i <= 15; ++i) { // field 3 is the state; 14 utime, 15 stime
        if (!(in >> field)) return false;
        if (i == 14 || i == 15) {
            char* end = nullptr;
            const unsigned long long v = std::strtoull(field.c_str(), &end, 10);
            if (end == field.c_str() || *end) return false;
            (i == 14 ? utime : stime) = v;
        }
    }
    *ticks = utime + stime;
    return true;
}

CpuTicks cpu_ticks_now() {
    CpuTicks t;
    t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    t.valid = parse_proc_stat_busy(read_small("/proc/stat"), &t.busy) && parse_proc_self_ticks(read_small("/proc/self/stat"), &t.self);
    return t;
}

double others_busy_cpus(const CpuTicks& a, const CpuTicks& b) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double elapsed = b.seconds - a.seconds;
    if (!a.valid || !b.valid || elapsed < 0.2 || b.busy < a.busy || b.self < a.self) return nan;
    const long hz = sysconf(_SC_CLK_TCK);
    if (hz <= 0) return nan;
    const double others = (double(b.busy - a.busy) - double(b.self - a.self)) / double(hz);
    return std::max(0.0, others / elapsed); // the two files are read a moment apart: a tick either way
}

} // namespace ss
