// forward.cpp
#include "model/forward.h"

#include "model/activation.h"
#include "kernels/dense_linear.h"
#include "model/layer_norm.h"
#include "model/overloaded.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <utility>

namespace ss {

ExpertSlotCounts make_expert_slot_counts(const Model& model) {
    ExpertSlotCounts c;
    for (const MoeLayer* moe : model.moe_layers()) c.emplace_back(moe->experts.size(), 0);
    return c;
}

void preprocess_input(const InputSpec& in, const float* raw, size_t count, float* x) {
    for (size_t i = 0; i < count; ++i) x[i] = float((double(raw[i]) * in.scale - in.mean) / in.std);
}

int effective_top_k(const MoeLayer& moe, const ForwardOptions& opt) {
    if (opt.top_k_override <= 0) return moe.top_k;
    return std::clamp(opt.top_k_override, 1, int(moe.experts.size()));
}

void forward(const Model& model, const float* x, int n, float* logits, const ForwardOptions& opt,
             ForwardWorkspace& ws, ExpertSlotCounts* counts, ForwardObserver* observer) {
    size_t widest = size_t(model.input_features());
    for (const auto& layer : model.layers)
        if (auto* lin = std::get_if<LinearWeights>(&layer)) widest = std::max(widest, size_t(lin->out));
    ws.a.resize(size_t(n) * widest);
    ws.b.resize(size_t(n) * widest);

    const float* cur = x;
    int width = model.input_features();
    float* dst = ws.a.data();
    int moe_index = 0;
    bool in_place = false; // the layer just run rewrote cur (an activation on the workspace)
    LayerProfile* prof = ws.profile;
    if (prof) {
        prof->layer_ns.resize(model.layers.size(), 0.0);
        prof->expert_ns.resize(model.moe_layers().size());
    }
    for (size_t li = 0; li < model.layers.size(); ++li) {
        const Layer& layer = model.layers[li];
        const auto t0 = prof ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
        const bool wrote = std::visit(
            Overloaded{
                [&](const LinearWeights& lin) {
                    if (observer) observer->linear_input(lin, cur, n);
                    linear_forward(lin, cur, n, dst);
                    width = lin.out;
                    return true;
                },
                [&](const ActivationLayer& act) {
                    if (cur != x) { // in place on the workspace row block the last layer wrote
                        apply_activation(act.kind, const_cast<float*>(cur), size_t(n) * width, act.negative_slope);
                        in_place = true;
                        return true;
                    }
                    std::memcpy(dst, cur, sizeof(float) * size_t(n) * width);
                    apply_activation(act.kind, dst, size_t(n) * width, act.negative_slope);
                    return true;
                },
                [&](const MoeLayer& moe) {
                    int64_t* slots = counts ? (*counts)[size_t(moe_index)].data() : nullptr;
                    if (prof) prof->expert_ns[size_t(moe_index)].resize(moe.experts.size(), 0.0);
                    ws.moe.expert_ns = prof ? prof->expert_ns[size_t(moe_index)].data() : nullptr;
                    moe_forward(moe, effective_top_k(moe, opt), cur, n, dst, ws.moe, slots, observer, moe_index);
                    ++moe_index;
                    return true;
                },
                [&](const LayerNormLayer& ln) {
                    layer_norm_forward(ln, cur, n, dst);
                    return true;
                },
                [](const DropoutLayer&) { return false; }, // the identity at inference
                [](const EmbeddingLayer&) -> bool { refuse_layer_kind("classifier forward", "embedding"); },
                [](const RmsNormLayer&) -> bool { refuse_layer_kind("classifier forward", "RMSNorm"); },
                [](const DecoderBlock&) -> bool { refuse_layer_kind("classifier forward", "decoder block"); },
            },
            layer);
        if (!wrote) continue;
        if (prof) prof->layer_ns[li] += std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
        if (std::exchange(in_place, false)) continue; // cur holds the result already
        cur = dst;
        dst = (dst == ws.a.data()) ? ws.b.data() : ws.a.data();
    }
    std::memcpy(logits, cur, sizeof(float) * size_t(n) * width);
}

} // namespace ss
