// thread_pool.cpp
//
// A job is cut into tasks of whole grains; the caller and the workers take tasks from one shared
// counter until none is left. A thread the OS has preempted therefore holds up at most the one
// task it took, never a fixed half of the job: on a desktop where another process keeps a core
// busy, the caller simply does more of the tasks itself.
//
// Joining a job: a worker raises `active_`, then checks that the job is still open; the caller
// closes the job when the counter is exhausted and waits until `active_` is zero. Both sides use
// sequentially consistent operations, so a worker that arrives late either sees the job closed
// (and touches nothing of it) or is counted in `active_` before the caller stops waiting.
//
// Solo or shared, measured: a worker the OS preempts in the middle of a task keeps the caller
// waiting for a whole scheduling slice (milliseconds) - far longer than a batch-1 job
// (microseconds) - and some jobs are too small for a hand-over to pay at all. So the pool times
// every job, per kernel and size class (log2 of its multiply-adds), in ns per multiply-add, both
// when shared with the workers and when run by the caller alone, and runs each job the way whose
// median over the last 8 has been faster for its class. Jobs go in bursts of 4 run the same way; every 64th burst of a
// class runs the other way, to notice when the machine has changed (another process started or
// stopped). Solo or shared, the tasks - and so
// the ranges each kernel call sees - are the same, which keeps results independent of timing.

#include "kernels/thread_pool.h"

#include <cblas.h>
#include <immintrin.h>
#include <sched.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace ss {

namespace {

thread_local bool t_in_worker = false;
// An idle worker spins this long before sleeping: kernel calls come in quick succession within a
// forward pass, and waking a sleeping thread costs tens of microseconds on a VM (measured: 50 us
// of spinning left shared jobs between solo ones paying that, and losing to the caller alone).
constexpr int kIdleSpinUs = 300;

// Bounded wait: a short spin (the awaited thread is usually microseconds away), then give the
// core away each round, so a thread we wait for that shares our core gets to run.
template <class Done> void wait_until(Done done) {
    for (int spin = 0; !done(); ++spin) {
        if (spin < 2048) _mm_pause();
        else sched_yield();
    }
}

class Pool {
public:
    ~Pool() { resize(0); }

    void resize(int workers) {
        if (workers == int(workers_.size())) return;
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
            generation_.fetch_add(1);
        }
        cv_.notify_all();
        for (auto& t : workers_) t.join();
        workers_.clear();
        stop_ = false;
        const uint64_t now = generation_.load(); // jobs from here on are new to the workers
        for (int i = 0; i < workers; ++i) workers_.emplace_back([this, now] { loop(now); });
    }

    // Runs task(0) .. task(tasks - 1), each exactly once: with the workers when `shared`, else
    // on the caller alone.
    void run(int64_t tasks, const std::function<void(int64_t)>& task, bool shared) {
        if (!shared) {
            for (int64_t t = 0; t < tasks; ++t) task(t);
            return;
        }
        task_ = &task;
        tasks_ = tasks;
        next_.store(0);
        open_.store(true);
        {
            std::lock_guard lock(mutex_);
            generation_.fetch_add(1);
        }
        cv_.notify_all();
        take_tasks();
        open_.store(false);
        wait_until([&] { return active_.load() == 0; });
    }

private:
    void take_tasks() {
        for (int64_t t; (t = next_.fetch_add(1)) < tasks_;) (*task_)(t);
    }

    void loop(uint64_t seen) {
        t_in_worker = true;
        for (;;) {
            const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(kIdleSpinUs);
            // After ~5 us of pure spinning, every 64 pauses the core is offered away: a caller that
            // shares this core (another process busy on the other) gets to run meanwhile.
            for (int spin = 1; generation_.load(std::memory_order_acquire) == seen; ++spin) {
                _mm_pause();
                if ((spin & 63) == 0) {
                    if (std::chrono::steady_clock::now() > until) break;
                    if (spin >= 256) sched_yield();
                }
            }
            {
                std::unique_lock lock(mutex_);
                cv_.wait(lock, [&] { return generation_.load() != seen; });
                if (stop_) return;
                seen = generation_.load();
            }
            active_.fetch_add(1);
            if (open_.load()) take_tasks();
            active_.fetch_sub(1);
        }
    }

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::atomic<uint64_t> generation_{0};
    bool stop_ = false;
    // The job: written by the caller before open_ is set, read by workers after they see it set.
    const std::function<void(int64_t)>* task_ = nullptr;
    int64_t tasks_ = 0;
    std::atomic<int64_t> next_{0};
    std::atomic<bool> open_{false};
    std::atomic<int> active_{0};
};

Pool& pool() {
    static Pool p;
    return p;
}

