// compression.h - turning a model and a plan into a compressed copy (docs/compression.md).
#pragma once

#include "compress/compression_plan.h"
#include "compress/calibration.h"
#include "data/dataset.h"
#include "model/model.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ss {

struct CompressedModel {
    Model model;           // a copy; the original is never modified
    CompressionPlan plan;
    int64_t weight_bytes = 0;        // every weight, bias and scale as stored for this plan
    double sparsity = 0.0;           // measured: zeros / all compressible weights
    double flops_per_sample = 0.0;   // dense-equivalent multiply-adds x 2 per sample
    std::vector<std::string> notes;  // what calibration decided (dropped experts, bits by use)
};

// Applies, in order: expert dropping, top-k, pruning, quantization. `calibration` is needed
// when plan.needs_calibration() (Wanda, dropping K experts, bits by use); its samples should not
// be the evaluation samples. Throws ss::Error for a plan that does not fit the model.
CompressedModel compress(const Model& original, const CompressionPlan& plan, const CalibrationSet& calibration = {});

double measured_sparsity(const Model& model);
int64_t weight_bytes(const Model& model);
// 2 x (multiply-adds) per sample as if every weight were nonzero; an MoE layer counts its gate
// plus top_k experts of average size.
double dense_flops_per_sample(const Model& model);

} // namespace ss
