// thread_pool.h - the core's own worker threads for its kernels (CSR, block-sparse, quantized).
//
// set_compute_threads(n) gives the pool n - 1 workers (the caller is the n-th) and keeps OpenBLAS
// at one thread: the kernels split their work over the pool, and OpenBLAS calls run on slices
// inside it (dense_linear.cpp), so two sets of threads never compete for the cores. Workers spin
// for up to ~50 us after a job (kernel calls come in quick succession within a forward pass),
// then sleep.
#pragma once

#include <cstdint>
#include <functional>

namespace ss {

// Threads for every kernel (clamped to 1 .. 64); OpenBLAS itself stays single-threaded.
void set_compute_threads(int n);
int compute_threads();

// Calls fn(begin, end) on disjoint ranges covering [0, n), each a multiple of `grain` long except
// the last, using up to compute_threads() threads (the caller is one of them). Returns when every
// range is done. Runs inline when n is small, with one thread, or when called from a worker.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

} // namespace ss
