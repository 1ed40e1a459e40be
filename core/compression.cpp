// compression.cpp
#include "compression.h"

#include "error.h"
#include "prune_magnitude.h"
#include "quantize_int8.h"

#include <cstdio>
#include <cstdlib>

namespace ss {

std::string CompressionSpec::prune_label() const {
    if (prune == PruneMethod::None || sparsity == 0.0) return "none";
    char buf[64];
    std::snprintf(buf, sizeof buf, "magnitude:%.2f", sparsity);
    return buf;
}

std::string CompressionSpec::quant_label() const { return quant == QuantKind::Int8 ? "int8" : "none"; }

CompressionSpec& parse_prune_option(CompressionSpec& spec, const std::string& text) {
    if (text == "none") {
        spec.prune = PruneMethod::None;
        spec.sparsity = 0.0;
        return spec;
    }
    const std::string prefix = "magnitude:";
    if (text.rfind(prefix, 0) != 0)
        throw Error("--prune '" + text + "': expected magnitude:S with S in [0, 1], or none");
    const std::string num = text.substr(prefix.size());
    char* end = nullptr;
    const double s = std::strtod(num.c_str(), &end);
    if (num.empty() || *end != '\0' || !(s >= 0.0 && s <= 1.0))
        throw Error("--prune '" + text + "': sparsity must be a number in [0, 1]");
    spec.prune = PruneMethod::Magnitude;
    spec.sparsity = s;
    return spec;
}

CompressionSpec& parse_quant_option(CompressionSpec& spec, const std::string& text) {
    if (text == "none") spec.quant = QuantKind::None;
    else if (text == "int8") spec.quant = QuantKind::Int8;
    else throw Error("--quant '" + text + "': expected int8 or none");
    return spec;
}

double measured_sparsity(const Model& model) {
    int64_t zeros = 0, total = 0;
    for_each_compressible_linear(model, [&](const LinearWeights& l) {
        for (float w : l.weight) zeros += w == 0.0f;
        total += int64_t(l.weight.size());
    });
    return total ? double(zeros) / double(total) : 0.0;
}

int64_t weight_bytes(const Model& model) {
    // Dense storage as the runtime executes it: fp32 everywhere, except that int8 stores each
    // compressible matrix as 1 byte per weight plus one fp32 scale per output row. Pruned zeros
    // are still stored (sparse formats come with the sparse kernels).
    const int64_t all = model.parameter_count() * 4;
    if (model.weight_format != WeightFormat::Int8PerChannel) return all;
    int64_t saved = 0;
    for_each_compressible_linear(model, [&](const LinearWeights& l) {
        saved += int64_t(l.weight.size()) * 3 - int64_t(l.out) * 4;
    });
    return all - saved;
}

CompressedModel compress(const Model& original, const CompressionSpec& spec) {
    CompressedModel c{original, spec, 0, 0.0};
    if (spec.prune == PruneMethod::Magnitude && spec.sparsity > 0.0) prune_magnitude_global(c.model, spec.sparsity);
    if (spec.quant == QuantKind::Int8) quantize_model_int8(c.model);
    c.weight_bytes = weight_bytes(c.model);
    c.sparsity = measured_sparsity(c.model);
    return c;
}

} // namespace ss
