// forward.cpp
#include "model/forward.h"

#include "model/activation.h"
#include "model/conv_forward.h"
#include "model/conv_net.h"
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
    const bool conv = is_conv_net(model);
    std::vector<ActivationShape> shapes; // a conv net's activation entering each layer
    if (conv) {
        shapes = activation_shapes(model, model.name);
        for (const ActivationShape& a : shapes) widest = std::max(widest, size_t(a.features()));
    }
    for (const auto& layer : model.layers)
        if (auto* lin = std::get_if<LinearWeights>(&layer)) widest = std::max(widest, size_t(lin->out));
    ws.a.resize(size_t(n) * widest);
    ws.b.resize(size_t(n) * widest);
    size_t saved_depth = 0; // residual_save layers not yet added

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
                [&](const Conv2dLayer& c) {
                    conv2d_layer_forward(c, shapes[li], cur, n, dst, ws.conv, observer);
                    width = int(shapes[li + 1].features());
                    return true;
                },
                [&](const BatchNorm2dLayer& bn) {
                    batchnorm2d_forward(bn, shapes[li], cur, n, dst);
                    return true;
                },
                [&](const SpatialLayer& sp) {
                    width = int(shapes[li + 1].features());
                    if (sp.op == SpatialOp::Flatten) return false; // (n, C * H * W) already
                    spatial_forward(sp, shapes[li], cur, n, dst);
                    return true;
                },
                [&](const ResidualLayer& r) {
                    const size_t count = size_t(n) * width;
                    if (!r.add) {
                        if (ws.saved.size() <= saved_depth) ws.saved.resize(saved_depth + 1), ws.saved_shapes.resize(saved_depth + 1);
                        ws.saved_shapes[saved_depth] = shapes[li];
                        ws.saved[saved_depth++].assign(cur, cur + count);
                        return false;
                    }
                    std::vector<float>& s = ws.saved[--saved_depth];
                    const float* add = s.data();
                    if (r.has_projection) {
                        ws.projected.resize(count);
                        conv2d_layer_forward(r.projection, ws.saved_shapes[saved_depth], s.data(), n, ws.projected.data(), ws.conv, observer);
                        add = ws.projected.data();
                    }
                    if (cur == x) {
                        for (size_t i = 0; i < count; ++i) dst[i] = cur[i] + add[i];
                        return true;
                    }
                    float* c = const_cast<float*>(cur); // the workspace block the last layer wrote
                    for (size_t i = 0; i < count; ++i) c[i] += add[i];
                    in_place = true;
                    return true;
                },
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
