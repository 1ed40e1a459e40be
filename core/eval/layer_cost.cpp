// layer_cost.cpp
#include "eval/layer_cost.h"
#include "model/conv_net.h"

#include "model/matrices.h"
#include "model/overloaded.h"

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

std::vector<MatrixCost> matrix_costs(const Model& model) {
    std::vector<MatrixCost> out;
    for_each_matrix(model, [&](const LinearWeights& l, const MatrixInfo& info) {
        out.push_back({info.name, l.weight_count(), count_zero_weights(l), weight_precision(l), kernels_of({&l})});
    });
    return out;
}

std::vector<LayerCost> layer_costs(const Model& model, const LayerProfile& profile, int samples) {
    std::vector<LayerCost> out;
    const double per = 1e-3 / double(std::max(1, samples)); // ns summed over samples -> us per forward
    for (size_t li = 0; li < model.layers.size(); ++li) {
        LayerCost c;
        std::vector<const LinearWeights*> ms;
        for_each_layer_matrix(const_cast<Model&>(model), int(li), MatrixScope::All, [&](const LinearWeights& l, const MatrixInfo&) {
            add_matrix(c, l);
            ms.push_back(&l);
        });
        c.kernels = kernels_of(ms);
        std::visit(Overloaded{
                       [&](const LinearWeights& lin) {
                           c.name = lin.name;
                           c.kind = "linear";
                       },
                       [&](const MoeLayer& moe) {
                           c.name = moe.name;
                           c.kind = "moe";
                       },
                       [&](const ActivationLayer& act) {
                           c.name = activation_name(act.kind);
                           c.kind = "activation";
                       },
                       [&](const LayerNormLayer& ln) {
                           c.name = ln.name;
                           c.kind = "layernorm";
                           c.resident_bytes += int64_t(ln.weight.size() + ln.bias.size()) * 4;
                       },
                       [&](const DropoutLayer&) {
                           c.name = "dropout";
                           c.kind = "dropout";
                       },
                       [&](const Conv2dLayer& conv) {
                           c.name = conv.w.name;
                           c.kind = "conv2d";
                       },
                       [&](const BatchNorm2dLayer& bn) {
                           c.name = bn.name;
                           c.kind = "batchnorm2d";
                           c.resident_bytes += int64_t(bn.weight.size() + bn.bias.size() + bn.mean.size() + bn.var.size()) * 4;
                       },
                       [&](const SpatialLayer& s) {
                           c.kind = layer_kind_name(s);
                           c.name = c.kind;
                       },
                       [&](const ResidualLayer& r) {
                           c.kind = layer_kind_name(r);
                           c.name = r.has_projection ? r.projection.w.name : c.kind;
                       },
                       [&](const EmbeddingLayer& e) {
                           c.name = e.table.name;
                           c.kind = "embedding";
                       },
                       [&](const RmsNormLayer& n) {
                           c.name = n.name;
                           c.kind = "rmsnorm";
                           c.resident_bytes += int64_t(n.weight.size()) * 4;
                       },
                       [&](const DecoderBlock& b) {
                           c.name = b.name;
                           c.kind = b.is_moe ? "decoder-moe" : "decoder";
                           for (const RmsNormLayer* n : {&b.attn_norm, &b.ffn_norm, &b.attn.q_norm, &b.attn.k_norm})
                               c.resident_bytes += int64_t(n->weight.size()) * 4;
                       },
                   },
                   model.layers[li]);
        if (li < profile.layer_ns.size()) c.batch1_us = profile.layer_ns[li] * per;
        out.push_back(std::move(c));
    }
    return out;
}

} // namespace ss
