// bench_threads.cpp - does a second thread help, on a quiet machine and beside a busy process?
//
//   BM_threads/KIND/N/T/LOAD: the demo model's forward at batch N with T compute threads; KIND 0 is
//       dense, 1 int8 (integer kernels), 2 90 % magnitude-pruned (CSR); LOAD 1 runs one competing
//       process that keeps a core busy (a child spinning in a loop, as a compile or a browser tab
//       would) for the whole measurement, LOAD 0 none.
// Wall-clock time (real_time): what a user waits for. scripts/bench prints, per kind, batch and
// load, the ratio time(1 thread) / time(2 threads); issue 13's goal is that it never drops below 1.
// Run: build/bench/bench_threads --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
#include "compress/compression.h"
#include "formats/model_io.h"
#include "kernels/blas_setup.h"
#include "kernels/thread_pool.h"
#include "model/forward.h"

#include <benchmark/benchmark.h>
#include <cblas.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <vector>

namespace {

const ss::Model& demo() {
    static const ss::Model m = ss::load_model(SPARSESCOPE_RESOURCE_DIR "/models/fashion-moe");
    return m;
}

const ss::Model& model_of_kind(int kind) {
    static const ss::CompressedModel int8 = ss::compress(demo(), ss::plan_from_flags("none", "int8", 0));
    static const ss::CompressedModel sparse90 = ss::compress(demo(), ss::plan_from_flags("magnitude:0.9", "none", 0));
    return kind == 1 ? int8.model : kind == 2 ? sparse90.model : demo();
}

// A child process spinning on one core until killed.
class BusyProcess {
public:
    explicit BusyProcess(bool on) {
        if (!on) return;
        pid_ = fork();
        if (pid_ == 0) {
            volatile uint64_t x = 0;
            for (;;) x = x + 1;
        }
    }
    ~BusyProcess() {
        if (pid_ <= 0) return;
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }

private:
    pid_t pid_ = -1;
};

void BM_threads(benchmark::State& st) {
    const ss::Model& m = model_of_kind(int(st.range(0)));
    const int n = int(st.range(1));
    ss::set_compute_threads(int(st.range(2)));
    std::vector<float> x(size_t(n) * m.input_features()), logits(size_t(n) * m.num_classes());
    for (size_t i = 0; i < x.size(); ++i) x[i] = 0.5f + 0.5f * std::sin(float(i) * 0.37f);
    ss::ForwardWorkspace ws;
    ss::forward(m, x.data(), n, logits.data(), {}, ws, nullptr); // warm: prepared kernels, buffers
    BusyProcess busy(st.range(3) != 0);
    const ss::ThreadPoolStats s0 = ss::thread_pool_stats();
    for (auto _ : st) {
        ss::forward(m, x.data(), n, logits.data(), {}, ws, nullptr);
        benchmark::DoNotOptimize(logits.data());
    }
    st.SetItemsProcessed(int64_t(st.iterations()) * n);
    const ss::ThreadPoolStats s1 = ss::thread_pool_stats();
    const double solo = double(s1.solo_jobs - s0.solo_jobs), shared = double(s1.shared_jobs - s0.shared_jobs);
    st.counters["solo"] = solo + shared > 0 ? solo / (solo + shared) : 0.0; // share of jobs the caller ran alone
}

} // namespace

BENCHMARK(BM_threads)->ArgsProduct({{0, 1, 2}, {1, 256}, {1, 2}, {0, 1}})->UseRealTime()->MinTime(0.3);

int main(int argc, char** argv) {
    ss::ensure_blas_core(argv);
    openblas_set_num_threads(1);
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    ss::set_compute_threads(1);
    return 0;
}
