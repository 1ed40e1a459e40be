// bench_forward.cpp - the dense forward against raw OpenBLAS, measured side by side in one run.
//
//   BM_linear_sgemv / BM_linear_sgemm_m1: one 784 -> 256 layer at batch 1, through sgemv (what
//       linear_forward uses) and through sgemm with M = 1 (what it avoids).
//   BM_demo_forward/N: the demo model (Fashion-MNIST MoE) at batch N.
//   BM_demo_forward_pruned50/N: the same after 50 % magnitude pruning: its matrices run the CSR
//       kernel (kernel_plan.h) at batch 1 and 256.
//   BM_demo_forward_neurons50/N: after removing half the hidden units of every expert (structured):
//       smaller matrices, so genuinely less work.
//   BM_demo_forward_int8/N, _int4/N, _sparse90/N: the demo quantized (integer kernels) or 90 %
//       magnitude-pruned (CSR).
//   BM_moe_layer/N: the demo's MoE layer alone (8 experts, top-2) at batch N, with the share of its
//       time spent routing, sorting, gathering and scattering (counter "dispatch"), against
//   BM_moe_all_experts_dense/N: every expert run on all N rows (no routing: 4x the expert work).
// Run: build/bench/bench_forward --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include "model/activation.h"
#include "compress/compression.h"
#include "kernels/dense_linear.h"
#include "model/forward.h"
#include "formats/model_io.h"
#include "model/moe_forward.h"

#include "kernels/blas_setup.h"

#include <benchmark/benchmark.h>
#include <cblas.h>

#include <chrono>
#include <cmath>
#include <vector>

namespace {

std::vector<float> ramp(size_t n) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = std::sin(float(i) * 0.37f);
    return v;
}

void BM_linear_sgemv(benchmark::State& st) {
    const int in = 784, out = 256;
    const auto w = ramp(size_t(in) * out), x = ramp(size_t(in));
    std::vector<float> y(static_cast<size_t>(out));
    for (auto _ : st) {
        cblas_sgemv(CblasRowMajor, CblasNoTrans, out, in, 1.0f, w.data(), in, x.data(), 1, 0.0f, y.data(), 1);
        benchmark::DoNotOptimize(y.data());
    }
    st.SetBytesProcessed(int64_t(st.iterations()) * in * out * 4);
}

void BM_linear_sgemm_m1(benchmark::State& st) {
    const int in = 784, out = 256;
    const auto w = ramp(size_t(in) * out), x = ramp(size_t(in));
    std::vector<float> y(static_cast<size_t>(out));
    for (auto _ : st) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, 1, out, in, 1.0f, x.data(), in, w.data(), in, 0.0f, y.data(), out);
        benchmark::DoNotOptimize(y.data());
    }
    st.SetBytesProcessed(int64_t(st.iterations()) * in * out * 4);
}

const ss::Model& demo() {
    static const ss::Model m = ss::load_model(SPARSESCOPE_RESOURCE_DIR "/models/fashion-moe");
    return m;
}

void run_forward(benchmark::State& st, const ss::Model& m) {
    const int n = int(st.range(0));
    const auto x = ramp(size_t(n) * m.input_features());
    std::vector<float> logits(size_t(n) * m.num_classes());
    ss::ForwardWorkspace ws;
    for (auto _ : st) {
        ss::forward(m, x.data(), n, logits.data(), {}, ws, nullptr);
        benchmark::DoNotOptimize(logits.data());
    }
    st.SetItemsProcessed(int64_t(st.iterations()) * n);
}

void BM_demo_forward(benchmark::State& st) { run_forward(st, demo()); }

void BM_demo_forward_pruned50(benchmark::State& st) {
    static const ss::CompressedModel c = ss::compress(demo(), ss::plan_from_flags("magnitude:0.5", "none", 0));
    run_forward(st, c.model);
}

void BM_demo_forward_neurons50(benchmark::State& st) {
    static const ss::CompressedModel c = ss::compress(demo(), ss::plan_from_flags("neurons:0.5", "none", 0));
    run_forward(st, c.model);
}

void BM_demo_forward_int8(benchmark::State& st) {
    static const ss::CompressedModel c = ss::compress(demo(), ss::plan_from_flags("none", "int8", 0));
    run_forward(st, c.model);
}

void BM_demo_forward_int4(benchmark::State& st) {
    static const ss::CompressedModel c = ss::compress(demo(), ss::plan_from_flags("none", "int4:g32", 0));
    run_forward(st, c.model);
}

void BM_demo_forward_sparse90(benchmark::State& st) {
    static const ss::CompressedModel c = ss::compress(demo(), ss::plan_from_flags("magnitude:0.9", "none", 0));
    run_forward(st, c.model);
}

const ss::MoeLayer& demo_moe() { return *demo().moe_layers()[0]; }

void BM_moe_layer(benchmark::State& st) {
    const ss::MoeLayer& moe = demo_moe();
    const int n = int(st.range(0));
    const auto x = ramp(size_t(n) * moe.dim);
    std::vector<float> y(x.size());
    ss::MoeScratch s;
    double dispatch_ns = 0.0, total_ns = 0.0;
    for (auto _ : st) {
        s.dispatch_ns = &dispatch_ns;
        const auto t0 = std::chrono::steady_clock::now();
        ss::moe_forward(moe, moe.top_k, x.data(), n, y.data(), s, nullptr);
        total_ns += std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
        benchmark::DoNotOptimize(y.data());
    }
    st.SetItemsProcessed(int64_t(st.iterations()) * n);
    st.counters["dispatch"] = dispatch_ns / total_ns;
}

void BM_moe_all_experts_dense(benchmark::State& st) {
    const ss::MoeLayer& moe = demo_moe();
    const int n = int(st.range(0));
    const auto x = ramp(size_t(n) * moe.dim);
    std::vector<float> h(size_t(n) * moe.hidden), o(size_t(n) * moe.dim), y(o.size());
    for (auto _ : st) {
        std::fill(y.begin(), y.end(), 0.0f);
        for (const auto& e : moe.experts) {
            ss::linear_forward(e.fc1, x.data(), n, h.data());
            ss::apply_activation(moe.activation, h.data(), h.size());
            ss::linear_forward(e.fc2, h.data(), n, o.data());
            for (size_t i = 0; i < y.size(); ++i) y[i] += o[i];
        }
        benchmark::DoNotOptimize(y.data());
    }
    st.SetItemsProcessed(int64_t(st.iterations()) * n);
}

} // namespace

BENCHMARK(BM_linear_sgemv);
BENCHMARK(BM_linear_sgemm_m1);
BENCHMARK(BM_demo_forward)->Arg(1)->Arg(64)->Arg(256);
BENCHMARK(BM_demo_forward_pruned50)->Arg(1)->Arg(256);
BENCHMARK(BM_demo_forward_neurons50)->Arg(1)->Arg(256);
BENCHMARK(BM_demo_forward_int8)->Arg(1)->Arg(256);
BENCHMARK(BM_demo_forward_int4)->Arg(1)->Arg(256);
BENCHMARK(BM_demo_forward_sparse90)->Arg(1)->Arg(256);
BENCHMARK(BM_moe_layer)->Arg(32)->Arg(256);
BENCHMARK(BM_moe_all_experts_dense)->Arg(32)->Arg(256);

int main(int argc, char** argv) {
    ss::ensure_blas_core(argv);
    openblas_set_num_threads(1);
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    return 0;
}
