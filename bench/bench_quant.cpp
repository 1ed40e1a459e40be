// bench_quant.cpp - the integer kernels against OpenBLAS on the same fp32 weights, side by side.
//   BM_sgemv/T:           dense fp32 W (4096 x 4096), batch 1, OpenBLAS with T threads (the batch-1 baseline)
//   BM_qdot/BITS/T:       W quantized (int8 per channel, int4:g32), integer dot kernel, batch 1
//   BM_sgemm_b/B/T:       dense fp32 W, batch B, OpenBLAS with T threads (the small-batch baseline)
//   BM_qdot_b/BITS/B/T:   the integer dot kernel at batch B
//   BM_qtiles/BITS/B/T:   dequantized 64-row tiles + sgemm at batch B
// Ratios (baseline time / kernel time, same process, same thread count) are printed by scripts/bench.
#include "kernels/quant_matmul.h"
#include "kernels/thread_pool.h"

#include "kernels/blas_setup.h"

#include <benchmark/benchmark.h>
#include <cblas.h>

#include <random>
#include <vector>

namespace {

constexpr int kOut = 4096, kIn = 4096;

const std::vector<float>& weights() {
    static const std::vector<float> w = [] {
        std::mt19937_64 rng(1);
        std::normal_distribution<float> d(0.0f, 0.05f);
        std::vector<float> v(size_t(kOut) * kIn);
        for (auto& x : v) x = d(rng);
        return v;
    }();
    return w;
}

const ss::QMatrix& qmatrix(int bits) {
    static const ss::QMatrix q8 = ss::qmatrix_from(ss::quantize_weights(weights().data(), kOut, kIn, ss::parse_quant_spec("int8")));
    static const ss::QMatrix q4 = ss::qmatrix_from(ss::quantize_weights(weights().data(), kOut, kIn, ss::parse_quant_spec("int4:g32")));
    return bits == 8 ? q8 : q4;
}

std::vector<float> inputs(int n) {
    std::mt19937_64 rng(2);
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> x(size_t(n) * kIn);
    for (auto& v : x) v = d(rng);
    return x;
}

// The dense baselines run OpenBLAS's own threads: set_compute_threads pins OpenBLAS to one
// (SparseScope splits the work itself), which would measure a 2-thread kernel against 1-thread BLAS.
void blas_threads(int n) {
    ss::set_compute_threads(n);
    openblas_set_num_threads(n);
}

void BM_sgemv(benchmark::State& st) {
    blas_threads(int(st.range(0)));
    const auto& w = weights();
    const auto x = inputs(1);
    std::vector<float> y(static_cast<size_t>(kOut));
    for (auto _ : st) {
        cblas_sgemv(CblasRowMajor, CblasNoTrans, kOut, kIn, 1.0f, w.data(), kIn, x.data(), 1, 0.0f, y.data(), 1);
        benchmark::DoNotOptimize(y.data());
    }
    st.SetBytesProcessed(int64_t(st.iterations()) * kOut * kIn * 4);
}

void BM_qdot(benchmark::State& st) {
    const ss::QMatrix& q = qmatrix(int(st.range(0)));
    ss::set_compute_threads(int(st.range(1)));
    const auto x = inputs(1);
    std::vector<float> y(static_cast<size_t>(kOut));
    for (auto _ : st) {
        ss::qmatmul_dot(q, nullptr, x.data(), 1, y.data());
        benchmark::DoNotOptimize(y.data());
    }
    st.SetBytesProcessed(int64_t(st.iterations()) * q.storage_bytes());
}

void BM_sgemm_b(benchmark::State& st) {
    const int n = int(st.range(0));
    blas_threads(int(st.range(1)));
    const auto& w = weights();
    const auto x = inputs(n);
    std::vector<float> y(size_t(n) * kOut);
    for (auto _ : st) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, kOut, kIn, 1.0f, x.data(), kIn, w.data(), kIn, 0.0f, y.data(), kOut);
        benchmark::DoNotOptimize(y.data());
    }
    st.SetItemsProcessed(int64_t(st.iterations()) * n);
}

template <bool Tiles>
void BM_q_batch(benchmark::State& st) {
    const ss::QMatrix& q = qmatrix(int(st.range(0)));
    const int n = int(st.range(1));
    ss::set_compute_threads(int(st.range(2)));
    const auto x = inputs(n);
    std::vector<float> y(size_t(n) * kOut);
    for (auto _ : st) {
        if (Tiles) ss::qmatmul_tiles(q, nullptr, x.data(), n, y.data());
        else ss::qmatmul_dot(q, nullptr, x.data(), n, y.data());
        benchmark::DoNotOptimize(y.data());
    }
    st.SetItemsProcessed(int64_t(st.iterations()) * n);
}
void BM_qdot_b(benchmark::State& st) { BM_q_batch<false>(st); }
void BM_qtiles(benchmark::State& st) { BM_q_batch<true>(st); }

} // namespace

BENCHMARK(BM_sgemv)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_qdot)->ArgsProduct({{8, 4}, {1, 2}})->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_sgemm_b)->ArgsProduct({{4, 8, 64}, {1, 2}})->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_qdot_b)->ArgsProduct({{8, 4}, {4, 8}, {1, 2}})->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_qtiles)->ArgsProduct({{8, 4}, {8, 64}, {1, 2}})->Unit(benchmark::kMicrosecond)->UseRealTime();

int main(int argc, char** argv) {
    ss::ensure_blas_core(argv);
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    return 0;
}
