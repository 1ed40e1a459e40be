// drift.cpp - PSI, two-sample KS and prediction shift (drift.h).
#include "eval/drift.h"

#include "error.h"
#include "eval/confidence_calibration.h"
#include "kernels/thread_pool.h"
#include "model/forward.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ss {

namespace {

constexpr double kShareFloor = 1e-4;

// Max softmax and predicted class of every sample.
void predict_all(const Model& m, const Dataset& d, std::vector<double>* confidence, std::vector<int>* predicted) {
    const int features = m.input_features(), classes = m.num_classes(), batch = 256;
    ForwardWorkspace ws;
    std::vector<float> x(size_t(batch) * size_t(features)), logits(size_t(batch) * size_t(classes));
    for (int start = 0; start < d.count; start += batch) {
        const int k = std::min(batch, d.count - start);
        preprocess_input(m.input, d.sample(start), size_t(k) * size_t(features), x.data());
        forward(m, x.data(), k, logits.data(), {}, ws, nullptr);
        const std::vector<float> p = max_softmax(logits.data(), k, classes);
        for (int r = 0; r < k; ++r) {
            const float* row = logits.data() + size_t(r) * size_t(classes);
            predicted->push_back(int(std::max_element(row, row + classes) - row));
            confidence->push_back(double(p[size_t(r)]));
        }
    }
}

PredictionShift shift(const std::vector<int>& ref_pred, const std::vector<double>& ref_conf, const Dataset& reference,
                      const std::vector<int>& new_pred, const std::vector<double>& new_conf, const Dataset& batch, int classes) {
    PredictionShift s;
    s.reference_share.assign(size_t(classes), 0.0);
    s.new_share.assign(size_t(classes), 0.0);
    // Counted, then divided: shares and accuracies come out exact (1.0, not 0.99999...).
    auto tally = [&](const std::vector<int>& pred, const Dataset& d, std::vector<double>* share, double* accuracy) {
        std::vector<int64_t> count(size_t(classes), 0);
        int64_t right = 0;
        for (size_t i = 0; i < pred.size(); ++i) {
            ++count[size_t(pred[i])];
            right += pred[i] == d.labels[i] ? 1 : 0;
        }
        for (int c = 0; c < classes; ++c) (*share)[size_t(c)] = double(count[size_t(c)]) / double(std::max<size_t>(1, pred.size()));
        *accuracy = double(right) / double(std::max<size_t>(1, pred.size()));
    };
    tally(ref_pred, reference, &s.reference_share, &s.reference_accuracy);
    tally(new_pred, batch, &s.new_share, &s.new_accuracy);
    s.psi = population_stability_index(s.reference_share, s.new_share);
    s.reference_confidence = std::accumulate(ref_conf.begin(), ref_conf.end(), 0.0) / double(std::max<size_t>(1, ref_conf.size()));
    s.new_confidence = std::accumulate(new_conf.begin(), new_conf.end(), 0.0) / double(std::max<size_t>(1, new_conf.size()));
    s.confidence_ks = ks_two_sample(ref_conf, new_conf);
    return s;
}

} // namespace

double population_stability_index(const std::vector<double>& expected, const std::vector<double>& actual) {
    if (expected.size() != actual.size()) throw Error("population_stability_index: " + std::to_string(expected.size()) + " expected bins, " +
                                                      std::to_string(actual.size()) + " actual bins");
    double psi = 0.0;
    for (size_t i = 0; i < expected.size(); ++i) {
        const double e = std::max(expected[i], kShareFloor), a = std::max(actual[i], kShareFloor);
        psi += (a - e) * std::log(a / e);
    }
    return psi;
}

double feature_psi(std::vector<float> reference, const std::vector<float>& actual, int bins) {
    if (reference.empty() || actual.empty()) return 0.0;
    std::sort(reference.begin(), reference.end());
    // Edges at the reference's quantiles; a value v falls in the first bin whose upper edge is >= v.
    std::vector<float> upper;
    for (int b = 1; b < bins; ++b) {
        const float q = reference[std::min(reference.size() - 1, size_t(double(b) * double(reference.size()) / bins))];
        if (upper.empty() || q > upper.back()) upper.push_back(q);
    }
    if (upper.empty() || reference.back() > upper.back()) upper.push_back(reference.back());
    const size_t n = upper.size() + 1; // the last bin: above the reference's maximum
    std::vector<double> e(n, 0.0), a(n, 0.0);
    auto bin_of = [&](float v) { return size_t(std::lower_bound(upper.begin(), upper.end(), v) - upper.begin()); };
    for (float v : reference) e[bin_of(v)] += 1.0 / double(reference.size());
    for (float v : actual) a[bin_of(v)] += 1.0 / double(actual.size());
    return population_stability_index(e, a);
}

