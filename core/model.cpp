// model.cpp
#include "model.h"

namespace ss {

namespace {
struct ActivationName {
    Activation a;
    const char* name;
};
constexpr ActivationName kActivationNames[] = {
    {Activation::Relu, "relu"}, {Activation::LeakyRelu, "leaky_relu"}, {Activation::Gelu, "gelu"}, {Activation::GeluTanh, "gelu_tanh"}, {Activation::Silu, "silu"},
    {Activation::Tanh, "tanh"}, {Activation::Sigmoid, "sigmoid"},
};

int64_t linear_params(const LinearWeights& l) { return int64_t(l.weight.size() + l.bias.size()); }
} // namespace

int InputSpec::features() const {
    int n = shape.empty() ? 0 : 1;
    for (int d : shape) n *= d;
    return n;
}

const char* activation_name(Activation a) {
    for (const auto& n : kActivationNames)
        if (n.a == a) return n.name;
    return "?";
}

bool parse_activation(const std::string& s, Activation* out) {
    for (const auto& n : kActivationNames)
        if (s == n.name) {
            *out = n.a;
            return true;
        }
    return false;
}

int64_t Model::parameter_count() const {
    int64_t n = 0;
    for (const auto& layer : layers) {
        if (auto* lin = std::get_if<LinearWeights>(&layer)) {
            n += linear_params(*lin);
        } else if (auto* moe = std::get_if<MoeLayer>(&layer)) {
            n += linear_params(moe->gate);
            for (const auto& e : moe->experts) n += linear_params(e.fc1) + linear_params(e.fc2);
        } else if (auto* ln = std::get_if<LayerNormLayer>(&layer)) {
            n += int64_t(ln->weight.size() + ln->bias.size());
        }
    }
    return n;
}

LinearWeights* find_compressible_linear(Model& model, const std::string& name) {
    LinearWeights* found = nullptr;
    for_each_compressible_linear(model, [&](LinearWeights& l) {
        if (l.name == name) found = &l;
    });
    return found;
}

std::vector<const MoeLayer*> Model::moe_layers() const {
    std::vector<const MoeLayer*> out;
    for (const auto& layer : layers)
        if (auto* moe = std::get_if<MoeLayer>(&layer)) out.push_back(moe);
    return out;
}

} // namespace ss
