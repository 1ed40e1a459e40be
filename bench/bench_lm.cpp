// bench_lm.cpp - language-model decoding and loading on a realistic size: the random-weight ~1 B
// parameter Mixtral-layout model scripts/lm/make_bench_lm.py writes (not committed), named by
// SPARSESCOPE_BENCH_LM=DIR.
//
//   BM_decode/PLAN: generation at batch 1 with the KV cache, one token per iteration, the
//       compressed model and the dense fp32 model stepping alternately in the same loop; counters:
//       tokens_per_s (compressed), dense_tokens_per_s, vs_dense (= dense time / compressed time).
//   BM_load: load_model on the directory (the SHA-256 runs on its own thread and is not waited for);
//       counter vs_read = time to read the file's bytes into memory / load time, both from a warm
//       page cache (the file is read once, untimed, first).
// Run: SPARSESCOPE_BENCH_LM=/tmp/bench-lm build/bench/bench_lm --benchmark_repetitions=3
#include "compress/compression.h"
#include "compress/compression_plan.h"
#include "formats/file_io.h"
#include "formats/model_io.h"
#include "kernels/blas_setup.h"
#include "kernels/thread_pool.h"
#include "model/lm_forward.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

namespace {
using Clock = std::chrono::steady_clock;

const char* model_dir() { return std::getenv("SPARSESCOPE_BENCH_LM"); }

const ss::Model* dense_model() {
    static std::unique_ptr<ss::Model> m;
    if (!m && model_dir()) m = std::make_unique<ss::Model>(ss::load_model(model_dir()));
    return m.get();
}

// One decode step of `m` at the cache's next position; the cache restarts after `ctx` tokens.
double step(const ss::Model& m, ss::KvCache& cache, ss::LmWorkspace& ws, std::vector<float>& logits, int32_t& token) {
    if (cache.length == cache.capacity) cache.length = 16; // keep the prompt, overwrite the rest
    const auto t0 = Clock::now();
    ss::lm_forward(m, &token, 1, cache, logits.data(), false, ws);
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    token = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
    return s;
}

// `plan`: compression plan JSON (docs/compression.md).
void BM_decode(benchmark::State& st, const char* plan) {
    const ss::Model* dense = dense_model();
    if (!dense) {
        st.SkipWithError("set SPARSESCOPE_BENCH_LM to a model written by scripts/lm/make_bench_lm.py");
        return;
    }
    ss::set_compute_threads(int(st.range(0)));
    const ss::CompressedModel cm = ss::compress(*dense, ss::parse_compression_plan(plan, "bench plan"));
    const int ctx = 256, V = dense->lm.vocab;
    ss::KvCache c1 = ss::make_kv_cache(cm.model, ctx), c2 = ss::make_kv_cache(*dense, ctx);
    ss::LmWorkspace w1, w2;
    std::vector<float> l1(static_cast<size_t>(V)), l2(static_cast<size_t>(V));
    std::vector<int32_t> prompt(16);
    for (int i = 0; i < 16; ++i) prompt[size_t(i)] = 100 + 37 * i;
    ss::lm_forward(cm.model, prompt.data(), 16, c1, l1.data(), false, w1);
    ss::lm_forward(*dense, prompt.data(), 16, c2, l2.data(), false, w2);
    int32_t t1 = 5, t2 = 5;
    double s1 = 0.0, s2 = 0.0;
    int64_t n = 0;
    for (auto _ : st) {
        if (n % 2) s2 += step(*dense, c2, w2, l2, t2); // alternate which goes first
        s1 += step(cm.model, c1, w1, l1, t1);
        if (n % 2 == 0) s2 += step(*dense, c2, w2, l2, t2);
        ++n;
    }
    st.counters["tokens_per_s"] = double(n) / s1;
    st.counters["dense_tokens_per_s"] = double(n) / s2;
    st.counters["vs_dense"] = s2 / s1;
    st.counters["weight_MB"] = double(cm.weight_bytes) / 1e6;
}

void BM_load(benchmark::State& st) {
    if (!model_dir()) {
        st.SkipWithError("set SPARSESCOPE_BENCH_LM");
        return;
    }
    const std::string file = std::string(model_dir()) + "/model.safetensors";
    benchmark::DoNotOptimize(ss::read_file_bytes(file).data()); // both timings below start from a warm page cache
    double read_s = 0.0, load_s = 0.0;
    for (auto _ : st) {
        auto t0 = Clock::now();
        const auto bytes = ss::read_file_bytes(file);
        benchmark::DoNotOptimize(bytes.data());
        read_s += std::chrono::duration<double>(Clock::now() - t0).count();
        t0 = Clock::now();
        const ss::Model m = ss::load_model(model_dir());
        benchmark::DoNotOptimize(&m);
        load_s += std::chrono::duration<double>(Clock::now() - t0).count();
    }
    st.counters["vs_read"] = read_s / load_s;
    st.counters["load_s"] = load_s / double(st.iterations());
}

} // namespace

BENCHMARK_CAPTURE(BM_decode, dense, R"({})")->Arg(1)->Arg(2)->Iterations(64)->UseRealTime();
BENCHMARK_CAPTURE(BM_decode, int8, R"({"quant": "int8"})")->Arg(1)->Arg(2)->Iterations(64)->UseRealTime();
BENCHMARK_CAPTURE(BM_decode, int4_g32, R"({"quant": "int4:g32"})")->Arg(1)->Arg(2)->Iterations(64)->UseRealTime();
// lm_head (32,000 x 1,024) stays fp32 unless the plan names it: a third of int4's bytes per token.
BENCHMARK_CAPTURE(BM_decode, int4_g32_head_int8, R"({"quant": "int4:g32", "layers": {"lm_head": {"quant": "int8"}}})")
    ->Arg(1)->Arg(2)->Iterations(64)->UseRealTime();
BENCHMARK_CAPTURE(BM_decode, int8_head_int8, R"({"quant": "int8", "layers": {"lm_head": {"quant": "int8"}}})")
    ->Arg(1)->Arg(2)->Iterations(64)->UseRealTime();
BENCHMARK_CAPTURE(BM_decode, nm24, R"({"prune": "nm:2:4"})")->Arg(1)->Arg(2)->Iterations(64)->UseRealTime();
BENCHMARK_CAPTURE(BM_decode, magnitude90, R"({"prune": "magnitude:0.9"})")->Arg(1)->Arg(2)->Iterations(64)->UseRealTime();
BENCHMARK(BM_load)->Iterations(1)->UseRealTime()->Unit(benchmark::kSecond);

int main(int argc, char** argv) {
    ss::ensure_blas_core(argv);
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
