// prune_neurons.cpp
#include "compress/prune_neurons.h"

#include "compress/prune_channels.h"

#include "model/overloaded.h"

#include "error.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

namespace ss {

namespace {
// Keeps the rows of l (and bias entries) where keep[u].
void keep_rows(LinearWeights& l, const std::vector<bool>& keep) {
    const float* w = std::as_const(l.weight).data();
    std::vector<float> nw, nb;
    for (int u = 0; u < l.out; ++u)
        if (keep[size_t(u)]) {
            nw.insert(nw.end(), w + size_t(u) * l.in, w + size_t(u + 1) * l.in);
            if (l.has_bias) nb.push_back(std::as_const(l.bias)[size_t(u)]);
        }
    l.out = int(nw.size() / size_t(l.in));
    l.weight = WeightData(std::move(nw));
    if (l.has_bias) l.bias = WeightData(std::move(nb));
    l.quant.reset();
}

double row_sumsq(const LinearWeights& l, int u) {
    const float* w = std::as_const(l.weight).data() + size_t(u) * l.in;
    double s = 0.0;
    for (int i = 0; i < l.in; ++i) s += double(w[i]) * w[i];
    return s;
}

void prune_expert(MoeExpert& e, double sparsity) { prune_neurons(e.fc1, e.fc2, sparsity, e.gated() ? &e.up : nullptr); }

void prune_moe(MoeLayer& moe, double sparsity) {
    for (auto& e : moe.experts) prune_expert(e, sparsity);
    if (moe.has_shared) prune_expert(moe.shared, sparsity);
}
} // namespace

void prune_neurons(LinearWeights& first, LinearWeights& second, double sparsity, LinearWeights* up) {
    if (second.in != first.out)
        throw Error("prune neurons: '" + first.name + "' gives " + std::to_string(first.out) + " units but '" + second.name + "' takes " +
                    std::to_string(second.in));
    if (up && (up->out != first.out || up->in != first.in))
        throw Error("prune neurons: '" + up->name + "' is " + std::to_string(up->out) + " x " + std::to_string(up->in) + " but '" + first.name + "' is " +
                    std::to_string(first.out) + " x " + std::to_string(first.in));
    const int h = first.out;
    const int remove = std::min(h - 1, int(std::llround(sparsity * h)));
    if (remove <= 0) return;
    std::vector<double> norm(size_t(h), 0.0);
    const float* w2 = std::as_const(second.weight).data();
    for (int u = 0; u < h; ++u) {
        norm[size_t(u)] = row_sumsq(first, u) + (up ? row_sumsq(*up, u) : 0.0);
        for (int o = 0; o < second.out; ++o) norm[size_t(u)] += double(w2[size_t(o) * h + u]) * w2[size_t(o) * h + u];
    }
    std::vector<int> order(static_cast<size_t>(h));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return norm[size_t(a)] < norm[size_t(b)] || (norm[size_t(a)] == norm[size_t(b)] && a > b); });
    std::vector<bool> keep(size_t(h), true);
    for (int t = 0; t < remove; ++t) keep[size_t(order[size_t(t)])] = false;

    const int h2 = h - remove;
    std::vector<float> nw2(size_t(second.out) * h2);
    for (int o = 0; o < second.out; ++o)
        for (int u = 0, v = 0; u < h; ++u)
            if (keep[size_t(u)]) nw2[size_t(o) * h2 + size_t(v++)] = w2[size_t(o) * h + u];
    keep_rows(first, keep);
    if (up) keep_rows(*up, keep);
    second.weight = WeightData(std::move(nw2));
    second.in = h2;
    second.quant.reset();
}

void prune_neurons_model(Model& model, double sparsity) {
    LinearWeights* pending = nullptr; // last linear, while only elementwise layers follow it
    Conv2dLayer* pending_conv = nullptr; // last convolution (groups 1), while only layers that keep channels apart follow it
    for (auto& layer : model.layers)
        std::visit(Overloaded{
                       [&](LinearWeights& lin) {
                           pending_conv = nullptr;
                           if (pending) prune_neurons(*pending, lin, sparsity);
                           pending = &lin;
                       },
                       [&](MoeLayer& moe) {
                           prune_moe(moe, sparsity);
                           pending = nullptr;
                       },
                       [&](LayerNormLayer&) { pending = nullptr; }, // normalizes over all units: they cannot go
                       [](ActivationLayer&) {},                     // elementwise: units pass through
                       [](DropoutLayer&) {},
                       [&](EmbeddingLayer&) { pending = nullptr; }, // no hidden units of its own
                       [&](RmsNormLayer&) { pending = nullptr; },
                       // Conv nets: a linear layer's hidden units after them still prune as above;
                       // channels are pruned by prune_channels (compress/prune_channels.h).
                       [&](Conv2dLayer& c) {
                           pending = nullptr;
                           if (c.shape.groups != 1) {
                               pending_conv = nullptr;
                               return;
                           }
                           if (pending_conv) prune_channels(*pending_conv, c, sparsity);
                           pending_conv = &c;
                       },
                       [&](BatchNorm2dLayer&) { pending = nullptr, pending_conv = nullptr; },
                       [&](SpatialLayer& s) {
                           pending = nullptr;
                           if (s.op != SpatialOp::MaxPool && s.op != SpatialOp::AvgPool) pending_conv = nullptr;
                       },
                       [&](ResidualLayer&) { pending = nullptr, pending_conv = nullptr; }, // the shortcut fixes the channels
                       [&](DecoderBlock& b) {
                           b.is_moe ? prune_moe(b.moe, sparsity) : prune_expert(b.mlp, sparsity);
                           pending = nullptr;
                       },
                   },
                   layer);
}

} // namespace ss
