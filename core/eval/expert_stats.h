// expert_stats.h - how an MoE layer routes: per class, together, and how evenly.
#pragma once

#include "model/forward.h"

#include <cstdint>
#include <vector>

namespace ss {

struct ExpertLayerStats {
    std::vector<int64_t> class_expert; // (classes, experts): routed (row, slot) pairs by true class
    std::vector<int64_t> coactivation; // (experts, experts): rows that chose both (top-k >= 2), symmetric
    double entropy_bits = 0.0;         // of the share distribution; log2(E) when perfectly even
    double max_over_mean = 0.0;        // largest share / mean share (1 = balanced)
    std::vector<int> dead;             // experts with share below kDeadShare
};

inline constexpr double kDeadShare = 0.01; // an expert getting under 1 % of routed slots is "dead"

// entropy_bits, max_over_mean and dead of one layer from its expert shares (summing to 1).
void summarize_shares(const std::vector<double>& shares, ExpertLayerStats& stats);

// A ForwardObserver collecting per-class routing and co-activation; set `labels` to the labels of
// the rows of each forward call before making it.
class ExpertStatsObserver final : public ForwardObserver {
public:
    ExpertStatsObserver(const Model& model, int classes);
    const int* labels = nullptr;
    void routing(int moe_index, const int* idx, const float* w, int n, int k) override;
    // Summaries from the counts and the shares (per MoE layer, per expert).
    std::vector<ExpertLayerStats> finish(const std::vector<std::vector<double>>& shares) const;

private:
    int classes_;
    std::vector<int> experts_;
    std::vector<ExpertLayerStats> layers_;
};

} // namespace ss
