// forward.h - the dense forward pass of a classifier-v1 model.
#pragma once

#include "model.h"
#include "moe_forward.h"

#include <cstdint>
#include <vector>

namespace ss {

struct ForwardOptions {
    int top_k_override = 0; // 0: each MoE layer's own top_k; otherwise clamped to 1..E
};

// Per MoE layer (in model order), per expert: routed (row, slot) pairs.
using ExpertSlotCounts = std::vector<std::vector<int64_t>>;
ExpertSlotCounts make_expert_slot_counts(const Model& model);

// Buffers reused across calls so batch-1 latency measures the kernels, not malloc.
struct ForwardWorkspace {
    std::vector<float> a, b; // ping-pong activations (n, widest layer)
    MoeScratch moe;
};

// raw (count) dataset values -> x (count): (raw * scale - mean) / std.
void preprocess_input(const InputSpec& in, const float* raw, size_t count, float* x);

// x (n, features) preprocessed -> logits (n, classes). counts may be null.
void forward(const Model& model, const float* x, int n, float* logits, const ForwardOptions& opt,
             ForwardWorkspace& ws, ExpertSlotCounts* counts);

int effective_top_k(const MoeLayer& moe, const ForwardOptions& opt);

} // namespace ss
