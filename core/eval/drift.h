// drift.h - has the data a deployed model sees moved away from the data it was measured on? A new
// batch against the reference split: input statistics (the population stability index of every
// feature, the two-sample Kolmogorov-Smirnov statistic of each sample's mean value), and what the
// models make of it (the share of each predicted class, the max-softmax confidence), for the
// compressed model and the dense one - a compressed model can react to drift differently.
#pragma once

#include "data/dataset.h"
#include "model/model.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ss {

// PSI = sum over bins of (actual - expected) x ln(actual / expected), shares floored at 1e-4 so an
// empty bin counts but does not divide by zero. Rules of thumb: < 0.1 stable, 0.1-0.25 moderate,
// > 0.25 a major shift. Both vectors (bins) of shares.
double population_stability_index(const std::vector<double>& expected, const std::vector<double>& actual);

// PSI of `actual` against `reference` over up to `bins` bins cut at the reference's quantiles
// (equal edges merged, so a feature that is mostly 0 gets fewer bins). 0 when both are constant
// and equal.
double feature_psi(std::vector<float> reference, const std::vector<float>& actual, int bins = 10);

struct KsResult {
    double d = 0.0;       // sup |F_a - F_b| over the two empirical distribution functions
    double p_value = 1.0; // asymptotic (Kolmogorov distribution, Stephens' small-sample correction)
};
KsResult ks_two_sample(std::vector<double> a, std::vector<double> b);

struct PredictionShift {
    std::vector<double> reference_share, new_share; // (classes) share of samples predicted as each class
    double psi = 0.0;                                 // of the predicted-class shares
    double reference_confidence = 0.0, new_confidence = 0.0; // mean max softmax
    KsResult confidence_ks;                                  // of the max softmax
    double reference_accuracy = 0.0, new_accuracy = 0.0;     // against the labels each set carries
};

struct DriftReport {
    std::string reference_path, new_path;
    int reference_count = 0, new_count = 0, features = 0;
    std::vector<double> feature_psi; // (features)
    double psi_mean = 0.0, psi_max = 0.0;
    int psi_max_feature = 0;
    int features_moderate = 0;       // 0.1 <= PSI < 0.25
    int features_major = 0;          // PSI >= 0.25
    double reference_mean_value = 0.0, new_mean_value = 0.0; // over all values, as stored
    KsResult mean_value_ks;          // of each sample's mean value
    bool has_models = false, has_dense = false;
    PredictionShift compressed, dense;
    double reference_agreement = 0.0, new_agreement = 0.0; // compressed predicts what dense predicts
};

// Input statistics only.
DriftReport input_drift(const Dataset& reference, const Dataset& batch);

// Input statistics and both models' predictions (`dense` may be null). Throws ss::Error when the
// datasets' sample sizes differ from each other or from the model's input.
DriftReport drift_report(const Dataset& reference, const Dataset& batch, const Model& compressed, const Model* dense, int threads = 1);

} // namespace ss
