// matrices.h - the one way to list a model's weight matrices, with their tensor names.
//
// Every pass that touches matrices (compression, kernel planning, loading, saving, costs, the
// layer tree) goes through for_each_matrix, so a new layer kind adds its matrices in one place
// (layer_matrices in matrices.cpp) and names come from one table (formats/tensor_names.h).
#pragma once

#include "model/model.h"

#include <functional>
#include <string>
#include <type_traits>
#include <utility>

namespace ss {

enum class MatrixRole : uint8_t {
    Linear,       // a plain linear layer of a classifier
    Router,       // an MoE layer's gate: (experts, dim)
    ExpertFc1,    // an expert's first matrix: (hidden, dim); gate_proj in gated experts
    ExpertFc2,    // an expert's second matrix: (dim, hidden); down_proj
    ExpertUp,     // a gated expert's up_proj: (hidden, dim)
    Attention,    // q, k, v, o of a decoder block
    Mlp,          // a decoder block's dense gate / up / down matrices
    SharedExpert, // Qwen2-MoE's shared expert's matrices
    SharedGate,   // its (1, dim) gate
    Embedding,    // token embeddings (vocab, dim)
    Output,       // a language model's lm_head (vocab, dim)
    Conv,         // a convolution's weight in im2col form (out_channels, in_channels / groups * kh * kw)
};
// Routers, the shared expert's gate, embeddings and lm_head are compressed only when a plan names
// them (MatrixInfo::compressible is false): small or fragile, or not in every forward's hot path.

struct MatrixInfo {
    std::string name;        // tensor prefix as loaded ("stem", "moe.experts.3.fc1"): plan paths use it
    std::string stored_name; // tensor prefix in a file written now: experts numbered by position
    MatrixRole role = MatrixRole::Linear;
    int layer = 0;           // index in Model::layers
    int moe_index = -1;      // index among the MoE layers; -1 outside them
    int expert = -1;         // position within the MoE layer; -1 outside experts
    bool compressible = true; // false for routers, embeddings and lm_head (see MatrixRole)
};

enum class MatrixScope {
    Compressible, // what compression and kernel planning touch by default
    All,          // every weight matrix, routers included
};

// Calls f(LinearWeights&, const MatrixInfo&) for the matrices of model.layers[layer], in order:
// a linear layer's own matrix; for an MoE layer the router, then each expert's fc1 and fc2.
void for_each_layer_matrix(Model& model, int layer, MatrixScope scope,
                           const std::function<void(LinearWeights&, const MatrixInfo&)>& f);

namespace detail {
template <class L, class F>
void call_matrix_fn(F& f, L& l, const MatrixInfo& info) {
    if constexpr (std::is_invocable_v<F&, L&, const MatrixInfo&>) f(l, info);
    else f(l);
}
} // namespace detail

// Calls f(matrix) or f(matrix, info) for every matrix in `scope`, layer by layer. A const model
// hands out const matrices.
template <class ModelT, class F>
void for_each_matrix(ModelT& model, F&& f, MatrixScope scope = MatrixScope::Compressible) {
    Model& m = const_cast<Model&>(static_cast<const Model&>(model));
    for (int li = 0; li < int(m.layers.size()); ++li)
        for_each_layer_matrix(m, li, scope, [&](LinearWeights& l, const MatrixInfo& info) {
            if constexpr (std::is_const_v<ModelT>) detail::call_matrix_fn(f, std::as_const(l), info);
            else detail::call_matrix_fn(f, l, info);
        });
}

// A parameter that is not a matrix: a normalization's weight or bias.
struct VectorInfo {
    std::string tensor; // full tensor name, "ln.weight"
    std::string owner;  // the layer it belongs to, "ln"
    int layer = 0;      // index in Model::layers
    int64_t size = 0;   // elements
};

// Calls f(WeightData&, const VectorInfo&) for the vector parameters of model.layers[layer].
void for_each_layer_vector(Model& model, int layer, const std::function<void(WeightData&, const VectorInfo&)>& f);

// Calls f(vector, info) for every vector parameter, layer by layer.
template <class ModelT, class F>
void for_each_vector(ModelT& model, F&& f) {
    Model& m = const_cast<Model&>(static_cast<const Model&>(model));
    for (int li = 0; li < int(m.layers.size()); ++li)
        for_each_layer_vector(m, li, [&](WeightData& v, const VectorInfo& info) {
            if constexpr (std::is_const_v<ModelT>) f(std::as_const(v), info);
            else f(v, info);
        });
}

// The matrix whose tensor prefix as loaded is `name`, in `scope`; null when there is none.
LinearWeights* find_matrix(Model& model, const std::string& name, MatrixScope scope = MatrixScope::Compressible);

} // namespace ss
