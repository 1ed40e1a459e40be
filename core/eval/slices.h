// slices.h - user-defined groups of samples treated like classes: the dense-against-compressed
// change of each with the exact McNemar test and Holm's correction over the slices (mcnemar.h).
// A slice is a value of a column in a CSV file with one row per sample (the file's row i is the
// data's sample i: e.g. the camera, the site or the skin tone of each image), or a set of labels
// ("footwear=Sandal,Sneaker,Ankle boot").
#pragma once

#include "data/dataset.h"
#include "eval/baseline_comparison.h"

#include <string>
#include <vector>

namespace ss {

struct Slice {
    std::string name;
    std::vector<int> samples; // indices into the evaluated data, ascending
};

struct SliceResult {
    std::string name;
    int count = 0;            // samples of the slice that were evaluated
    int lost = 0, gained = 0; // right under dense and wrong compressed; the reverse
    double delta_points = 0.0; // 100 x (gained - lost) / count
    double p = 1.0, p_holm = 1.0; // NaN when no sample of the slice changed
    bool regression() const { return p_holm < 0.05 && lost > gained; }
};

inline constexpr int kMaxSliceGroups = 1000;

// The groups of column `column` (a name from the header row) of the CSV file `path`: one slice per
// distinct value, in order of first appearance. The file needs a header and at least `samples`
// data rows (extra rows are ignored); values at most 256 bytes; at most kMaxSliceGroups distinct
// values; the file at most 256 MB. Throws ss::Error naming the file, the line and the rule.
std::vector<Slice> slices_from_csv(const std::string& path, const std::string& column, int samples);

// "NAME=L1,L2,..." or "L1,L2,...": labels by number or by class name (`class_names`); the samples of
// `labels` (the first `samples`) whose label is among them. Throws ss::Error for an unknown label.
Slice slice_from_labels(const std::string& spec, const std::vector<int>& labels, const std::vector<std::string>& class_names, int samples);

// Each slice's change from the run's flipped samples (Comparison::flipped, every one of them).
std::vector<SliceResult> slice_regressions(const std::vector<FlippedSample>& flipped, const std::vector<Slice>& slices);

} // namespace ss
