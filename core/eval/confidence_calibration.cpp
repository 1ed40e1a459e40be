// confidence_calibration.cpp - ECE and reliability bins (confidence_calibration.h).
#include "eval/confidence_calibration.h"

#include "error.h"

#include <algorithm>
#include <cmath>

namespace ss {

CalibrationResult calibration(const std::vector<float>& confidence, const std::vector<unsigned char>& correct, int bins) {
    if (confidence.size() != correct.size()) throw Error("calibration: " + std::to_string(confidence.size()) + " confidences but " +
                                                         std::to_string(correct.size()) + " outcomes");
    if (bins < 1) throw Error("calibration: at least one bin");
    CalibrationResult r;
    r.bins.resize(size_t(bins));
    for (int b = 0; b < bins; ++b) {
        r.bins[size_t(b)].lower = double(b) / bins;
        r.bins[size_t(b)].upper = double(b + 1) / bins;
    }
    const size_t n = confidence.size();
    if (n == 0) return r;
    std::vector<double> conf_sum(size_t(bins), 0.0);
    std::vector<int> right(size_t(bins), 0);
    double all_conf = 0.0;
    int all_right = 0;
    for (size_t i = 0; i < n; ++i) {
        const double c = confidence[i];
        all_conf += c;
        all_right += correct[i] ? 1 : 0;
        if (!(c > 0.0)) continue; // (lower, upper]: 0 is in no bin
        // The bin whose (lower, upper] holds c, decided with the same edges the bins report.
        int b = std::min(bins - 1, int(std::ceil(c * bins)) - 1);
        while (b > 0 && !(c > r.bins[size_t(b)].lower)) --b;
        while (b < bins - 1 && c > r.bins[size_t(b)].upper) ++b;
        ++r.bins[size_t(b)].count;
        conf_sum[size_t(b)] += c;
        right[size_t(b)] += correct[i] ? 1 : 0;
    }
    for (int b = 0; b < bins; ++b) {
        ReliabilityBin& bin = r.bins[size_t(b)];
        if (bin.count == 0) continue;
        bin.mean_confidence = conf_sum[size_t(b)] / bin.count;
        bin.accuracy = double(right[size_t(b)]) / bin.count;
        const double gap = std::fabs(bin.accuracy - bin.mean_confidence);
        r.ece += gap * double(bin.count) / double(n);
        r.mce = std::max(r.mce, gap);
    }
    r.mean_confidence = all_conf / double(n);
    r.accuracy = double(all_right) / double(n);
    return r;
}

// Summed in double and divided, not exp(max - logsumexp): a float logsumexp of logits near 1000
// keeps only about 1e-4 of precision (tested).
std::vector<float> max_softmax(const float* logits, int rows, int classes) {
    std::vector<float> out(size_t(std::max(0, rows)));
    for (int i = 0; i < rows; ++i) {
        const float* z = logits + size_t(i) * size_t(classes);
        const float mx = *std::max_element(z, z + classes);
        double sum = 0.0;
        for (int k = 0; k < classes; ++k) sum += std::exp(double(z[k]) - mx);
        out[size_t(i)] = float(1.0 / sum); // exp(max - max) / sum
    }
    return out;
}

} // namespace ss