KsResult ks_two_sample(std::vector<double> a, std::vector<double> b) {
    KsResult r;
    if (a.empty() || b.empty()) return r;
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    size_t i = 0, j = 0;
    const double na = double(a.size()), nb = double(b.size());
    while (i < a.size() && j < b.size()) {
        const double v = std::min(a[i], b[j]);
        while (i < a.size() && a[i] <= v) ++i;
        while (j < b.size() && b[j] <= v) ++j;
        r.d = std::max(r.d, std::fabs(double(i) / na - double(j) / nb));
    }
    // Q_KS(lambda) = 2 sum_k (-1)^(k-1) exp(-2 k^2 lambda^2), lambda = (sqrt(n) + 0.12 + 0.11 / sqrt(n)) D
    // with n = na nb / (na + nb) (Numerical Recipes' probks, after Stephens 1970).
    const double ne = std::sqrt(na * nb / (na + nb));
    const double lambda = (ne + 0.12 + 0.11 / ne) * r.d;
    if (lambda < 1e-3) return r; // p = 1 to double precision
    double sum = 0.0, sign = 1.0, previous = 0.0;
    for (int k = 1; k <= 100; ++k) {
        const double term = sign * 2.0 * std::exp(-2.0 * k * k * lambda * lambda);
        sum += term;
        if (std::fabs(term) <= 1e-3 * std::fabs(previous) || std::fabs(term) <= 1e-8 * sum) {
            r.p_value = std::clamp(sum, 0.0, 1.0);
            return r;
        }
        sign = -sign;
        previous = term;
    }
    r.p_value = 1.0; // the series did not settle: lambda is so small that p is 1
    return r;
}

DriftReport input_drift(const Dataset& reference, const Dataset& batch) {
    if (reference.features != batch.features)
        throw Error(batch.source_path + ": samples of " + std::to_string(batch.features) + " values; the reference " + reference.source_path + " has " +
                    std::to_string(reference.features) + " (drift compares samples of the same size)");
    if (reference.count < 1 || batch.count < 1) throw Error((reference.count < 1 ? reference.source_path : batch.source_path) + ": no samples");
    DriftReport r;
    r.reference_path = reference.source_path;
    r.new_path = batch.source_path;
    r.reference_count = reference.count;
    r.new_count = batch.count;
    r.features = reference.features;
    r.feature_psi.resize(size_t(r.features));
    std::vector<float> ref_col(size_t(reference.count)), new_col(size_t(batch.count));
    for (int f = 0; f < r.features; ++f) {
        for (int i = 0; i < reference.count; ++i) ref_col[size_t(i)] = reference.sample(i)[f];
        for (int i = 0; i < batch.count; ++i) new_col[size_t(i)] = batch.sample(i)[f];
        const double psi = feature_psi(ref_col, new_col);
        r.feature_psi[size_t(f)] = psi;
        r.psi_mean += psi / r.features;
        if (psi > r.psi_max) {
            r.psi_max = psi;
            r.psi_max_feature = f;
        }
        r.features_major += psi >= 0.25 ? 1 : 0;
        r.features_moderate += psi >= 0.1 && psi < 0.25 ? 1 : 0;
    }
    auto sample_means = [](const Dataset& d, double* overall) {
        std::vector<double> m(size_t(d.count));
        for (int i = 0; i < d.count; ++i) {
            const float* s = d.sample(i);
            m[size_t(i)] = std::accumulate(s, s + d.features, 0.0) / std::max(1, d.features);
        }
        *overall = std::accumulate(m.begin(), m.end(), 0.0) / double(m.size());
        return m;
    };
    const std::vector<double> ref_means = sample_means(reference, &r.reference_mean_value), new_means = sample_means(batch, &r.new_mean_value);
    r.mean_value_ks = ks_two_sample(ref_means, new_means);
    return r;
}

DriftReport drift_report(const Dataset& reference, const Dataset& batch, const Model& compressed, const Model* dense, int threads) {
    DriftReport r = input_drift(reference, batch);
    check_dataset_matches(reference, compressed.input_features(), compressed.num_classes(), compressed.name);
    check_dataset_matches(batch, compressed.input_features(), compressed.num_classes(), compressed.name);
    set_compute_threads(std::max(1, threads));
    const int classes = compressed.num_classes();
    std::vector<double> rc, nc, drc, dnc;
    std::vector<int> rp, np, drp, dnp;
    predict_all(compressed, reference, &rc, &rp);
    predict_all(compressed, batch, &nc, &np);
    r.has_models = true;
    r.compressed = shift(rp, rc, reference, np, nc, batch, classes);
    if (dense) {
        predict_all(*dense, reference, &drc, &drp);
        predict_all(*dense, batch, &dnc, &dnp);
        r.has_dense = true;
        r.dense = shift(drp, drc, reference, dnp, dnc, batch, classes);
        auto agreement = [](const std::vector<int>& a, const std::vector<int>& b) {
            int64_t same = 0;
            for (size_t i = 0; i < a.size(); ++i) same += a[i] == b[i] ? 1 : 0;
            return double(same) / double(std::max<size_t>(1, a.size()));
        };
        r.reference_agreement = agreement(rp, drp);
        r.new_agreement = agreement(np, dnp);
    }
    return r;
}

} // namespace ss
