// sweep_grid.h - a grid of compression plans: pruning methods x sparsities x quantization schemes
// x top-k, as users type them ("magnitude,wanda", "0,0.5,0.9", "none,int8,int4:g32", "1,2").
#pragma once

#include "compress/compression_plan.h"

#include <string>
#include <vector>

namespace ss {

struct SweepGrid {
    std::vector<std::string> methods;  // magnitude, magnitude-layer, magnitude:block4, wanda, neurons, nm:2:4, none
    std::vector<double> sparsities;    // [0, 1); ignored by methods without one (nm:N:M, none)
    std::vector<std::string> quants;   // quant flag forms
    std::vector<int> top_ks;           // 0 = the model's own
};

// Parses each comma-separated list; throws ss::Error naming the list, the item and the rule.
SweepGrid parse_sweep_grid(const std::string& methods, const std::string& sparsities, const std::string& quants, const std::string& top_ks);

// Every combination, in the order method, sparsity, quant, top-k (last varies fastest); plans that
// come out identical (sparsity 0, or a method without a sparsity) appear once.
std::vector<CompressionPlan> expand_sweep(const SweepGrid& grid);

// What identifies a grid point's result in a session, so that a rerun of the same sweep skips it:
// the plan, the model and dataset fingerprints, and the samples evaluated (0 = all).
std::string sweep_grid_key(const CompressionPlan& plan, const std::string& model_sha256, const std::string& dataset_sha256,
                           int sample_limit);

// "--shard I/N": this machine runs the grid points whose index % N == I (0 <= I < N).
struct SweepShard {
    int index = 0, count = 1;
    bool runs(size_t point) const { return int(point % size_t(count)) == index; }
};
// Parses "I/N"; throws ss::Error naming the rule broken.
SweepShard parse_sweep_shard(const std::string& text);

} // namespace ss
