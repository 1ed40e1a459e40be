// matrices.cpp
#include "model/matrices.h"

#include "formats/tensor_names.h"
#include "model/overloaded.h"

namespace ss {

void for_each_layer_matrix(Model& model, int layer, MatrixScope scope,
                           const std::function<void(LinearWeights&, const MatrixInfo&)>& f) {
    int moe_index = 0;
    for (int i = 0; i < layer; ++i) moe_index += std::holds_alternative<MoeLayer>(model.layers[size_t(i)]);
    std::visit(Overloaded{
                   [&](LinearWeights& l) { f(l, {l.name, l.name, MatrixRole::Linear, layer, -1, -1, true}); },
                   [&](MoeLayer& moe) {
                       if (scope == MatrixScope::All) {
                           const std::string gate = tensor_names::moe_gate(moe.name);
                           f(moe.gate, {gate, gate, MatrixRole::Router, layer, moe_index, -1, false});
                       }
                       for (size_t e = 0; e < moe.experts.size(); ++e) {
                           MoeExpert& ex = moe.experts[e];
                           f(ex.fc1, {tensor_names::moe_fc1(moe.name, ex.id), tensor_names::moe_fc1(moe.name, int(e)),
                                      MatrixRole::ExpertFc1, layer, moe_index, int(e), true});
                           f(ex.fc2, {tensor_names::moe_fc2(moe.name, ex.id), tensor_names::moe_fc2(moe.name, int(e)),
                                      MatrixRole::ExpertFc2, layer, moe_index, int(e), true});
                       }
                   },
                   [](ActivationLayer&) {},
                   [](LayerNormLayer&) {},
                   [](DropoutLayer&) {},
               },
               model.layers[size_t(layer)]);
}

void for_each_layer_vector(Model& model, int layer, const std::function<void(WeightData&, const VectorInfo&)>& f) {
    std::visit(Overloaded{
                   [&](LayerNormLayer& ln) {
                       f(ln.weight, {tensor_names::weight(ln.name), ln.name, layer, ln.dim});
                       f(ln.bias, {tensor_names::bias(ln.name), ln.name, layer, ln.dim});
                   },
                   [](LinearWeights&) {}, // biases belong to their matrices
                   [](MoeLayer&) {},
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
