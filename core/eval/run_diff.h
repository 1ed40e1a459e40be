// run_diff.h - two runs field by field: setup, compression plan, kernel plan, per-layer sparsity
// and precision, every metric with its delta, per-class accuracy; and warnings when the two are
// not like for like (different dataset, model files or machine).
#pragma once

#include "eval/run_record.h"

#include <string>
#include <vector>

namespace ss {

struct DiffRow {
    std::string section; // "setup", "plan", "kernels", "layers", "metrics", "classes"
    std::string field;   // e.g. "quant", "layers.moe.experts.1.quant", "fc1 sparsity", "accuracy"
    std::string a, b;    // values as text ("" when the run lacks it)
    std::string delta;   // b - a for numbers ("+1.25 points", "x0.80"); "" otherwise
    bool differs = false;
};

struct RunDiff {
    std::vector<std::string> warnings; // what makes the comparison unfair, in words
    std::vector<DiffRow> rows;
    int differing() const;
};

RunDiff diff_runs(const RunRecord& a, const RunRecord& b);

// Only the warnings (for comparisons of several runs): each pair that differs in dataset, model
// files or machine, named once.
std::vector<std::string> comparison_warnings(const std::vector<const RunRecord*>& runs);

} // namespace ss
