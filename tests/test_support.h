// test_support.h - small models and files shared by the tests.
#pragma once

#include "error.h"
#include "model/model.h"
#include "data/dataset.h"
#include "formats/model_config.h"
#include "model/matrices.h"
#include "train/trainer.h"

#include <cstdint>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace test_support {

// 4 features -> linear 3 -> relu -> MoE(dim 3, hidden 4, 3 experts, top-2, gelu, residual) -> linear 2.
inline ss::Model tiny_moe_model(uint64_t seed = 7) {
    const char* cfg = R"({"format": "sparsescope/classifier-v1", "name": "tiny",
      "input": {"shape": [4], "scale": 1.0, "mean": 0.0, "std": 1.0},
      "labels": ["a", "b"],
      "layers": [
        {"type": "linear", "name": "stem", "in": 4, "out": 3},
        {"type": "relu"},
        {"type": "moe", "name": "moe", "dim": 3, "hidden": 4, "experts": 3, "top_k": 2, "activation": "gelu", "residual": true},
        {"type": "linear", "name": "head", "in": 3, "out": 2}]})";
    ss::Model m = ss::parse_model_config(cfg, "tiny");
    ss::init_weights(m, seed);
    return m;
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

inline std::vector<uint8_t> read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// n samples of `features` values labelled into `classes` classes (deterministic).
struct Synthetic {
    ss::Dataset dataset;
    Synthetic(int features, int classes, int n) {
        dataset.source_path = "synthetic";
        dataset.count = n;
        dataset.features = features;
        dataset.num_classes = classes;
        for (int i = 0; i < n * features; ++i) dataset.raw.push_back(float((i * 37) % 11) - 5.0f + 0.1f * float(i % 7));
        for (int i = 0; i < n; ++i) dataset.labels.push_back(i % classes);
    }
};

// Every matrix's weights and biases (routers included) drawn from N(0, sd), seeded: conv nets
// and other models whose layers init_weights does not cover.
inline void fill_normal(ss::Model& m, uint32_t seed, float sd = 1.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.0f, sd);
    ss::for_each_matrix(m, [&](ss::LinearWeights& l) {
        std::vector<float> w(size_t(l.weight_count())), b(size_t(l.out));
        for (float& v : w) v = nd(rng);
        for (float& v : b) v = nd(rng);
        l.weight = ss::WeightData(std::move(w));
        l.bias = ss::WeightData(std::move(b));
    }, ss::MatrixScope::All);
}

// The message of the ss::Error f throws, or "" when it throws none.
inline std::string error_message(const std::function<void()>& f) {
    try {
        f();
    } catch (const ss::Error& e) {
        return e.what();
    }
    return {};
}

} // namespace test_support
