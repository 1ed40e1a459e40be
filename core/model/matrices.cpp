// matrices.cpp
#include "model/matrices.h"

#include "formats/tensor_names.h"
#include "model/overloaded.h"

namespace ss {

namespace {
using tensor_names::ExpertPart;

// The experts (and router, shared expert) of an MoE layer.
void moe_matrices(MoeLayer& moe, int layer, int moe_index, MatrixScope scope, const std::function<void(LinearWeights&, const MatrixInfo&)>& f) {
    if (scope == MatrixScope::All) f(moe.gate, {moe.gate.name, moe.gate.name, MatrixRole::Router, layer, moe_index, -1, false});
    auto part = [&](LinearWeights& l, int id, int pos, ExpertPart p, MatrixRole role) {
        f(l, {tensor_names::expert_matrix(moe.naming, moe.name, id, p), tensor_names::expert_matrix(moe.naming, moe.name, pos, p), role, layer,
              moe_index, pos, true});
    };
    for (size_t e = 0; e < moe.experts.size(); ++e) {
        MoeExpert& ex = moe.experts[e];
        part(ex.fc1, ex.id, int(e), ExpertPart::Fc1, MatrixRole::ExpertFc1);
        if (ex.gated()) part(ex.up, ex.id, int(e), ExpertPart::Up, MatrixRole::ExpertUp);
        part(ex.fc2, ex.id, int(e), ExpertPart::Fc2, MatrixRole::ExpertFc2);
    }
    if (moe.has_shared) {
        for (LinearWeights* l : {&moe.shared.fc1, &moe.shared.up, &moe.shared.fc2})
            f(*l, {l->name, l->name, MatrixRole::SharedExpert, layer, moe_index, -1, true});
        if (scope == MatrixScope::All)
            f(moe.shared_gate, {moe.shared_gate.name, moe.shared_gate.name, MatrixRole::SharedGate, layer, moe_index, -1, false});
    }
}

MatrixInfo plain(const LinearWeights& l, MatrixRole role, int layer, bool compressible) { return {l.name, l.name, role, layer, -1, -1, compressible}; }
} // namespace

void for_each_layer_matrix(Model& model, int layer, MatrixScope scope,
                           const std::function<void(LinearWeights&, const MatrixInfo&)>& f) {
    int moe_index = 0;
    for (int i = 0; i < layer; ++i) {
        const Layer& l = model.layers[size_t(i)];
        moe_index += std::holds_alternative<MoeLayer>(l) || (std::holds_alternative<DecoderBlock>(l) && std::get<DecoderBlock>(l).is_moe);
    }
    const bool lm = model.task == EvalTask::LanguageModeling;
    std::visit(Overloaded{
                   [&](LinearWeights& l) {
                       if (!lm) f(l, plain(l, MatrixRole::Linear, layer, true));
                       else if (scope == MatrixScope::All) f(l, plain(l, MatrixRole::Output, layer, false)); // lm_head
                   },
                   [&](MoeLayer& moe) { moe_matrices(moe, layer, moe_index, scope, f); },
                   [&](EmbeddingLayer& e) {
                       if (scope == MatrixScope::All) f(e.table, plain(e.table, MatrixRole::Embedding, layer, false));
                   },
                   [&](DecoderBlock& b) {
                       for (LinearWeights* l : {&b.attn.q, &b.attn.k, &b.attn.v, &b.attn.o}) f(*l, plain(*l, MatrixRole::Attention, layer, true));
                       if (b.is_moe) {
                           moe_matrices(b.moe, layer, moe_index, scope, f);
                       } else {
                           for (LinearWeights* l : {&b.mlp.fc1, &b.mlp.up, &b.mlp.fc2}) f(*l, plain(*l, MatrixRole::Mlp, layer, true));
                       }
                   },
                   [&](Conv2dLayer& c) { f(c.w, plain(c.w, MatrixRole::Conv, layer, true)); },
                   [&](ResidualLayer& r) {
                       if (r.has_projection) f(r.projection.w, plain(r.projection.w, MatrixRole::Conv, layer, true));
                   },
                   [](BatchNorm2dLayer&) {},
                   [](SpatialLayer&) {},
                   [](ActivationLayer&) {},
                   [](LayerNormLayer&) {},
                   [](RmsNormLayer&) {},
                   [](DropoutLayer&) {},
               },
               model.layers[size_t(layer)]);
}

void for_each_layer_vector(Model& model, int layer, const std::function<void(WeightData&, const VectorInfo&)>& f) {
    auto batchnorm = [&](BatchNorm2dLayer& bn) { // PyTorch's names
        f(bn.weight, {tensor_names::weight(bn.name), bn.name, layer, bn.channels});
        f(bn.bias, {tensor_names::bias(bn.name), bn.name, layer, bn.channels});
        f(bn.mean, {bn.name + ".running_mean", bn.name, layer, bn.channels});
        f(bn.var, {bn.name + ".running_var", bn.name, layer, bn.channels});
    };
    std::visit(Overloaded{
                   [&](LayerNormLayer& ln) {
                       f(ln.weight, {tensor_names::weight(ln.name), ln.name, layer, ln.dim});
                       f(ln.bias, {tensor_names::bias(ln.name), ln.name, layer, ln.dim});
                   },
                   [&](RmsNormLayer& n) { f(n.weight, {tensor_names::weight(n.name), n.name, layer, n.dim}); },
                   [&](DecoderBlock& b) {
                       for (RmsNormLayer* n : {&b.attn_norm, &b.attn.q_norm, &b.attn.k_norm, &b.ffn_norm})
                           if (n->dim > 0) f(n->weight, {tensor_names::weight(n->name), n->name, layer, n->dim});
                   },
                   [](LinearWeights&) {}, // biases belong to their matrices
                   [](MoeLayer&) {},
                   [](EmbeddingLayer&) {},
                   [&](BatchNorm2dLayer& bn) { batchnorm(bn); },
                   [](Conv2dLayer&) {}, // biases belong to their matrices
                   [](SpatialLayer&) {},
                   [&](ResidualLayer& r) {
                       if (r.has_projection_bn) batchnorm(r.projection_bn);
                   },
                   [](ActivationLayer&) {},
                   [](DropoutLayer&) {},
               },
               model.layers[size_t(layer)]);
}

LinearWeights* find_matrix(Model& model, const std::string& name, MatrixScope scope) {
    LinearWeights* found = nullptr;
    for_each_matrix(model, [&](LinearWeights& l, const MatrixInfo& info) {
        if (!found && info.name == name) found = &l;
    }, scope);
    return found;
}

} // namespace ss
