// layer_cost.cpp
#include "eval/layer_cost.h"

#include <algorithm>
#include <map>

namespace ss {

std::string weight_precision(const LinearWeights& l) { return l.quant ? l.quant->spec.label() : "fp32"; }

namespace {
// "a / b" for one matrix; for several, each batch size's kernels counted: "17 q8-dot, 1 sgemv / ...".
std::string kernels_of(const std::vector<const LinearWeights*>& ms) {
    auto side = [&](int batch) {
        std::map<std::string, int> n;
        for (const LinearWeights* m : ms) ++n[kernel_name(*m, batch)];
        std::string s;
        for (const auto& [k, count] : n) s += (s.empty() ? "" : ", ") + (ms.size() > 1 ? std::to_string(count) + " " : "") + k;
        return s;
    };
    return ms.empty() ? std::string() : side(1) + " / " + side(256);
}

void add_matrix(LayerCost& c, const LinearWeights& l) {
    c.resident_bytes += resident_weight_bytes(l);
    c.weights += l.weight_count();
    c.zero_weights += count_zero_weights(l);
    const std::string p = weight_precision(l);
    c.precision = c.precision.empty() || c.precision == p ? p : "mixed";
}
} // namespace

std::vector<LayerCost> layer_costs(const Model& model, const LayerProfile& profile, int samples) {
    std::vector<LayerCost> out;
    const double per = 1e-3 / double(std::max(1, samples)); // ns summed over samples -> us per forward
    for (size_t li = 0; li < model.layers.size(); ++li) {
        LayerCost c;
        const Layer& layer = model.layers[li];
        if (auto* lin = std::get_if<LinearWeights>(&layer)) {
            c.name = lin->name;
            c.kind = "linear";
            add_matrix(c, *lin);
            c.kernels = kernels_of({lin});
        } else if (auto* moe = std::get_if<MoeLayer>(&layer)) {
            c.name = moe->name;
            c.kind = "moe";
            add_matrix(c, moe->gate);
            std::vector<const LinearWeights*> ms{&moe->gate};
            for (const auto& e : moe->experts) {
                add_matrix(c, e.fc1);
                add_matrix(c, e.fc2);
                ms.push_back(&e.fc1);
                ms.push_back(&e.fc2);
            }
            c.kernels = kernels_of(ms);
        } else if (auto* act = std::get_if<ActivationLayer>(&layer)) {
            c.name = activation_name(act->kind);
            c.kind = "activation";
        } else if (auto* ln = std::get_if<LayerNormLayer>(&layer)) {
            c.name = ln->name;
            c.kind = "layernorm";
            c.resident_bytes = int64_t(ln->weight.size() + ln->bias.size()) * 4;
        } else {
            c.name = "dropout";
            c.kind = "dropout";
        }
        if (li < profile.layer_ns.size()) c.batch1_us = profile.layer_ns[li] * per;
        out.push_back(std::move(c));
    }
    return out;
}

} // namespace ss
