// thread_pool.h - the core's own worker threads for its kernels (CSR, block-sparse, quantized).
//
// set_compute_threads(n) gives the pool n - 1 workers (the caller is the n-th) and keeps OpenBLAS
// at one thread: the kernels split their work over the pool, and OpenBLAS calls run on slices
// inside it (dense_linear.cpp), so two sets of threads never compete for the cores. A job is cut
// into several tasks per thread taken from a shared counter, so a preempted thread stalls only its
// own task, and each size of job runs shared or on the caller alone, whichever has been measured
// faster on this machine lately (thread_pool.cpp). Workers spin for up to ~300 us after a job (kernel calls come in
// quick succession within a forward pass), then sleep; a caller waiting for a straggler spins
// briefly, then yields its core.
#pragma once

#include <cstdint>
#include <functional>

namespace ss {

// Threads for every kernel (clamped to 1 .. 64); OpenBLAS itself stays single-threaded.
void set_compute_threads(int n);
int compute_threads();

// Jobs of known size run shared with the workers and run by the caller alone, since the thread
// count was last set; the pool runs each size of job the way measured faster (thread_pool.cpp).
struct ThreadPoolStats {
    int64_t shared_jobs = 0, solo_jobs = 0;
};
ThreadPoolStats thread_pool_stats();

// Jobs with less work than this (in multiply-adds or comparable steps) run on the calling
// thread: waking a sleeping worker costs more than they take.
constexpr double kMinParallelWork = 32768;

// Calls fn(begin, end) on disjoint ranges covering [0, n), each a multiple of `grain` long except
// the last, using up to compute_threads() threads (the caller is one of them). Returns when every
// range is done. The ranges depend on the arguments and the thread count only, never on timing.
// Runs inline with one thread, when n is one grain, when `work` (the whole job's multiply-adds;
// unknown by default) is below kMinParallelWork, or when called from inside a parallel_for.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn, double work = 1e300);

} // namespace ss
