// ood_scores.cpp - AUROC, AUPR and FPR at 95 % TPR from two score lists (ood_scores.h).
#include "eval/ood_scores.h"

#include "error.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace ss {

namespace {
// Average precision of `pos` against `neg` (higher score = predicted positive), ties broken as a
// threshold sweep does: all samples of one score enter together.
double average_precision(std::vector<float> pos, std::vector<float> neg) {
    std::vector<std::pair<float, bool>> all;
    all.reserve(pos.size() + neg.size());
    for (float s : pos) all.push_back({s, true});
    for (float s : neg) all.push_back({s, false});
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    double ap = 0.0, tp = 0.0, fp = 0.0;
    const double P = double(pos.size());
    for (size_t i = 0; i < all.size();) {
        size_t j = i;
        double tp_here = 0.0, fp_here = 0.0;
        while (j < all.size() && all[j].first == all[i].first) (all[j].second ? tp_here : fp_here) += 1.0, ++j;
        tp += tp_here;
        fp += fp_here;
        if (tp_here > 0) ap += (tp_here / P) * (tp / (tp + fp)); // recall step x precision at this threshold
        i = j;
    }
    return ap;
}
} // namespace

OodResult ood_separation(const std::vector<float>& in_scores, const std::vector<float>& out_scores) {
    if (in_scores.empty() || out_scores.empty())
        throw Error("OOD separation needs in-distribution and out-of-distribution samples (got " + std::to_string(in_scores.size()) + " and " +
                    std::to_string(out_scores.size()) + ")");
    for (const auto* v : {&in_scores, &out_scores})
        for (float s : *v)
            if (std::isnan(s)) throw Error("OOD separation: a score is NaN");
    OodResult r;
    r.in_count = int(in_scores.size());
    r.out_count = int(out_scores.size());
    // AUROC by the Mann-Whitney U: ranks over both sets, ties sharing their mean rank.
    std::vector<std::pair<float, bool>> all;
    for (float s : in_scores) all.push_back({s, true});
    for (float s : out_scores) all.push_back({s, false});
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    double rank_sum_in = 0.0;
    for (size_t i = 0; i < all.size();) {
        size_t j = i;
        while (j < all.size() && all[j].first == all[i].first) ++j;
        const double mean_rank = (double(i + 1) + double(j)) / 2.0;
        for (size_t k = i; k < j; ++k)
            if (all[k].second) rank_sum_in += mean_rank;
        i = j;
    }
    const double n_in = double(in_scores.size()), n_out = double(out_scores.size());
    r.auroc = (rank_sum_in - n_in * (n_in + 1.0) / 2.0) / (n_in * n_out);
    r.aupr_in = average_precision(in_scores, out_scores);
    std::vector<float> neg_in(in_scores), neg_out(out_scores);
    for (float& s : neg_in) s = -s;
    for (float& s : neg_out) s = -s;
    r.aupr_out = average_precision(neg_out, neg_in);
    // The threshold: the highest score t with at least 95 % of in-samples >= t.
    std::vector<float> sorted_in(in_scores);
    std::sort(sorted_in.begin(), sorted_in.end(), std::greater<>());
    const size_t keep = size_t(std::ceil(0.95 * n_in)); // in-samples that must pass
    const float t = sorted_in[std::max<size_t>(keep, 1) - 1];
    r.fpr95 = double(std::count_if(out_scores.begin(), out_scores.end(), [t](float s) { return s >= t; })) / n_out;

    // ROC: walking `all` from the highest score down, one point per distinct score, thinned to
    // kOodRocPoints (the first and last kept).
    std::vector<float> fpr{0.0f}, tpr{0.0f};
    double tp = 0.0, fp = 0.0;
    for (size_t i = all.size(); i > 0;) {
        const float v = all[i - 1].first;
        while (i > 0 && all[i - 1].first == v) {
            (all[i - 1].second ? tp : fp) += 1.0;
            --i;
        }
        fpr.push_back(float(fp / n_out));
        tpr.push_back(float(tp / n_in));
    }
    const size_t points = fpr.size(), keep_points = std::min<size_t>(points, kOodRocPoints);
    for (size_t k = 0; k < keep_points; ++k) {
        const size_t i = keep_points == 1 ? 0 : k * (points - 1) / (keep_points - 1);
        r.roc_fpr.push_back(fpr[i]);
        r.roc_tpr.push_back(tpr[i]);
    }
    r.hist_lo = all.front().first;
    r.hist_hi = all.back().first;
    r.in_hist.assign(kOodHistogramBins, 0);
    r.out_hist.assign(kOodHistogramBins, 0);
    const double width = (r.hist_hi - r.hist_lo) / kOodHistogramBins;
    for (const auto& [score, in] : all) {
        const int b = width > 0 ? std::clamp(int((double(score) - r.hist_lo) / width), 0, kOodHistogramBins - 1) : 0;
        ++(in ? r.in_hist : r.out_hist)[size_t(b)];
    }
    return r;
}

std::vector<float> negative_energy(const float* logits, int rows, int classes) {
    std::vector<float> out(size_t(std::max(0, rows)));
    for (int i = 0; i < rows; ++i) {
        const float* z = logits + size_t(i) * size_t(classes);
        const float mx = *std::max_element(z, z + classes);
        double sum = 0.0;
        for (int k = 0; k < classes; ++k) sum += std::exp(double(z[k]) - mx);
        out[size_t(i)] = float(mx + std::log(sum));
    }
    return out;
}

} // namespace ss
