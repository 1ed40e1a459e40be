// baseline_comparison.h - the uncompressed model's outputs, and how a compressed model differs.
#pragma once

#include "data/dataset.h"
#include "eval/confidence_calibration.h"
#include "model/model.h"

#include <limits>
#include <string>
#include <vector>

namespace ss {

// The dense model's predictions on the first `samples` samples, kept to compare every run with.
struct BaselineOutputs {
    int samples = 0, classes = 0;
    std::vector<int> argmax;        // (samples)
    std::vector<float> log_probs;   // (samples, classes) log softmax of the logits
    std::vector<uint8_t> correct;   // (samples) 1 where argmax == label
    double throughput_sps = 0.0;    // the dense model's, batches of 256, measured while computing these
    double latency_p50_ms = 0.0;    // the dense model's batch-1 median over up to 200 samples
    int threads = 1;                // OpenBLAS threads these were measured with
};

// Runs with `threads` OpenBLAS threads: speed ratios are only fair at the same thread count.
// Throughput from per-batch rates: their median, robust to the bursts of a shared machine.
double median_throughput(std::vector<double> batch_samples_per_second);

BaselineOutputs compute_baseline(const Model& model, const Dataset& data, int limit, int threads = 1);

// A sample whose top-1 correctness changed under compression ("lost": right under dense, wrong
// compressed; else "gained"), with how sure each model was of the true class.
struct FlippedSample {
    int sample = 0;          // index in the evaluated set
    int label = 0;
    int dense_pred = 0, pred = 0;
    float dense_p_true = 0.0f, p_true = 0.0f; // softmax probability of the true class
    bool lost() const { return dense_pred == label; }
};

struct Comparison {
    double agreement = 0.0;      // share of samples where compressed and dense top-1 agree
    double mean_kl = 0.0;        // mean over samples of KL(dense || compressed), nats
    double baseline_accuracy = 0.0;
    double accuracy_delta = 0.0; // compressed - dense
    double delta_ci_low = 0.0;   // 95 % interval for the paired difference (Wald, McNemar counts)
    double delta_ci_high = 0.0;
    int gained = 0;              // dense wrong, compressed right
    int lost = 0;                // dense right, compressed wrong
    std::vector<double> per_class_delta; // (classes) compressed - dense accuracy; NaN for empty classes
    // Silent regressions: per class the discordant samples, the exact McNemar p-value of the change
    // and that p Holm-adjusted over the classes (mcnemar.h); NaN where no sample changed.
    std::vector<int> class_lost, class_gained;
    std::vector<double> class_p, class_p_holm;
    std::vector<FlippedSample> flipped; // every flipped sample, the largest change in p(true class) first
    // Calibration of both models on these samples (confidence_calibration.h: 15 bins of max softmax).
    CalibrationResult calibration, dense_calibration;
    // Speed against the dense model on this machine (ratios > 1: compressed is faster).
    double throughput_ratio = 0.0; // compressed / dense samples per second
    double latency_ratio = 0.0;    // dense / compressed batch-1 p50
    bool faster_than_dense = false; // either ratio beats 1 by more than kSpeedNoise
};

// Run-to-run noise on this shared machine (identity plans measured up to x1.10): a ratio within
// 1 +- kSpeedNoise is "not faster".
inline constexpr double kSpeedNoise = 0.15;
// Whether either ratio (compressed / dense throughput, dense / compressed latency) beats 1 by more
// than the noise margin.
inline bool beats_dense(double throughput_ratio, double latency_ratio) {
    return throughput_ratio > 1.0 + kSpeedNoise || latency_ratio > 1.0 + kSpeedNoise;
}

// What a run may claim about speed. A "faster" that rests on batch-1 latency alone (throughput,
// a median over batches, did not beat dense) is withheld when that latency was noisy: its p95 more
// than kNoisySpread times its p50, or other processes kept kBusyOthersCpus or more CPUs busy
// during the run (machine_load.h; NaN: not measured).
enum class SpeedVerdict { Unknown, Faster, NotFaster, Inconclusive };
inline constexpr double kNoisySpread = 3.0;
SpeedVerdict speed_verdict(const Comparison& c, double latency_p50_ms, double latency_p95_ms,
                           double others_cpus = std::numeric_limits<double>::quiet_NaN());
// Why a verdict was withheld, in words: "p95 4.2x p50", "other processes kept 1.1 CPUs busy", or both.
std::string inconclusive_reason(double latency_p50_ms, double latency_p95_ms, double others_cpus);
const char* speed_verdict_name(SpeedVerdict v); // "faster", "not faster", "inconclusive", "unknown"

// Accumulates a comparison batch by batch (the evaluation never keeps all logits).
class ComparisonAccumulator {
public:
    ComparisonAccumulator(const BaselineOutputs& baseline, int classes);
    // logits (n, classes) of samples start .. start + n - 1, with their labels.
    void add(int start, const float* logits, const int* labels, int n);
    Comparison finish() const;

private:
    const BaselineOutputs& base_;
    int classes_;
    int n_ = 0, agree_ = 0, gained_ = 0, lost_ = 0, base_correct_ = 0, comp_correct_ = 0;
    double kl_ = 0.0;
    std::vector<int> class_n_, class_base_, class_comp_, class_lost_, class_gained_;
    std::vector<float> conf_, dense_conf_;                 // (samples) max softmax
    std::vector<unsigned char> comp_ok_, dense_ok_;        // (samples)
    std::vector<FlippedSample> flipped_;
};

} // namespace ss
