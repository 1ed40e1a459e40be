// calibration.h - what a few representative samples do inside a model: per-matrix input norms
// (for Wanda) and per-expert routed shares (for dropping experts and bits-by-use).
#pragma once

#include "data/dataset.h"
#include "model/model.h"

#include <map>
#include <string>
#include <vector>

namespace ss {

struct CalibrationStats {
    int samples = 0;
    // Per linear layer / expert matrix (by LinearWeights::name): (in) sum over the rows that
    // reached it of x_j^2, so ||X_j||_2 = sqrt(input_sumsq[j]).
    std::map<std::string, std::vector<double>> input_sumsq;
    // Per MoE layer (model order), per expert position: share of routed (row, slot) pairs.
    std::vector<std::vector<double>> expert_share;
};

// Runs `samples` samples of `data` (a fixed-seed random subset) through `model`.
CalibrationStats calibrate(const Model& model, const Dataset& data, int samples);

} // namespace ss
