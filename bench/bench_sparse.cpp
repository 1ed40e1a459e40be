// bench_sparse.cpp - sparse fp32 kernels against OpenBLAS sgemm, side by side in one run.
//   BM_sgemv: dense batch 1 (the batch-1 baseline); BM_sgemm/B: dense x W^T, W 1024 x 1024, batch B.
//   BM_csr/B/S: the CSR kernel on the same W with S % of its weights zero.
//   BM_bsr/B/S: the 4x1 block-sparse kernel on W with S % of its 4x1 blocks zero (block pruning);
//   BM_bsr_unstructured/B/S: the same kernel on unstructured S % sparsity (it stores some zeros).
//   BM_nm24/B: the 2:4 kernel (fixed-count indices) on W pruned 2:4, batch B (1 or 2).
// Ratios (sgemm time / csr time) per sparsity are in docs/performance.md.
#include "kernels/sparse_bsr.h"
#include "kernels/sparse_csr.h"
#include "kernels/sparse_nm24.h"

#include "kernels/blas_setup.h"

#include <benchmark/benchmark.h>
#include <cblas.h>

#include <random>
#include <vector>

namespace {

constexpr int kOut = 1024, kIn = 1024;

std::vector<float> weights(double sparsity) {
    std::mt19937_64 rng(1);
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::vector<float> w(size_t(kOut) * kIn);
    for (auto& v : w) v = u(rng) < sparsity ? 0.0f : d(rng);
    return w;
}

void BM_sgemm(benchmark::State& st) {
    const int n = int(st.range(0));
    const auto w = weights(0.0);
    std::vector<float> x(size_t(n) * kIn, 0.5f), y(size_t(n) * kOut);
    for (auto _ : st) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, kOut, kIn, 1.0f, x.data(), kIn, w.data(), kIn, 0.0f, y.data(), kOut);
        benchmark::DoNotOptimize(y.data());
    }
    st.SetItemsProcessed(int64_t(st.iterations()) * n);
    st.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * kOut * kIn * double(st.iterations()), benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}

void BM_csr(benchmark::State& st) {
    const int n = int(st.range(0));
    const double sparsity = double(st.range(1)) / 100.0;
    const auto w = weights(sparsity);
    const ss::CsrMatrix c = ss::csr_from_dense(w.data(), kOut, kIn);
    std::vector<float> x(size_t(n) * kIn, 0.5f), y(size_t(n) * kOut);
    for (auto _ : st) {
        ss::csr_matmul(c, nullptr, x.data(), n, y.data());
        benchmark::DoNotOptimize(y.data());
    }
    st.SetItemsProcessed(int64_t(st.iterations()) * n);
    st.counters["useful GFLOP/s"] = benchmark::Counter(2.0 * n * double(c.nnz()) * double(st.iterations()), benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}

std::vector<float> block_weights(double sparsity) {
    std::mt19937_64 rng(3);
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::vector<float> w(size_t(kOut) * kIn, 0.0f);
    for (int q = 0; q < kOut / 4; ++q)
        for (int j = 0; j < kIn; ++j)
            if (u(rng) >= sparsity)
                for (int i = 0; i < 4; ++i) w[size_t(4 * q + i) * kIn + j] = d(rng);
    return w;
}

template <bool Blocks>
void run_bsr(benchmark::State& st) {
    const int n = int(st.range(0));
    const double sparsity = double(st.range(1)) / 100.0;
    const auto w = Blocks ? block_weights(sparsity) : weights(sparsity);
    const ss::BsrMatrix b = ss::bsr_from_dense(w.data(), kOut, kIn);
    std::vector<float> x(size_t(n) * kIn, 0.5f), y(size_t(n) * kOut);
    for (auto _ : st) {
        ss::bsr_matmul(b, nullptr, x.data(), n, y.data());
        benchmark::DoNotOptimize(y.data());
    }
    st.SetItemsProcessed(int64_t(st.iterations()) * n);
    st.counters["stored"] = double(b.blocks() * 4) / double(kOut * kIn);
}
void BM_bsr(benchmark::State& st) { run_bsr<true>(st); }
void BM_bsr_unstructured(benchmark::State& st) { run_bsr<false>(st); }

void BM_nm24(benchmark::State& st) {
    const int n = int(st.range(0));
    auto w = weights(0.0);
    for (size_t g = 0; g < w.size(); g += 4) w[g + 1] = w[g + 3] = 0.0f; // 2 of every 4 kept
    const ss::Nm24Matrix m = ss::nm24_from_dense(w.data(), kOut, kIn);
    std::vector<float> x(size_t(n) * kIn, 0.5f), y(size_t(n) * kOut);
    for (auto _ : st) {
        ss::nm24_matmul(m, nullptr, x.data(), n, y.data());
        benchmark::DoNotOptimize(y.data());
    }
    st.SetItemsProcessed(int64_t(st.iterations()) * n);
}

void BM_sgemv(benchmark::State& st) {
    const auto w = weights(0.0);
    std::vector<float> x(static_cast<size_t>(kIn), 0.5f), y(static_cast<size_t>(kOut));
    for (auto _ : st) {
        cblas_sgemv(CblasRowMajor, CblasNoTrans, kOut, kIn, 1.0f, w.data(), kIn, x.data(), 1, 0.0f, y.data(), 1);
        benchmark::DoNotOptimize(y.data());
    }
    st.SetBytesProcessed(int64_t(st.iterations()) * kOut * kIn * 4);
}

} // namespace

BENCHMARK(BM_sgemv)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_sgemm)->Arg(32)->Arg(256)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_bsr)->Args({1, 90})->Args({32, 50})->Args({32, 90})->Args({32, 95})->Args({256, 90})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_bsr_unstructured)->Args({1, 90})->Args({32, 90})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_nm24)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_csr)->Args({1, 50})->Args({1, 90})->Args({32, 50})->Args({32, 90})->Args({32, 95})->Args({256, 90})->Unit(benchmark::kMicrosecond);

int main(int argc, char** argv) {
    ss::ensure_blas_core(argv);
    openblas_set_num_threads(1);
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    return 0;
}
