// model.h - the in-memory classifier-v1 model: a list of layers with fp32 weights.
//
// Weights follow PyTorch's layout: a linear weight is (out, in) row-major, so y = x W^T + b.
// A Model is a value: compression copies it and edits the copy, never the loaded original.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace ss {

enum class Activation { Relu, Gelu, Silu, Tanh, Sigmoid };

struct LinearWeights {
    std::string name;          // tensor prefix: NAME.weight, NAME.bias
    int in = 0;                // input features
    int out = 0;               // output features
    std::vector<float> weight; // (out, in) row-major
    std::vector<float> bias;   // (out); empty when has_bias is false
    bool has_bias = true;      // false only for MoE router gates
};

struct ActivationLayer {
    Activation kind = Activation::Relu;
};

struct MoeExpert {
    LinearWeights fc1; // (hidden, dim)
    LinearWeights fc2; // (dim, hidden)
};

struct MoeLayer {
    std::string name;
    int dim = 0;
    int hidden = 0;
    int top_k = 1;
    Activation activation = Activation::Gelu;
    bool residual = false;
    LinearWeights gate; // (experts, dim), no bias
    std::vector<MoeExpert> experts;
};

using Layer = std::variant<LinearWeights, ActivationLayer, MoeLayer>;

struct InputSpec {
    std::vector<int> shape; // e.g. {28, 28}; features = product
    double scale = 1.0;     // x = (raw * scale - mean) / std, evaluated in double, rounded to fp32
    double mean = 0.0;
    double std = 1.0;
    int features() const;
};

struct Model {
    std::string name;
    std::string source_path; // where it was loaded from; empty for models built in memory
    InputSpec input;
    std::vector<std::string> labels;
    std::vector<Layer> layers;

    int input_features() const { return input.features(); }
    int num_classes() const { return int(labels.size()); }
    int64_t parameter_count() const;
    std::vector<const MoeLayer*> moe_layers() const;
};

const char* activation_name(Activation a);
bool parse_activation(const std::string& s, Activation* out);

// Calls f(LinearWeights&) for every prunable / quantizable weight matrix: plain linear layers and
// expert fc1/fc2. MoE router gates are excluded: they are small and routing is fragile.
template <class ModelT, class F>
void for_each_compressible_linear(ModelT& model, F&& f) {
    for (auto& layer : model.layers) {
        if (auto* lin = std::get_if<LinearWeights>(&layer)) {
            f(*lin);
        } else if (auto* moe = std::get_if<MoeLayer>(&layer)) {
            for (auto& e : moe->experts) {
                f(e.fc1);
                f(e.fc2);
            }
        }
    }
}

} // namespace ss
