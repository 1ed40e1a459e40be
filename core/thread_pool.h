// thread_pool.h - the core's own worker threads for its kernels (CSR, block-sparse, quantized).
//
// OpenBLAS keeps its own threads. set_compute_threads(n) sets both to n, and the two never run at
// once: every kernel call, OpenBLAS's or ours, is made from the calling thread and returns when it
// is done, so at most n threads compute at any moment. Workers spin briefly after a job (kernel
// calls come in quick succession within a forward pass), then sleep.
#pragma once

#include <cstdint>
#include <functional>

namespace ss {

// Threads for our kernels and for OpenBLAS (clamped to 1 .. 64).
void set_compute_threads(int n);
int compute_threads();

// Calls fn(begin, end) on disjoint ranges covering [0, n), each a multiple of `grain` long except
// the last, using up to compute_threads() threads (the caller is one of them). Returns when every
// range is done. Runs inline when n is small, with one thread, or when called from a worker.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

} // namespace ss
