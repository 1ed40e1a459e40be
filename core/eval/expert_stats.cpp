// expert_stats.cpp
#include "eval/expert_stats.h"

#include <algorithm>
#include <cmath>

namespace ss {

ExpertStatsObserver::ExpertStatsObserver(const Model& model, int classes) : classes_(classes) {
    for (const MoeLayer* moe : model.moe_layers()) {
        const int E = int(moe->experts.size());
        experts_.push_back(E);
        ExpertLayerStats s;
        s.class_expert.assign(size_t(classes) * E, 0);
        s.coactivation.assign(size_t(E) * E, 0);
        layers_.push_back(std::move(s));
    }
}

void ExpertStatsObserver::routing(int moe_index, const int* idx, const float*, int n, int k) {
    ExpertLayerStats& s = layers_[size_t(moe_index)];
    const int E = experts_[size_t(moe_index)];
    for (int r = 0; r < n; ++r) {
        const int* sel = idx + size_t(r) * k;
        if (labels && labels[r] >= 0 && labels[r] < classes_)
            for (int t = 0; t < k; ++t) ++s.class_expert[size_t(labels[r]) * E + sel[t]];
        for (int a = 0; a < k; ++a)
            for (int b = a + 1; b < k; ++b) {
                ++s.coactivation[size_t(sel[a]) * E + sel[b]];
                ++s.coactivation[size_t(sel[b]) * E + sel[a]];
            }
    }
}

std::vector<ExpertLayerStats> ExpertStatsObserver::finish(const std::vector<std::vector<double>>& shares) const {
    std::vector<ExpertLayerStats> out = layers_;
    for (size_t l = 0; l < out.size() && l < shares.size(); ++l) summarize_shares(shares[l], out[l]);
    return out;
}

void summarize_shares(const std::vector<double>& sh, ExpertLayerStats& stats) {
    double h = 0.0, mx = 0.0;
    stats.dead.clear();
    for (size_t e = 0; e < sh.size(); ++e) {
        if (sh[e] > 0) h -= sh[e] * std::log2(sh[e]);
        mx = std::max(mx, sh[e]);
        if (sh[e] < kDeadShare) stats.dead.push_back(int(e));
    }
    stats.entropy_bits = h;
    stats.max_over_mean = sh.empty() ? 0.0 : mx * double(sh.size());
}

} // namespace ss
