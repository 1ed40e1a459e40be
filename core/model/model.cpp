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

std::vector<const MoeLayer*> Model::moe_layers() const {
    std::vector<const MoeLayer*> out;
    for (const auto& layer : layers)
        if (auto* moe = std::get_if<MoeLayer>(&layer)) out.push_back(moe);
    return out;
}

int64_t count_zero_weights(const LinearWeights& l) {
    int64_t zeros = 0;
    if (!l.weight.empty()) {
        for (float w : l.weight) zeros += w == 0.0f;
    } else if (l.quant && !l.quant->half.empty()) {
        for (uint16_t h : l.quant->half) zeros += (h & 0x7fffu) == 0;
    } else if (l.quant) {
        const QuantizedWeights& q = *l.quant;
        const int groups = q.groups_per_row(), offset = 1 << (q.spec.bits() - 1);
        for (int o = 0; o < q.out; ++o)
            for (int i = 0; i < q.in; ++i) {
                const size_t g = size_t(o) * groups + size_t(i / q.group);
                const uint32_t zero = q.spec.asym ? q.zero[g] : uint32_t(offset);
                zeros += q.code(size_t(o) * q.in + i) == zero || q.scale[g] == 0.0f;
            }
    } else if (l.csr) {
        zeros = l.weight_count() - l.csr->nnz();
    } else if (l.bsr || l.nm24) {
        for (float w : dense_weights(l)) zeros += w == 0.0f;
    }
    return zeros;
}

int64_t resident_weight_bytes(const LinearWeights& l) {
    int64_t bytes = int64_t(l.weight.size() + l.bias.size()) * 4;
    if (l.csr) bytes += l.csr->storage_bytes();
    if (l.bsr) bytes += l.bsr->storage_bytes();
    if (l.nm24) bytes += l.nm24->storage_bytes();
    if (l.qmat) bytes += l.qmat->storage_bytes();
    return bytes;
}

std::vector<float> dense_weights(const LinearWeights& l) {
    if (!l.weight.empty()) return l.weight.to_vector();
    if (l.quant) return dequantize_weights(*l.quant);
    if (l.csr) return csr_to_dense(*l.csr);
    if (l.bsr) return bsr_to_dense(*l.bsr);
    if (l.nm24) return nm24_to_dense(*l.nm24);
    return {};
}

void restore_dense_weights(Model& model) {
    for_each_matrix(model, [](LinearWeights& l) {
        if (l.weight.empty() && l.weight_count() > 0) l.weight = WeightData(dense_weights(l));
        l.csr.reset();
        l.bsr.reset();
        l.nm24.reset();
        l.qmat.reset();
        l.family_small = l.family_large = KernelFamily::Dense;
        l.kernel_measured = false;
    });
}

} // namespace ss
