// lm_forward.h - a causal language model's forward pass over new tokens of one sequence.
//
// Layers (model.h): EmbeddingLayer, DecoderBlock x L, RmsNormLayer, lm_head (LinearWeights).
// Every matrix runs through the kernel the plan chose for it (kernels/dense_linear.h), so a pruned
// or quantized model runs its compressed kernels here too.
#pragma once

#include "model/attention.h"
#include "model/forward.h"
#include "model/model.h"
#include "model/moe_forward.h"

#include <cstdint>
#include <vector>

namespace ss {

// Keys and values of every block for one sequence, positions 0 .. length-1.
struct KvCache {
    int capacity = 0; // positions it can hold
    int length = 0;   // positions it holds
    std::vector<KvBlock> blocks; // (decoder blocks)
};
KvCache make_kv_cache(const Model& model, int capacity);

struct LmWorkspace {
    std::vector<float> x, h, y; // (n, dim): residual stream, normalized input, a block part's output
    AttentionScratch attn;
    MoeScratch moe;
};

// tokens (n) at positions cache.length .. cache.length+n-1 -> logits (n - logits_from, vocab) of
// rows logits_from .. n-1, or only the last token's (1, vocab) when !all_logits. Advances
// cache.length by n. An observer sees every matrix's input and each MoE layer's routing (MoE
// layers numbered in model order). top_k_override > 0 routes every MoE layer to that many experts
// (clamped to its count).
void lm_forward(const Model& model, const int32_t* tokens, int n, KvCache& cache, float* logits, bool all_logits, LmWorkspace& ws,
                ForwardObserver* observer = nullptr, int top_k_override = 0, int logits_from = 0);

} // namespace ss
