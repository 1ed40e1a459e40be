// lm_evaluate.h - a language model measured on token data: perplexity as llama.cpp computes it,
// the comparison with the dense model in the same run, expert routing, and speed (prompt and
// generation tokens/s, timed side by side with the dense model, as llama-bench's pp / tg).
//
// Perplexity: the tokens are cut into consecutive chunks of ctx; each chunk runs from an empty
// cache; the logits at positions ctx/2 .. ctx-2 are scored against the next token;
// ppl = exp(mean NLL), with ppl x the NLL's standard error as its +-.
// Against dense, over the same scored positions: KL(dense || compressed) mean and 90/95/99 %
// percentiles, same_top_p (share of positions where both pick the same top token), delta_p_mean
// (mean change in the probability of the correct token), ppl_ratio (compressed / dense).
// Metric names in EvalResult::metrics: perplexity, perplexity_error, mean_nll, tokens_scored, ctx,
// chunks, top1 (next-token accuracy), prompt_tps, gen_tps; with dense: dense_perplexity, kld_mean,
// kld_p90, kld_p95, kld_p99, same_top_p, delta_p_mean, ppl_ratio - the same from a cached
// baseline (KL then from 16-bit log-probabilities: lm_baseline_cache.h).
#pragma once

#include "compress/compression.h"
#include "data/token_data.h"
#include "eval/evaluate.h"
#include "eval/lm_baseline_cache.h"

#include <cstdint>
#include <vector>

namespace ss {

struct LmEvalOptions {
    int ctx = 512;             // tokens per chunk; at most the model's max_position_embeddings
    int chunks = 0;            // chunks to evaluate; 0 = all that fit
    int threads = 1;
    const Model* dense = nullptr; // compared and timed side by side when set
    // Without `dense`: the dense distributions and speed from a cache file (lm_baseline_cache.h),
    // made for the same chunks, ctx, generation steps and threads.
    const LmBaselineCache* cached = nullptr;
    // With `dense`: the dense distributions and speed are also written here (finished at the end).
    LmBaselineWriter* record = nullptr;
    int gen_tokens = 32;       // batch-1 decode steps timed for generation speed (0: not timed)
    ProgressFn progress;
};

// What an evaluation saw per position, for tests and the token views.
struct LmDetails {
    std::vector<double> nll;        // (scored positions) compressed model
    std::vector<double> dense_nll;  // (scored positions) when a dense model was given
    int moe_layers = 0, top_k = 0;
    std::vector<int32_t> route_idx; // (chunks * ctx, moe layers, top_k): each position's experts
    std::vector<float> route_w;     // same shape: their weights
};

// The chunks of ctx tokens an evaluation of `tokens` scores: `requested` of them (0: all), at most
// as many as the text holds. May be below 2, which evaluate_language_model refuses.
inline int lm_chunk_count(size_t tokens, int ctx, int requested) {
    const int available = int(tokens / size_t(ctx > 0 ? ctx : 1));
    return requested > 0 && requested < available ? requested : available;
}

// Throws ss::Error for a ctx above max_position_embeddings or below 4, fewer than two chunks of
// tokens, or a model that is not a language model.
EvalResult evaluate_language_model(const CompressedModel& cm, const TokenData& data, const LmEvalOptions& opt, LmDetails* details = nullptr);

} // namespace ss
