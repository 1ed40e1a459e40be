// compression.h - what the user asked for, and the compressed copy it produces.
#pragma once

#include "model.h"

#include <cstdint>
#include <string>

namespace ss {

enum class PruneMethod { None, Magnitude };
enum class QuantKind { None, Int8 };

struct CompressionSpec {
    PruneMethod prune = PruneMethod::None;
    double sparsity = 0.0; // target fraction of compressible weights set to zero, 0..1
    QuantKind quant = QuantKind::None;
    int top_k = 0;         // MoE top-k override; 0 keeps the model's own

    std::string prune_label() const; // "none" or "magnitude:0.50"
    std::string quant_label() const; // "none" or "int8"
};

// "magnitude:0.5" / "none"; "int8" / "none". Throw ss::Error naming the option and the rule.
CompressionSpec& parse_prune_option(CompressionSpec& spec, const std::string& text);
CompressionSpec& parse_quant_option(CompressionSpec& spec, const std::string& text);

struct CompressedModel {
    Model model;            // a copy; the original is never modified
    CompressionSpec spec;
    int64_t weight_bytes = 0; // bytes of all weights and biases as stored for this spec
    double sparsity = 0.0;    // measured: zeros / all compressible weights
};

CompressedModel compress(const Model& original, const CompressionSpec& spec);

double measured_sparsity(const Model& model);
int64_t weight_bytes(const Model& model); // by model.weight_format

} // namespace ss
