// model.cpp
#include "model/model.h"

#include "model/matrices.h"

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

int64_t linear_params(const LinearWeights& l) { return l.weight_count() + int64_t(l.bias.size()); }
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
    for_each_matrix(*this, [&](const LinearWeights& l) { n += linear_params(l); }, MatrixScope::All);
    for_each_vector(*this, [&](const WeightData& v, const VectorInfo&) { n += int64_t(v.size()); });
    return n;
}

std::vector<MoeLayer*> Model::moe_layers() {
    std::vector<MoeLayer*> out;
    for (auto& layer : layers) {
        if (auto* moe = std::get_if<MoeLayer>(&layer)) out.push_back(moe);
        else if (auto* block = std::get_if<DecoderBlock>(&layer); block && block->is_moe) out.push_back(&block->moe);
    }
    return out;
}

std::vector<const MoeLayer*> Model::moe_layers() const {
    std::vector<const MoeLayer*> out;
    for (MoeLayer* moe : const_cast<Model*>(this)->moe_layers()) out.push_back(moe);
    return out;
}

} // namespace ss
