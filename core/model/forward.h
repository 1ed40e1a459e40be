// forward.h - the dense forward pass of a classifier-v1 model.
#pragma once

#include "model/conv_forward.h"
#include "model/model.h"
#include "model/moe_forward.h"

#include <cstdint>
#include <vector>

namespace ss {

struct ForwardOptions {
    int top_k_override = 0; // 0: each MoE layer's own top_k; otherwise clamped to 1..E
};

// Per MoE layer (in model order), per expert: routed (row, slot) pairs.
using ExpertSlotCounts = std::vector<std::vector<int64_t>>;
ExpertSlotCounts make_expert_slot_counts(const Model& model);

// Where a forward pass spends its time, when asked (ForwardWorkspace::profile).
struct LayerProfile {
    std::vector<double> layer_ns;               // (layers) per top-level layer
    std::vector<std::vector<double>> expert_ns; // (moe layers, experts) fc1 + act + fc2 of each expert
};

// Buffers reused across calls so batch-1 latency measures the kernels, not malloc.
struct ForwardWorkspace {
    std::vector<float> a, b; // ping-pong activations (n, widest layer)
    MoeScratch moe;
    ConvScratch conv;                          // conv nets: im2col patches and products
    std::vector<std::vector<float>> saved;     // conv nets: activations kept by residual_save layers
    std::vector<ActivationShape> saved_shapes; // and their shapes
    std::vector<float> projected;              // a residual projection's output
    LayerProfile* profile = nullptr; // when set, forward adds each layer's time to it
};

// Sees what flows through a forward pass (calibration, routing statistics), on the calling thread.
struct ForwardObserver {
    virtual ~ForwardObserver() = default;
    // x (n, l.in): the input rows of a linear layer or expert matrix l (experts: the routed rows).
    virtual void linear_input(const LinearWeights& l, const float* x, int n) { (void)l, (void)x, (void)n; }
    // idx (n, k), w (n, k): the experts each row was routed to by the MoE layer number moe_index,
    // and their weights.
    virtual void routing(int moe_index, const int* idx, const float* w, int n, int k) { (void)moe_index, (void)idx, (void)w, (void)n, (void)k; }
};

// raw (count) dataset values -> x (count): (raw * scale - mean) / std.
void preprocess_input(const InputSpec& in, const float* raw, size_t count, float* x);

// x (n, features) preprocessed -> logits (n, classes). counts may be null.
void forward(const Model& model, const float* x, int n, float* logits, const ForwardOptions& opt,
             ForwardWorkspace& ws, ExpertSlotCounts* counts, ForwardObserver* observer = nullptr);

int effective_top_k(const MoeLayer& moe, const ForwardOptions& opt);

} // namespace ss
