// baseline_comparison.cpp
#include "eval/baseline_comparison.h"
#include "eval/machine_load.h"
#include "eval/mcnemar.h"

#include "model/forward.h"
#include "kernels/thread_pool.h"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

namespace ss {

namespace {
void log_softmax(const float* z, int c, float* out) {
    const float mx = *std::max_element(z, z + c);
    double sum = 0.0;
    for (int k = 0; k < c; ++k) sum += std::exp(double(z[k] - mx));
    const double lse = double(mx) + std::log(sum);
    for (int k = 0; k < c; ++k) out[k] = float(double(z[k]) - lse);
}

int argmax(const float* v, int n) { return int(std::max_element(v, v + n) - v); }
} // namespace

double median_throughput(std::vector<double> v) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

BaselineOutputs compute_baseline(const Model& model, const Dataset& data, int limit, int threads) {
    check_dataset_matches(data, model.input_features(), model.num_classes(), model.name);
    set_compute_threads(std::max(1, threads));
    BaselineOutputs b;
    b.threads = std::max(1, threads);
    b.samples = limit > 0 ? std::min(limit, data.count) : data.count;
    b.classes = model.num_classes();
    b.argmax.resize(size_t(b.samples));
    b.log_probs.resize(size_t(b.samples) * b.classes);
    b.correct.resize(size_t(b.samples));
    const int f = model.input_features(), batch = 256;
    std::vector<float> x(size_t(batch) * f), logits(size_t(batch) * b.classes);
    ForwardWorkspace ws;
    using Clock = std::chrono::steady_clock;
    // Untimed warm-up: the first touches of memory-mapped weights page them in, which would make
    // the dense model look slower than it is and every compressed run look faster.
    for (int start = 0; start < std::min(b.samples, 2 * batch); start += batch) {
        const int m = std::min(batch, b.samples - start);
        preprocess_input(model.input, data.sample(start), size_t(m) * f, x.data());
        forward(model, x.data(), m, logits.data(), {}, ws, nullptr);
    }
    std::vector<double> batch_sps; // samples per second of each batch
    for (int start = 0; start < b.samples; start += batch) {
        const int m = std::min(batch, b.samples - start);
        const auto t0 = Clock::now();
        preprocess_input(model.input, data.sample(start), size_t(m) * f, x.data());
        forward(model, x.data(), m, logits.data(), {}, ws, nullptr);
        batch_sps.push_back(m / std::max(1e-9, std::chrono::duration<double>(Clock::now() - t0).count()));
        for (int i = 0; i < m; ++i) {
            const float* z = &logits[size_t(i) * b.classes];
            b.argmax[size_t(start + i)] = argmax(z, b.classes);
            b.correct[size_t(start + i)] = b.argmax[size_t(start + i)] == data.labels[size_t(start + i)];
            log_softmax(z, b.classes, &b.log_probs[size_t(start + i) * b.classes]);
        }
    }
    b.throughput_sps = median_throughput(batch_sps);
    // Batch-1 latency the same way evaluate() measures it: warm-up, then the median.
    std::vector<double> ms;
    const int lat = std::min(200, b.samples);
    for (int i = 0; i < lat + 20; ++i) {
        const auto t0 = Clock::now();
        preprocess_input(model.input, data.sample(i % std::max(1, lat)), size_t(f), x.data());
        forward(model, x.data(), 1, logits.data(), {}, ws, nullptr);
        if (i >= 20) ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    b.latency_p50_ms = ms.empty() ? 0.0 : ms[(ms.size() - 1) / 2];
    return b;
}

ComparisonAccumulator::ComparisonAccumulator(const BaselineOutputs& baseline, int classes)
    : base_(baseline), classes_(classes), class_n_(size_t(classes)), class_base_(size_t(classes)), class_comp_(size_t(classes)),
      class_lost_(size_t(classes)), class_gained_(size_t(classes)) {}

void ComparisonAccumulator::add(int start, const float* logits, const int* labels, int n) {
    std::vector<float> lp(static_cast<size_t>(classes_));
    for (int i = 0; i < n; ++i) {
        const int s = start + i;
        if (s >= base_.samples) return;
        const float* z = logits + size_t(i) * classes_;
        const int pred = argmax(z, classes_);
        const bool comp_ok = pred == labels[i], base_ok = base_.correct[size_t(s)] != 0;
        agree_ += pred == base_.argmax[size_t(s)];
        gained_ += !base_ok && comp_ok;
        lost_ += base_ok && !comp_ok;
        base_correct_ += base_ok;
        comp_correct_ += comp_ok;
        ++class_n_[size_t(labels[i])];
        class_base_[size_t(labels[i])] += base_ok;
        class_comp_[size_t(labels[i])] += comp_ok;
        log_softmax(z, classes_, lp.data());
        const float* lb = &base_.log_probs[size_t(s) * classes_];
        const int label = labels[i];
        conf_.push_back(std::exp(lp[size_t(pred)]));
        dense_conf_.push_back(std::exp(lb[base_.argmax[size_t(s)]]));
        comp_ok_.push_back(comp_ok);
        dense_ok_.push_back(base_ok);
        if (comp_ok != base_ok) {
            (base_ok ? class_lost_ : class_gained_)[size_t(label)] += 1;
            flipped_.push_back({s, label, base_.argmax[size_t(s)], pred, std::exp(lb[label]), std::exp(lp[size_t(label)])});
        }
        double kl = 0.0;
        for (int k = 0; k < classes_; ++k) kl += std::exp(double(lb[k])) * (double(lb[k]) - double(lp[size_t(k)]));
        kl_ += std::max(0.0, kl);
        ++n_;
    }
}

Comparison ComparisonAccumulator::finish() const {
    Comparison c;
    if (n_ == 0) return c;
    const double n = n_;
    c.agreement = agree_ / n;
    c.mean_kl = kl_ / n;
    c.baseline_accuracy = base_correct_ / n;
    c.accuracy_delta = (comp_correct_ - base_correct_) / n;
    c.gained = gained_;
    c.lost = lost_;
    // Paired difference of proportions: var = ((b + c) - (b - c)^2 / n) / n^2 (Wald, from the
    // discordant pairs b = gained, c = lost, as in McNemar's test).
    const double b = gained_, l = lost_;
    const double se = std::sqrt(std::max(0.0, (b + l) - (b - l) * (b - l) / n)) / n;
    c.delta_ci_low = c.accuracy_delta - 1.959964 * se;
    c.delta_ci_high = c.accuracy_delta + 1.959964 * se;
    for (int k = 0; k < classes_; ++k)
        c.per_class_delta.push_back(class_n_[size_t(k)] ? double(class_comp_[size_t(k)] - class_base_[size_t(k)]) / class_n_[size_t(k)]
                                                          : std::numeric_limits<double>::quiet_NaN());
    c.class_lost = class_lost_;
    c.class_gained = class_gained_;
    for (int k = 0; k < classes_; ++k)
        c.class_p.push_back(class_lost_[size_t(k)] + class_gained_[size_t(k)] > 0 ? mcnemar_exact_p(class_lost_[size_t(k)], class_gained_[size_t(k)])
                                                                                   : std::numeric_limits<double>::quiet_NaN());
    c.class_p_holm = holm_adjust(c.class_p);
    c.flipped = flipped_;
    std::stable_sort(c.flipped.begin(), c.flipped.end(), [](const FlippedSample& a, const FlippedSample& b) {
        return std::fabs(a.dense_p_true - a.p_true) > std::fabs(b.dense_p_true - b.p_true);
    });
    c.calibration = calibration(conf_, comp_ok_);
    c.dense_calibration = calibration(dense_conf_, dense_ok_);
    return c;
}

namespace {
bool noisy_latency(double p50_ms, double p95_ms) { return p50_ms > 0.0 && p95_ms > kNoisySpread * p50_ms; }
} // namespace

SpeedVerdict speed_verdict(const Comparison& c, double latency_p50_ms, double latency_p95_ms, double others_cpus) {
    if (!(c.throughput_ratio > 0.0)) return SpeedVerdict::Unknown;
    if (!c.faster_than_dense) return SpeedVerdict::NotFaster;
    if (c.throughput_ratio > 1.0 + kSpeedNoise) return SpeedVerdict::Faster;
    if (noisy_latency(latency_p50_ms, latency_p95_ms) || machine_was_busy(others_cpus)) return SpeedVerdict::Inconclusive;
    return SpeedVerdict::Faster;
}

std::string inconclusive_reason(double p50_ms, double p95_ms, double others_cpus) {
    char b[160];
    std::string s;
    if (noisy_latency(p50_ms, p95_ms)) {
        std::snprintf(b, sizeof b, "p95 %.1fx p50", p95_ms / p50_ms);
        s = b;
    }
    if (machine_was_busy(others_cpus)) {
        std::snprintf(b, sizeof b, "%sother processes kept %.1f CPUs busy", s.empty() ? "" : "; ", others_cpus);
        s += b;
    }
    return s;
}

const char* speed_verdict_name(SpeedVerdict v) {
    switch (v) {
    case SpeedVerdict::Faster: return "faster";
    case SpeedVerdict::NotFaster: return "not faster";
    case SpeedVerdict::Inconclusive: return "inconclusive";
    case SpeedVerdict::Unknown: break;
    }
    return "unknown";
}

} // namespace ss
