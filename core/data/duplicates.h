// duplicates.h - the same sample twice: within one split, or in the test split and the train split
// (leakage: a test sample the model has already seen inflates its accuracy). Exact duplicates are
// samples with identical values (a 64-bit hash of the values, confirmed by comparing them). For
// image datasets, near duplicates are pairs whose difference hashes (difference_hash.h) differ in at
// most `max_hamming` bits and whose pixels then agree within `max_rms` - the hash finds candidates
// cheaply, the pixels confirm them.
#pragma once

#include "data/dataset.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ss {

struct DuplicateOptions {
    int max_hamming = 4;        // dHash bits that may differ for a near-duplicate candidate
    double max_rms = 0.04;      // confirmation: root-mean-square pixel difference <= max_rms x the value range (0..255 -> 10.2)
    int max_pairs = 2000;       // pairs kept for viewing (the counts are always complete)
    int threads = 1;
};

struct DuplicatePair {
    int a = 0, b = 0;           // sample indices: within one split a < b; across splits a in the first, b in the second
    bool exact = false;
    int hamming = 0;            // dHash bits that differ (0 for exact)
    double rms = 0.0;           // root-mean-square value difference
    bool same_label = true;
};

struct DuplicateReport {
    std::string first, second;  // what was compared ("test", "train"); second empty: within `first`
    int first_count = 0, second_count = 0;
    bool images = false;        // near duplicates searched (square images); else exact only
    int image_side = 0;
    double rms_limit = 0.0;     // max_rms x value range, in stored units
    int64_t exact_pairs = 0;
    int64_t near_candidates = 0; // dHash within max_hamming, not exact
    int64_t near_pairs = 0;      // candidates the pixels confirmed
    int64_t label_conflicts = 0; // exact or near pairs whose labels differ
    int first_affected = 0;      // samples of `first` in at least one exact or near pair
    std::vector<DuplicatePair> pairs; // exact first, then near by rms; at most max_pairs
};

// Pairs within one split.
DuplicateReport find_duplicates(const Dataset& d, const DuplicateOptions& options = {}, const std::string& name = "split");

// Samples of `test` that also occur in `train`. Throws ss::Error when their sample sizes differ.
DuplicateReport find_leakage(const Dataset& test, const Dataset& train, const DuplicateOptions& options = {},
                             const std::string& test_name = "test", const std::string& train_name = "train");

// Side of the square grayscale images a dataset holds (features a perfect square, >= 8x8), else 0.
int square_image_side(const Dataset& d);

} // namespace ss
