// calibration.h - what a few representative samples do inside a model: per-matrix input norms
// (for Wanda) and per-expert routed shares (for dropping experts and bits-by-use). Classifiers run
// images; language models run chunks of calibration text.
#pragma once

#include "data/dataset.h"
#include "data/token_data.h"
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

// What calibration runs through a model: samples for a classifier, tokens for a language model.
// Converts from a Dataset pointer, so classifier callers pass their dataset as before.
struct CalibrationSet {
    const Dataset* samples = nullptr;  // classifiers
    const TokenData* tokens = nullptr; // language models: the text, cut into chunks of `ctx`
    int ctx = 512;                     // language models: tokens per chunk (each from an empty cache)
    CalibrationSet() = default;
    CalibrationSet(const Dataset* d) : samples(d) {} // NOLINT: implicit on purpose
    CalibrationSet(const TokenData* t, int chunk_tokens) : tokens(t), ctx(chunk_tokens) {}
    bool empty() const { return !samples && !tokens; }
};

// Classifiers: `samples` samples of set.samples (a fixed-seed random subset). Language models: the
// first `samples` chunks of set.tokens (fewer when the text is shorter; at least one whole chunk).
// Throws ss::Error when the set holds nothing of the kind the model needs.
CalibrationStats calibrate(const Model& model, const CalibrationSet& set, int samples);

} // namespace ss
