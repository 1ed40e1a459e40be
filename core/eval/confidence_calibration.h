// confidence_calibration.h - how well a model's confidence matches how often it is right: the
// expected calibration error over 15 equal-width bins of the max softmax probability (Guo et al.
// 2017, as gpleiss/temperature_scaling computes it) and the bins of a reliability diagram.
#pragma once

#include <vector>

namespace ss {

struct ReliabilityBin {
    double lower = 0.0, upper = 0.0; // confidences in (lower, upper]
    int count = 0;
    double mean_confidence = 0.0; // 0 when count == 0
    double accuracy = 0.0;        // share correct, 0 when count == 0
};

struct CalibrationResult {
    double ece = 0.0;                 // sum over bins of |accuracy - mean confidence| x share of samples
    double mce = 0.0;                 // the largest |accuracy - mean confidence| of a non-empty bin
    double mean_confidence = 0.0;
    double accuracy = 0.0;
    std::vector<ReliabilityBin> bins; // (bins)
};

inline constexpr int kCalibrationBins = 15;

// confidence[i] in [0, 1] (the max softmax probability), correct[i] whether the top class was
// right. A confidence of exactly 0 falls in no bin (as in the reference code). Empty input: zeros.
CalibrationResult calibration(const std::vector<float>& confidence, const std::vector<unsigned char>& correct,
                              int bins = kCalibrationBins);

// The max softmax probability of each row of logits (rows, classes), computed stably.
std::vector<float> max_softmax(const float* logits, int rows, int classes);

} // namespace ss
