// layer_cost.h - what each top-level layer of a model costs at batch 1: time and resident bytes.
#pragma once

#include "model/forward.h"
#include "kernels/kernel_plan.h"
#include "model/model.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ss {

struct LayerCost {
    std::string name;           // the layer's name, or its kind for unnamed layers ("gelu")
    std::string kind;           // "linear", "moe", "activation", "layernorm", "dropout"
    double batch1_us = 0.0;     // mean time per batch-1 forward (microseconds)
    int64_t resident_bytes = 0; // weights as the kernels keep them (resident_weight_bytes), biases included
    int64_t weights = 0;        // weight count (an MoE layer's router and experts included)
    int64_t zero_weights = 0;   // of those, equal to zero
    std::string precision;      // "fp32", a quantization label ("int4:g32"), "mixed", or "" without weights
    std::string kernels;        // at batch 1 / batch 256, e.g. "csr-rows / csr-panel"; counted for MoE layers ("17 q8-dot / ...")
};

// One compressible matrix as the run kept it (the window's layer tree shows these per matrix).
struct MatrixCost {
    std::string name;        // MatrixInfo::name ("model.layers.0.self_attn.q_proj", "moe.experts.3.fc1")
    int64_t weights = 0, zero_weights = 0;
    std::string precision;   // "fp32" or a quantization label
    std::string kernels;     // at batch 1 / batch 256
};

// Every compressible matrix of `model` (routers, embeddings and lm_head are not compressed by
// default and are left out: reading them could convert a deferred BF16 matrix).
std::vector<MatrixCost> matrix_costs(const Model& model);

// The precision label of a matrix: "fp32" or its quantization's flag form.
std::string weight_precision(const LinearWeights& l);

// One entry per top-level layer, from a profile of `samples` batch-1 forwards (profile_forward).
std::vector<LayerCost> layer_costs(const Model& model, const LayerProfile& profile, int samples);

} // namespace ss
