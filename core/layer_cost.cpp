// layer_cost.cpp
#include "layer_cost.h"

#include <algorithm>

namespace ss {

std::vector<LayerCost> layer_costs(const Model& model, const LayerProfile& profile, int samples) {
    std::vector<LayerCost> out;
    const double per = 1e-3 / double(std::max(1, samples)); // ns summed over samples -> us per forward
    for (size_t li = 0; li < model.layers.size(); ++li) {
        LayerCost c;
        const Layer& layer = model.layers[li];
        if (auto* lin = std::get_if<LinearWeights>(&layer)) {
            c = {lin->name, "linear", 0.0, resident_weight_bytes(*lin)};
        } else if (auto* moe = std::get_if<MoeLayer>(&layer)) {
            c = {moe->name, "moe", 0.0, resident_weight_bytes(moe->gate)};
            for (const auto& e : moe->experts) c.resident_bytes += resident_weight_bytes(e.fc1) + resident_weight_bytes(e.fc2);
        } else if (auto* act = std::get_if<ActivationLayer>(&layer)) {
            c = {activation_name(act->kind), "activation", 0.0, 0};
        } else if (auto* ln = std::get_if<LayerNormLayer>(&layer)) {
            c = {ln->name, "layernorm", 0.0, int64_t(ln->weight.size() + ln->bias.size()) * 4};
        } else {
            c = {"dropout", "dropout", 0.0, 0};
        }
        if (li < profile.layer_ns.size()) c.batch1_us = profile.layer_ns[li] * per;
        out.push_back(std::move(c));
    }
    return out;
}

} // namespace ss
