// prune_neurons.cpp
#include "compress/prune_neurons.h"

#include "model/overloaded.h"

#include "error.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

namespace ss {

void prune_neurons(LinearWeights& first, LinearWeights& second, double sparsity) {
    if (second.in != first.out)
        throw Error("prune neurons: '" + first.name + "' gives " + std::to_string(first.out) + " units but '" + second.name + "' takes " +
                    std::to_string(second.in));
    const int h = first.out;
    const int remove = std::min(h - 1, int(std::llround(sparsity * h)));
    if (remove <= 0) return;
    std::vector<double> norm(size_t(h), 0.0);
    const float* w1 = std::as_const(first.weight).data();
    const float* w2 = std::as_const(second.weight).data();
    for (int u = 0; u < h; ++u) {
        for (int i = 0; i < first.in; ++i) norm[size_t(u)] += double(w1[size_t(u) * first.in + i]) * w1[size_t(u) * first.in + i];
        for (int o = 0; o < second.out; ++o) norm[size_t(u)] += double(w2[size_t(o) * h + u]) * w2[size_t(o) * h + u];
    }
    std::vector<int> order(static_cast<size_t>(h));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return norm[size_t(a)] < norm[size_t(b)] || (norm[size_t(a)] == norm[size_t(b)] && a > b); });
    std::vector<bool> keep(size_t(h), true);
    for (int t = 0; t < remove; ++t) keep[size_t(order[size_t(t)])] = false;

    const int h2 = h - remove;
    std::vector<float> nw1, nb1, nw2(size_t(second.out) * h2);
    for (int u = 0; u < h; ++u)
        if (keep[size_t(u)]) {
            nw1.insert(nw1.end(), w1 + size_t(u) * first.in, w1 + size_t(u + 1) * first.in);
            if (first.has_bias) nb1.push_back(std::as_const(first.bias)[size_t(u)]);
        }
    for (int o = 0; o < second.out; ++o)
        for (int u = 0, v = 0; u < h; ++u)
            if (keep[size_t(u)]) nw2[size_t(o) * h2 + size_t(v++)] = w2[size_t(o) * h + u];
    first.weight = WeightData(std::move(nw1));
    if (first.has_bias) first.bias = WeightData(std::move(nb1));
    first.out = h2;
    second.weight = WeightData(std::move(nw2));
    second.in = h2;
    first.quant.reset();
    second.quant.reset();
}

void prune_neurons_model(Model& model, double sparsity) {
    LinearWeights* pending = nullptr; // last linear, while only elementwise layers follow it
    for (auto& layer : model.layers)
        std::visit(Overloaded{
                       [&](LinearWeights& lin) {
                           if (pending) prune_neurons(*pending, lin, sparsity);
                           pending = &lin;
                       },
                       [&](MoeLayer& moe) {
                           for (auto& e : moe.experts) prune_neurons(e.fc1, e.fc2, sparsity);
                           pending = nullptr;
                       },
                       [&](LayerNormLayer&) { pending = nullptr; }, // normalizes over all units: they cannot go
                       [](ActivationLayer&) {},                     // elementwise: units pass through
                       [](DropoutLayer&) {},
                       [](EmbeddingLayer&) { refuse_layer_kind("neurons pruning", "embedding"); },
                       [](RmsNormLayer&) { refuse_layer_kind("neurons pruning", "RMSNorm"); },
                       [](DecoderBlock&) { refuse_layer_kind("neurons pruning", "decoder block"); },
                   },
                   layer);
}

} // namespace ss
