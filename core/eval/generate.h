// generate.h - continuing a prompt one token at a time with the KV cache: greedy, or sampled with
// a temperature and nucleus (top-p) from a seeded generator, so a run can be repeated exactly.
#pragma once

#include "model/model.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace ss {

struct SamplingOptions {
    int max_tokens = 64;     // new tokens at most
    double temperature = 0.0; // 0: greedy (the most likely token)
    double top_p = 1.0;      // sample among the most likely tokens whose probabilities reach top_p
    uint64_t seed = 0;
    bool stop_at_eos = true; // stop after the model's eos token
    // Called with each new token as it is chosen; returning false stops (cancel, streaming).
    std::function<bool(int32_t token)> on_token;
};

// Where the time went: the prompt in one forward, then one forward per new token after the first.
struct GenerationTiming {
    double prompt_ms = 0.0;
    double decode_ms = 0.0; // sum over decode steps
    int decode_steps = 0;
    double tokens_per_second() const { return decode_ms > 0 ? 1e3 * decode_steps / decode_ms : 0.0; }
};

// prompt (at least one token) -> the new tokens. Throws ss::Error when prompt + max_tokens exceeds
// the model's max_position_embeddings.
std::vector<int32_t> generate(const Model& model, const std::vector<int32_t>& prompt, const SamplingOptions& opt, GenerationTiming* timing = nullptr);

// The token chosen from logits (V): argmax when temperature is 0, else sampled; u in [0, 1).
int32_t sample_token(const float* logits, int V, double temperature, double top_p, double u);

} // namespace ss
