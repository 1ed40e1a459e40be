// machine_load.h - how busy other processes kept the machine while something was measured.
//
// Linux's /proc/stat counts, for all CPUs together, the clock ticks spent busy (user, nice,
// system, irq, softirq, and steal: time the hypervisor gave to other virtual machines);
// /proc/self/stat counts this process's own (all its threads). The busy ticks not ours, divided by
// the elapsed ticks, are the mean number of CPUs others kept busy. On a shared machine this is
// what makes a latency noisy; it is stored with each run and shown beside its timings.
#pragma once

#include <cstdint>
#include <string>

namespace ss {

struct CpuTicks {
    bool valid = false;
    uint64_t busy = 0;    // all CPUs: user + nice + system + irq + softirq + steal (USER_HZ ticks)
    uint64_t self = 0;    // this process: utime + stime
    double seconds = 0.0; // steady clock
};

CpuTicks cpu_ticks_now();

// Mean number of CPUs kept busy by other processes (and other virtual machines) between two
// readings; NaN when /proc could not be read or less than 0.2 s passed (ticks are 10 ms).
double others_busy_cpus(const CpuTicks& before, const CpuTicks& after);

// From /proc/stat's "cpu" line and /proc/self/stat's text (parsing split out for tests).
bool parse_proc_stat_busy(const std::string& proc_stat, uint64_t* busy);
bool parse_proc_self_ticks(const std::string& self_stat, uint64_t* ticks);

// Other processes kept at least this many CPUs busy: the run's timings are called "measured on a
// busy machine" and a speed verdict resting on latency alone is withheld.
inline constexpr double kBusyOthersCpus = 0.5;
inline bool machine_was_busy(double others_cpus) { return others_cpus >= kBusyOthersCpus; } // false for NaN

} // namespace ss
