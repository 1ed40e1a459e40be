// compression_plan.h - everything the user asked for, as one serializable object.
//
// Flag forms (the same strings are used inside plan JSON):
//   prune:  none | magnitude:S | magnitude-layer:S | nm:N:M | neurons:S | wanda:S      S in [0, 1)
//   quant:  see quant_spec.h
//   experts to drop: K (lowest routed share on calibration data) or a list "moe.3,moe.5"
// JSON (docs/compression.md):
//   {"prune": "magnitude:0.5", "quant": "int4:g32", "drop_experts": 2 | ["moe.3"],
//    "top_k": 1 | {"moe": 1}, "calibration_samples": 256,
//    "layers": {"head": {"prune": "none", "quant": "int8"}, "moe.experts.3": {"quant": "int2:g32"}},
//    "quant_experts_by_use": {"high": "int8", "low": "int2:g32", "high_share": 0.15, "low_share": 0.08}}
// A layer key is a linear layer's name, an expert ("moe.experts.3", both its matrices) or one
// expert matrix ("moe.experts.3.fc1"); the most specific key wins.
#pragma once

#include "compress/quant_spec.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ss {

enum class PruneMethod { None, Magnitude, MagnitudeLayer, NM, Neurons, Wanda };

struct PruneSpec {
    PruneMethod method = PruneMethod::None;
    double sparsity = 0.0; // magnitude, magnitude-layer, neurons, wanda: fraction removed, [0, 1)
    int n = 0, m = 0;      // nm: keep n of every m
    int block = 1;         // magnitude, magnitude-layer: 1 (single weights) or 4 (4x1 blocks, ":block4")
    std::string label() const; // flag form
    bool operator==(const PruneSpec&) const = default;
};

PruneSpec parse_prune_spec(const std::string& text); // throws ss::Error("prune 'TEXT': ...")

struct LayerOverride {
    std::optional<PruneSpec> prune;
    std::optional<QuantSpec> quant;
};

struct QuantByUse {
    bool enabled = false;
    QuantSpec high, low;      // experts with share >= high_share get `high`, <= low_share get `low`
    double high_share = 0.0;  // 0: 1.25 / experts
    double low_share = 0.0;   // 0: 0.75 / experts
};

struct CompressionPlan {
    PruneSpec prune;
    QuantSpec quant;
    int drop_experts = 0;                        // drop this many least-used experts per MoE layer
    std::vector<std::string> drop_expert_names;  // or these ("moe.3")
    int top_k = 0;                               // all MoE layers; 0 keeps the model's
    std::map<std::string, int> top_k_per_layer;  // MoE layer name -> k
    std::map<std::string, LayerOverride> layers;
    QuantByUse quant_by_use;
    int calibration_samples = 256;

    bool needs_calibration() const;
    bool is_identity() const;
    std::string prune_label() const; // e.g. "magnitude:0.50" (+ " (+overrides)")
    std::string quant_label() const;
    std::string summary() const;     // one line for tables
    std::string to_json() const;     // compact, stable key order
};

// Throws ss::Error naming `where`, the key and the rule.
CompressionPlan parse_compression_plan(const std::string& json_text, const std::string& where);

// The single CLI flags as a plan ("" or "none" for unset).
CompressionPlan plan_from_flags(const std::string& prune, const std::string& quant, int top_k);

} // namespace ss
