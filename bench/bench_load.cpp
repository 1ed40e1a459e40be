// bench_load.cpp - loading a 200 MB F32 model against reading the same file, in one run.
//
//   BM_read_file: std::ifstream into a vector (the file's bytes, nothing more).
//   BM_load_model: load_model (mmap, header validation, zero-copy F32 views).
//   BM_load_model_touch: load_model, then read every weight once (forces every page in).
// The goal (issue 3): loading takes no more than ~2x the time to read the file. The page cache is
// warm after the first iteration for all three, so these compare the in-memory costs.
#include "formats/model_config.h"
#include "formats/model_io.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

namespace {

// 3 x (4096 x 4096) linear layers + head: 50.4 M parameters, 201 MB of F32.
const std::string& big_model_dir() {
    static const std::string dir = [] {
        const std::string d = (std::filesystem::temp_directory_path() / "sparsescope-bench-200mb").string();
        if (!std::filesystem::exists(d + "/model.safetensors")) {
            ss::Model m = ss::parse_model_config(R"({"format": "sparsescope/classifier-v1", "name": "big",
              "input": {"shape": [4096]}, "labels": ["a", "b"],
              "layers": [{"type": "linear", "name": "l1", "in": 4096, "out": 4096}, {"type": "relu"},
                         {"type": "linear", "name": "l2", "in": 4096, "out": 4096}, {"type": "relu"},
                         {"type": "linear", "name": "l3", "in": 4096, "out": 4096}, {"type": "relu"},
                         {"type": "linear", "name": "head", "in": 4096, "out": 2}]})", "bench");
            for (auto& layer : m.layers)
                if (auto* l = std::get_if<ss::LinearWeights>(&layer)) {
                    std::vector<float> w(size_t(l->out) * l->in), b(size_t(l->out));
                    for (size_t i = 0; i < w.size(); ++i) w[i] = float(i % 1000) * 1e-3f;
                    l->weight = ss::WeightData(std::move(w));
                    l->bias = ss::WeightData(std::move(b));
                }
            ss::save_model_dir(m, d);
        }
        return d;
    }();
    return dir;
}

void BM_read_file(benchmark::State& st) {
    const std::string path = big_model_dir() + "/model.safetensors";
    const auto size = std::filesystem::file_size(path);
    std::vector<char> buf(size);
    for (auto _ : st) {
        std::ifstream in(path, std::ios::binary);
        in.read(buf.data(), std::streamsize(size));
        benchmark::DoNotOptimize(buf.data());
    }
    st.SetBytesProcessed(int64_t(st.iterations()) * int64_t(size));
}

void BM_load_model(benchmark::State& st) {
    const auto size = std::filesystem::file_size(big_model_dir() + "/model.safetensors");
    for (auto _ : st) {
        ss::Model m = ss::load_model(big_model_dir());
        benchmark::DoNotOptimize(m.layers.data());
    }
    st.SetBytesProcessed(int64_t(st.iterations()) * int64_t(size));
}

void BM_load_model_touch(benchmark::State& st) {
    const auto size = std::filesystem::file_size(big_model_dir() + "/model.safetensors");
    for (auto _ : st) {
        const ss::Model m = ss::load_model(big_model_dir());
        float sum = 0.0f;
        for (const auto& layer : m.layers)
            if (auto* l = std::get_if<ss::LinearWeights>(&layer))
                for (size_t i = 0; i < l->weight.size(); i += 1024) sum += l->weight[i]; // one read per 4 KiB page
        benchmark::DoNotOptimize(sum);
    }
    st.SetBytesProcessed(int64_t(st.iterations()) * int64_t(size));
}

} // namespace

BENCHMARK(BM_read_file)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_load_model)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_load_model_touch)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
