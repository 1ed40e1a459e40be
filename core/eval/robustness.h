// robustness.h - accuracy under common corruptions (corruptions.h), compressed against dense.
//
// For each corruption c and severity s the test split is corrupted (seeded, corruptions.h) and
// both models' top-1 accuracy measured. The corruption error of the compressed model,
// CE_c = sum_s E_compressed(c, s) / sum_s E_dense(c, s) (errors E = 1 - accuracy), is Hendrycks &
// Dietterich's CE with the dense model as the reference network; mCE is its mean over corruptions
// (1.0: as robust as dense; 1.25: a quarter more errors under corruption). The dense model's
// accuracies are cached per (dense model, dataset, preprocessing, corruptions, severities, seed,
// samples) beside the baseline cache, so a sweep measures them once.
#pragma once

#include "data/corruptions.h"
#include "data/dataset.h"
#include "model/model.h"

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace ss {

inline constexpr int kDefaultRobustnessSamples = 2000;

struct RobustnessOptions {
    std::vector<Corruption> corruptions{std::begin(kAllCorruptions), std::end(kAllCorruptions)};
    std::vector<int> severities{1, 3, 5};
    // The first samples of the test split corrupted (0: all). 2,000 by default: a run with
    // robustness then takes about 3x a plain one on the demo (docs/robustness.md), and a paired
    // accuracy change on 2,000 samples is known to within about a point.
    int limit = kDefaultRobustnessSamples;
    uint64_t seed = 0;
    int threads = 1;
    int batch = 256;
    std::function<bool(float)> progress; // fraction done; false cancels (ss::Error "canceled")
};

struct CorruptionCell {
    Corruption corruption;
    int severity = 0;
    double accuracy = 0.0;       // compressed
    double dense_accuracy = std::numeric_limits<double>::quiet_NaN();
};

struct RobustnessResult {
    std::vector<CorruptionCell> cells; // corruption-major, severities in the order asked
    int samples = 0;
    uint64_t seed = 0;
    double mce = std::numeric_limits<double>::quiet_NaN();  // mean of ce (NaN without dense)
    std::vector<double> ce;                                  // (corruptions asked) CE per corruption
    std::vector<double> gap_points;                          // (corruptions asked) mean accuracy lost to dense, points
    double mean_accuracy = 0.0, dense_mean_accuracy = std::numeric_limits<double>::quiet_NaN(); // over every cell
    bool dense_from_cache = false;
};

// Top-1 accuracy of `model` on every (corruption, severity) of `opt`, in cell order. `h` x `w` is
// the image shape (the model's input shape). Throws ss::Error for data that are not images.
std::vector<double> corrupted_accuracies(const Model& model, const Dataset& data, int h, int w, const RobustnessOptions& opt);

// Both models (dense may be null: no CE), the dense side from the cache when it holds it.
RobustnessResult evaluate_robustness(const Model& compressed, const Model* dense, const Dataset& data, const RobustnessOptions& opt);

// From the two accuracy lists: CE per corruption, mCE, gaps.
RobustnessResult robustness_from_accuracies(const RobustnessOptions& opt, int samples, const std::vector<double>& compressed,
                                            const std::vector<double>* dense);

// The image shape of a model's input: (h, w) from a 2-D InputSpec shape, or a square of the
// feature count; false when neither.
bool image_shape(const Model& model, int* h, int* w);

} // namespace ss
