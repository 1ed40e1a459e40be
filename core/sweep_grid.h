// sweep_grid.h - a grid of compression plans: pruning methods x sparsities x quantization schemes
// x top-k, as users type them ("magnitude,wanda", "0,0.5,0.9", "none,int8,int4:g32", "1,2").
#pragma once

#include "compression_plan.h"

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

} // namespace ss
