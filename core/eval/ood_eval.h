// ood_eval.h - does the model still notice what it does not know? Max-softmax and energy scores
// (ood_scores.h) on the test split, the in-distribution positives, against an out-of-distribution
// set, for the compressed and the dense model: AUROC, AUPR and FPR at 95 % TPR of each.
#pragma once

#include "data/dataset.h"
#include "eval/ood_scores.h"
#include "model/model.h"

#include <cstdint>
#include <string>

namespace ss {

struct OodEvaluation {
    std::string set;                  // what the OOD samples were ("glyphs", "noise", a path)
    int in_count = 0, out_count = 0;
    OodResult msp, energy;            // compressed
    bool has_dense = false;
    OodResult dense_msp, dense_energy;
};

// `count` images of `features` pixels, each pixel a whole number uniform in 0..255 (seeded), label 0.
Dataset uniform_noise_images(int count, int features, uint64_t seed = 0);

// The first `in_limit` samples of `in` (0: all) against every sample of `out`. Throws ss::Error
// when `out`'s samples do not have the model's input size.
OodEvaluation evaluate_ood(const Model& compressed, const Model* dense, const Dataset& in, int in_limit, const Dataset& out,
                           const std::string& name, int batch = 256);

} // namespace ss
