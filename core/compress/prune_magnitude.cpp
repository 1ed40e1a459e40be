// prune_magnitude.cpp
#include "compress/prune_magnitude.h"
#include "model/matrices.h"

#include "error.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cmath>
#include <utility>

namespace ss {

namespace {

// The k-th smallest (1-based) of the matrices' magnitudes, found without a copy of them all: the
// order of non-negative floats is the order of their bit patterns, so a histogram of the top 16
// bits picks the bucket that holds it, and only that bucket's values are gathered and selected.
float kth_smallest_magnitude(const std::vector<LinearWeights*>& matrices, int64_t k) {
    auto key = [](float w) { return std::bit_cast<uint32_t>(std::fabs(w)) >> 16; };
    std::vector<int64_t> hist(size_t(1) << 16, 0);
    for (const LinearWeights* l : matrices) {
        for (float w : std::as_const(l->weight)) ++hist[key(w)];
        l->weight.release_file_pages(); // read once here: not kept resident (or converted) for it
    }
    uint32_t bucket = 0;
    int64_t before = 0;
    while (before + hist[bucket] < k) before += hist[bucket++];
    std::vector<float> in_bucket;
    in_bucket.reserve(size_t(hist[bucket]));
    for (const LinearWeights* l : matrices) {
        for (float w : std::as_const(l->weight))
            if (key(w) == bucket) in_bucket.push_back(std::fabs(w));
        l->weight.release_file_pages();
    }
    const size_t at = size_t(k - before - 1);
    std::nth_element(in_bucket.begin(), in_bucket.begin() + std::ptrdiff_t(at), in_bucket.end());
    return in_bucket[at];
}

} // namespace

int64_t prune_magnitude(const std::vector<LinearWeights*>& matrices, double sparsity, const PrunedFn& pruned) {
    if (!(sparsity >= 0.0 && sparsity <= 1.0))
        throw Error("prune magnitude: sparsity " + std::to_string(sparsity) + " must be in [0, 1]");
    int64_t total = 0;
    for (const LinearWeights* l : matrices) total += int64_t(l->weight.size());
    const int64_t k = std::llround(sparsity * double(total));
    if (k <= 0) return 0;
    auto done = [&](LinearWeights& l) {
        if (pruned) pruned(l);
    };
    if (k >= total) {
        for (LinearWeights* l : matrices) {
            std::fill(l->weight.begin(), l->weight.end(), 0.0f);
            done(*l);
        }
        return total;
    }
    // The k-th smallest magnitude is the threshold: everything below it goes, and just enough of
    // the weights equal to it go to make the count exactly k.
    const float threshold = kth_smallest_magnitude(matrices, k);
    int64_t below = 0;
    for (const LinearWeights* l : matrices) {
        for (float w : std::as_const(l->weight)) below += std::fabs(w) < threshold;
        l->weight.release_file_pages();
    }
    int64_t ties_to_prune = k - below;
    for (LinearWeights* l : matrices) {
        for (float& w : l->weight) {
            const float m = std::fabs(w);
            if (m < threshold) {
                w = 0.0f;
            } else if (m == threshold && ties_to_prune > 0) {
                w = 0.0f;
                --ties_to_prune;
            }
        }
        done(*l);
    }
    return k;
}

int64_t prune_magnitude_blocks(const std::vector<LinearWeights*>& matrices, double sparsity, const PrunedFn& pruned) {
    if (!(sparsity >= 0.0 && sparsity <= 1.0))
        throw Error("prune magnitude blocks: sparsity " + std::to_string(sparsity) + " must be in [0, 1]");
    constexpr int kRows = 4;
    struct Block {
        float score;
        uint32_t matrix;
        uint32_t q, j; // row block, column
    };
    std::vector<Block> blocks;
    for (size_t m = 0; m < matrices.size(); ++m) {
        const LinearWeights& l = *matrices[m];
        const float* w = std::as_const(l.weight).data();
        for (int q = 0; q * kRows < l.out; ++q) {
            const int rows = std::min(kRows, l.out - q * kRows);
            for (int j = 0; j < l.in; ++j) {
                float sum = 0.0f;
                for (int i = 0; i < rows; ++i) sum += std::fabs(w[size_t(q * kRows + i) * l.in + j]);
                blocks.push_back({sum / float(rows), uint32_t(m), uint32_t(q), uint32_t(j)});
            }
        }
    }
    const int64_t k = std::llround(sparsity * double(blocks.size()));
    if (k <= 0) return 0;
    // Smallest scores first; equal scores in matrix order (the order blocks were listed in).
    std::stable_sort(blocks.begin(), blocks.end(), [](const Block& a, const Block& b) { return a.score < b.score; });
    int64_t zeroed = 0;
    for (int64_t b = 0; b < k; ++b) {
        LinearWeights& l = *matrices[blocks[size_t(b)].matrix];
        float* w = l.weight.data();
        const int q = int(blocks[size_t(b)].q), j = int(blocks[size_t(b)].j);
        for (int i = 0; i < kRows && q * kRows + i < l.out; ++i, ++zeroed) w[size_t(q * kRows + i) * l.in + j] = 0.0f;
    }
    if (pruned)
        for (LinearWeights* l : matrices) pruned(*l);
    return zeroed;
}

int64_t prune_magnitude_global(Model& model, double sparsity) {
    std::vector<LinearWeights*> all;
    for_each_matrix(model, [&](LinearWeights& l) { all.push_back(&l); });
    return prune_magnitude(all, sparsity);
}

} // namespace ss
