// generate.cpp
#include "eval/generate.h"

#include "error.h"
#include "model/lm_forward.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

namespace ss {

int32_t sample_token(const float* logits, int V, double temperature, double top_p, double u) {
    if (temperature <= 0.0) return int32_t(std::max_element(logits, logits + V) - logits);
    const double mx = *std::max_element(logits, logits + V);
    std::vector<double> p(static_cast<size_t>(V));
    double sum = 0.0;
    for (int i = 0; i < V; ++i) sum += p[size_t(i)] = std::exp((double(logits[i]) - mx) / temperature);
    std::vector<int32_t> order(static_cast<size_t>(V));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return p[size_t(a)] > p[size_t(b)]; });
    // The nucleus: the most likely tokens until their share reaches top_p (at least one).
    size_t keep = 0;
    double mass = 0.0;
    while (keep < order.size() && (keep == 0 || mass < top_p * sum)) mass += p[size_t(order[keep++])];
    double x = u * mass;
    for (size_t i = 0; i < keep; ++i) {
        x -= p[size_t(order[i])];
        if (x < 0.0) return order[i];
    }
    return order[keep - 1];
}

std::vector<int32_t> generate(const Model& model, const std::vector<int32_t>& prompt, const SamplingOptions& opt, GenerationTiming* timing) {
    using Clock = std::chrono::steady_clock;
    auto ms_since = [](Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); };
    GenerationTiming local;
    GenerationTiming& tm = timing ? *timing : local;
    tm = {};
    if (prompt.empty()) throw Error("generate: the prompt has no tokens");
    const int total = int(prompt.size()) + opt.max_tokens;
    if (total > model.lm.max_positions)
        throw Error("generate: " + std::to_string(prompt.size()) + " prompt tokens + " + std::to_string(opt.max_tokens) + " new ones exceed the model's " +
                    std::to_string(model.lm.max_positions) + " positions");
    KvCache cache = make_kv_cache(model, total);
    LmWorkspace ws;
    const int V = model.lm.vocab;
    std::vector<float> logits(static_cast<size_t>(V));
    std::mt19937_64 rng(opt.seed);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    const auto t0 = Clock::now();
    lm_forward(model, prompt.data(), int(prompt.size()), cache, logits.data(), false, ws);
    tm.prompt_ms = ms_since(t0);
    std::vector<int32_t> out;
    for (int i = 0; i < opt.max_tokens; ++i) {
        const int32_t t = sample_token(logits.data(), V, opt.temperature, opt.top_p, uniform(rng));
        out.push_back(t);
        if (opt.on_token && !opt.on_token(t)) break;
        if (opt.stop_at_eos && t == model.lm.eos) break;
        if (i + 1 < opt.max_tokens) {
            const auto ts = Clock::now();
            lm_forward(model, &t, 1, cache, logits.data(), false, ws);
            tm.decode_ms += ms_since(ts);
            ++tm.decode_steps;
        }
    }
    return out;
}

} // namespace ss
