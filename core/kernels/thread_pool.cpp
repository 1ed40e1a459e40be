// thread_pool.cpp
#include "kernels/thread_pool.h"

#include <cblas.h>
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace ss {

namespace {

thread_local bool t_in_worker = false;

class Pool {
public:
    ~Pool() { resize(0); }

    int threads() const { return int(workers_.size()) + 1; }

    void resize(int workers) {
        if (workers == int(workers_.size())) return;
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
            ++generation_;
        }
        cv_.notify_all();
        for (auto& t : workers_) t.join();
        workers_.clear();
        stop_ = false;
        const uint64_t now = generation_.load(); // jobs from here on are new to the workers
        for (int i = 0; i < workers; ++i) workers_.emplace_back([this, i, now] { loop(i + 1, now); });
    }

    // Range t of `parts` goes to participant t (0 = the caller).
    void run(int parts, const std::function<void(int)>& job) {
        {
            std::lock_guard lock(mutex_);
            job_ = &job;
            parts_ = parts;
            pending_.store(parts - 1, std::memory_order_relaxed);
            generation_.fetch_add(1, std::memory_order_release);
        }
        cv_.notify_all();
        job(0);
        while (pending_.load(std::memory_order_acquire) != 0) _mm_pause();
    }

private:
    void loop(int id, uint64_t seen) {
        t_in_worker = true;
        for (;;) {
            // Spin a little (the next kernel call usually follows within microseconds), then sleep.
            const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
            for (int spin = 0; generation_.load(std::memory_order_acquire) == seen; ++spin) {
                _mm_pause();
                if ((spin & 63) == 0 && std::chrono::steady_clock::now() > until) break;
            }
            if (generation_.load(std::memory_order_acquire) == seen) {
                std::unique_lock lock(mutex_);
                cv_.wait(lock, [&] { return generation_.load() != seen; });
            }
            const std::function<void(int)>* job;
            int parts;
            {
                std::lock_guard lock(mutex_);
                if (stop_) return;
                seen = generation_.load();
                job = job_;
                parts = parts_;
            }
            if (id < parts) {
                (*job)(id);
                pending_.fetch_sub(1, std::memory_order_acq_rel);
            }
        }
    }

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::atomic<uint64_t> generation_{0};
    std::atomic<int> pending_{0};
    const std::function<void(int)>* job_ = nullptr;
    int parts_ = 0;
    bool stop_ = false;
};

Pool& pool() {
    static Pool p;
    return p;
}

std::mutex g_config_mutex;
int g_threads = 1;

} // namespace

void set_compute_threads(int n) {
    n = std::clamp(n, 1, 64);
    std::lock_guard lock(g_config_mutex);
    openblas_set_num_threads(1);
    if (n == g_threads) return;
    pool().resize(n - 1);
    g_threads = n;
}

int compute_threads() {
    std::lock_guard lock(g_config_mutex);
    return g_threads;
}

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
    if (n <= 0) return;
    grain = std::max<int64_t>(1, grain);
    const int64_t chunks = (n + grain - 1) / grain;
    const int threads = t_in_worker ? 1 : compute_threads();
    const int parts = int(std::min<int64_t>(threads, chunks));
    if (parts <= 1) return fn(0, n);
    // Equal shares of whole grains; the last part takes the remainder.
    const int64_t per = (chunks + parts - 1) / parts * grain;
    std::lock_guard lock(g_config_mutex); // one job at a time; also keeps the pool size fixed meanwhile
    pool().run(parts, [&](int t) {
        const int64_t b = int64_t(t) * per, e = std::min(n, b + per);
        const bool was = t_in_worker;
        t_in_worker = true; // a parallel_for inside fn runs inline
        if (b < e) fn(b, e);
        t_in_worker = was;
    });
}

} // namespace ss