// Per call site and size class: the last 8 timings (ns per multiply-add) shared and solo, whose
// medians decide (a median, since one hiccup of the VM must not flip the choice for hundreds of
// jobs). Touched under g_config_mutex only.
class SoloOrShared {
public:
    // Whether the next job of this much work runs shared, and whether its time is to be recorded.
    struct Choice {
        bool shared, record;
    };
    Choice choose(size_t site, double work) {
        Class& c = of(site, work);
        if (c.burst_left == 0) { // start a burst: each way first, then every 64th burst the other way
            const double shared = c.shared.median(), solo = c.solo.median();
            const bool better = shared <= solo;
            c.burst_shared = shared == 0.0 ? true : solo == 0.0 ? false : ++c.bursts % 64 == 0 ? !better : better;
            c.burst_left = kBurst;
        }
        // The first shared job of a burst may find the workers asleep: a real cost, but paid once
        // per burst, so it is not what a run of shared jobs costs per job.
        const bool record = !(c.burst_shared && c.burst_left == kBurst);
        --c.burst_left;
        return {c.burst_shared, record};
    }

    void record(size_t site, double work, bool shared, double ns) { (shared ? of(site, work).shared : of(site, work).solo).add(ns / work); }
    void count(bool shared) { ++(shared ? stats.shared_jobs : stats.solo_jobs); }

    ThreadPoolStats stats;
    void reset() { *this = SoloOrShared(); }

private:
    static constexpr int kBurst = 4; // jobs in a row run the same way
    struct Last8 {
        std::array<double, 8> v{};
        int n = 0;
        void add(double x) { v[size_t(n++ % 8)] = x; }
        double median() const { // 0 when nothing was recorded yet
            if (n == 0) return 0.0;
            std::array<double, 8> w = v;
            const int k = std::min(n, 8);
            std::nth_element(w.begin(), w.begin() + k / 2, w.begin() + k);
            return w[size_t(k / 2)];
        }
    };
    struct Class {
        Last8 shared, solo;
        int64_t bursts = 0;
        int burst_left = 0;
        bool burst_shared = true;
    };
    Class& of(size_t site, double work) { return classes_[site * 64 + size_t(std::clamp(std::ilogb(std::max(work, 1.0)), 0, 63))]; }
    std::unordered_map<size_t, Class> classes_;
};

std::mutex g_config_mutex;
int g_threads = 1;
SoloOrShared g_choice;

// Up to 4 tasks per thread, so the caller can absorb the share of a preempted worker, but none
// smaller than kTaskWork multiply-adds (~10 us): a batch-1 job is one task per thread, since
// splitting it finer costs more in hand-overs and per-call overhead than it could save.
constexpr int64_t kTasksPerThread = 4;
constexpr double kTaskWork = 262144;

} // namespace

void set_compute_threads(int n) {
    n = std::clamp(n, 1, 64);
    std::lock_guard lock(g_config_mutex);
    openblas_set_num_threads(1);
    if (n == g_threads) return;
    pool().resize(n - 1);
    g_threads = n;
    g_choice.reset(); // timings at another thread count say nothing about this one
}

ThreadPoolStats thread_pool_stats() {
    std::lock_guard lock(g_config_mutex);
    return g_choice.stats;
}

int compute_threads() {
    std::lock_guard lock(g_config_mutex);
    return g_threads;
}

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn, double work) {
    if (n <= 0) return;
    grain = std::max<int64_t>(1, grain);
    const int64_t grains = (n + grain - 1) / grain;
    const int threads = t_in_worker ? 1 : compute_threads();
    if (threads <= 1 || grains <= 1 || work < kMinParallelWork) return fn(0, n);
    const auto per_thread = int64_t(std::clamp(work / kTaskWork, 1.0, double(kTasksPerThread)));
    const int64_t tasks = std::min<int64_t>(grains, threads * per_thread);
    const int64_t span = (grains + tasks - 1) / tasks * grain; // whole grains per task
    const int64_t used = (n + span - 1) / span;
    std::lock_guard lock(g_config_mutex); // one job at a time; also keeps the pool size fixed meanwhile
    const bool known = work < 1e200; // jobs of unknown size always run shared
    // Classes are per call site (the type of the kernel's lambda) and size: kernels differ in time per multiply-add.
    const size_t site = fn.target_type().hash_code();
    const SoloOrShared::Choice how = known ? g_choice.choose(site, work) : SoloOrShared::Choice{true, false};
    g_choice.count(how.shared);
    const auto t0 = std::chrono::steady_clock::now();
    pool().run(used, [&](int64_t t) {
        const int64_t b = t * span, e = std::min(n, b + span);
        const bool was = t_in_worker;
        t_in_worker = true; // a parallel_for inside fn runs inline
        fn(b, e);
        t_in_worker = was;
    }, how.shared);
    if (how.record) g_choice.record(site, work, how.shared, std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count());
}

} // namespace ss
