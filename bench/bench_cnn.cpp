// bench_cnn.cpp - the demo CNN (resources/models/fashion-resnet, a small ResNet) dense against its
// compressed forms, measured side by side in one run, 1 thread unless --threads-like flags say
// otherwise (OpenBLAS follows OPENBLAS_NUM_THREADS / the compute threads: 1 here).
//
//   BM_cnn_dense/N:       batch N through im2col + OpenBLAS sgemm (sgemv at batch 1 is never
//                         used: a convolution's rows are its output positions)
//   BM_cnn_sparse80/N:    80 % global magnitude pruning; the kernel plan's measured choice per
//                         matrix (CSR panel where it wins)
//   BM_cnn_channels50/N:  neurons:0.5 - each residual block's first convolution keeps half its
//                         filters and the second half its input channels: genuinely less work
//   BM_cnn_int8/N:        int8 per output channel (integer kernels)
//   BM_conv_layer_*:      block1.conv2 alone (16 -> 16 channels, 3x3, 14x14) dense vs 80 % CSR
// Run: build/bench/bench_cnn --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include "compress/compression.h"
#include "formats/model_io.h"
#include "kernels/blas_setup.h"
#include "kernels/thread_pool.h"
#include "model/conv_forward.h"
#include "model/forward.h"

#include <benchmark/benchmark.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

namespace {

std::vector<float> ramp(size_t n) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = std::sin(float(i) * 0.37f);
    return v;
}

const ss::Model& dense() {
    static const ss::Model m = [] {
        ss::set_compute_threads(1);
        return ss::load_model(SPARSESCOPE_RESOURCE_DIR "/models/fashion-resnet");
    }();
    return m;
}

const ss::Model& compressed(const char* prune, const char* quant) {
    static std::map<std::string, ss::Model> cache;
    const std::string key = std::string(prune) + "|" + quant;
    auto it = cache.find(key);
    if (it == cache.end()) it = cache.emplace(key, ss::compress(dense(), ss::plan_from_flags(prune, quant, 0)).model).first;
    return it->second;
}

void run(benchmark::State& st, const ss::Model& m) {
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

void BM_cnn_dense(benchmark::State& st) { run(st, dense()); }
void BM_cnn_sparse80(benchmark::State& st) { run(st, compressed("magnitude:0.8", "none")); }
void BM_cnn_channels50(benchmark::State& st) { run(st, compressed("neurons:0.5", "none")); }
void BM_cnn_int8(benchmark::State& st) { run(st, compressed("none", "int8")); }

// One 3x3 16 -> 16 convolution on 14x14 inputs (the demo's block1.conv2), batch N.
void run_layer(benchmark::State& st, const ss::Model& m) {
    const ss::Conv2dLayer* conv = nullptr;
    for (const ss::Layer& l : m.layers)
        if (const auto* c = std::get_if<ss::Conv2dLayer>(&l); c && c->w.name == "block1.conv2") conv = c;
    const int n = int(st.range(0));
    const ss::ActivationShape in{16, 14, 14, false};
    const auto x = ramp(size_t(n) * 16 * 196);
    std::vector<float> y(size_t(n) * 16 * 196);
    ss::ConvScratch scratch;
    for (auto _ : st) {
        ss::conv2d_layer_forward(*conv, in, x.data(), n, y.data(), scratch, nullptr);
        benchmark::DoNotOptimize(y.data());
    }
    st.SetItemsProcessed(int64_t(st.iterations()) * n);
}
void BM_conv_layer_dense(benchmark::State& st) { run_layer(st, dense()); }
void BM_conv_layer_sparse80(benchmark::State& st) { run_layer(st, compressed("magnitude-layer:0.8", "none")); }

} // namespace

BENCHMARK(BM_cnn_dense)->Arg(1)->Arg(64);
BENCHMARK(BM_cnn_sparse80)->Arg(1)->Arg(64);
BENCHMARK(BM_cnn_channels50)->Arg(1)->Arg(64);
BENCHMARK(BM_cnn_int8)->Arg(1)->Arg(64);
BENCHMARK(BM_conv_layer_dense)->Arg(1)->Arg(64);
BENCHMARK(BM_conv_layer_sparse80)->Arg(1)->Arg(64);

int main(int argc, char** argv) {
    ss::ensure_blas_core(argv);
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    return 0;
}
