// ood_scores.h - how well a score tells in-distribution inputs from out-of-distribution ones
// (Hendrycks & Gimpel 2017): in-distribution samples are the positives, a higher score means "more
// in-distribution". Scores: the max softmax probability, or the negative energy logsumexp(logits)
// (Liu et al. 2020).
#pragma once

#include <vector>

namespace ss {

struct OodResult {
    double auroc = 0.0;   // P(score of a random in-sample > score of a random OOD sample), ties 1/2
    double aupr_in = 0.0; // average precision with in-distribution as the positive class
    double aupr_out = 0.0; // the same with OOD as positive and the score negated
    double fpr95 = 0.0;   // share of OOD samples scored at or above the threshold that keeps 95 % of in-samples
    int in_count = 0, out_count = 0;
    // For plots: the ROC curve (true- against false-positive rate as the threshold falls from the
    // highest score), at most kOodRocPoints points from (0, 0) to (1, 1); and both sets' scores in
    // kOodHistogramBins equal-width bins over [hist_lo, hist_hi], the range of all scores.
    std::vector<float> roc_fpr, roc_tpr;
    double hist_lo = 0.0, hist_hi = 0.0;
    std::vector<int> in_hist, out_hist;
};

inline constexpr int kOodRocPoints = 256;
inline constexpr int kOodHistogramBins = 30;

// Throws ss::Error when either set is empty or a score is NaN.
OodResult ood_separation(const std::vector<float>& in_scores, const std::vector<float>& out_scores);

// logsumexp of each row of logits (rows, classes): the negative energy, higher for inputs the model
// knows.
std::vector<float> negative_energy(const float* logits, int rows, int classes);

} // namespace ss
