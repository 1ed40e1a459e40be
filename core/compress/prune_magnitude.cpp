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

// The k-th smallest (1-based) of the non-negative values `each` visits, found without a copy of
// them all: the order of non-negative floats is the order of their bit patterns, so a histogram
// of the top 16 bits picks the bucket that holds it, and only that bucket's values are gathered
// and selected. each(f) calls f(float) once per value, in any order; it runs twice.
template <class ForEach>
float kth_smallest(const ForEach& each, int64_t k) {
    auto key = [](float v) { return std::bit_cast<uint32_t>(v) >> 16; };
    std::vector<int64_t> hist(size_t(1) << 16, 0);
    each([&](float v) { ++hist[key(v)]; });
    uint32_t bucket = 0;
    int64_t before = 0;
    while (before + hist[bucket] < k) before += hist[bucket++];
    std::vector<float> in_bucket;
    in_bucket.reserve(size_t(hist[bucket]));
    each([&](float v) {
        if (key(v) == bucket) in_bucket.push_back(v);
    });
    const size_t at = size_t(k - before - 1);
    std::nth_element(in_bucket.begin(), in_bucket.begin() + std::ptrdiff_t(at), in_bucket.end());
    return in_bucket[at];
}

float kth_smallest_magnitude(const std::vector<LinearWeights*>& matrices, int64_t k) {
    return kth_smallest(
        [&](const auto& f) {
            for (const LinearWeights* l : matrices) {
                for (float w : std::as_const(l->weight)) f(std::fabs(w));
                l->weight.release_file_pages(); // read once here: not kept resident (or converted) for it
            }
        },
        k);
}

constexpr int kBlockRows = 4;

// Calls f(score, q, j) for each 4x1 block of l (rows 4q..4q+3, column j; fewer rows in the last
// block when out % 4 != 0), in the order q, then j; score is the block's mean |w|.
// w: the [out, in] weights, l's own or its writable copy.
template <class F>
void for_each_block(const LinearWeights& l, const float* w, const F& f) {
    for (int q = 0; q * kBlockRows < l.out; ++q) {
        const int rows = std::min(kBlockRows, l.out - q * kBlockRows);
        for (int j = 0; j < l.in; ++j) {
            float sum = 0.0f;
            for (int i = 0; i < rows; ++i) sum += std::fabs(w[size_t(q * kBlockRows + i) * l.in + j]);
            f(sum / float(rows), q, j);
        }
    }
}

int64_t block_count(const LinearWeights& l) { return int64_t((l.out + kBlockRows - 1) / kBlockRows) * l.in; }

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
    int64_t total = 0;
    for (const LinearWeights* l : matrices) total += block_count(*l);
    const int64_t k = std::llround(sparsity * double(total));
    if (k <= 0) return 0;
    // The k-th smallest block score is the threshold, as for single weights: blocks below it go,
    // and just enough of those equal to it, in matrix order, to zero exactly k blocks. Scores are
    // computed again in each pass rather than listed (a list costs 16 bytes per 4 weights).
    const float threshold = kth_smallest(
        [&](const auto& f) {
            for (const LinearWeights* l : matrices) {
                for_each_block(*l, std::as_const(l->weight).data(), [&](float score, int, int) { f(score); });
                l->weight.release_file_pages();
            }
        },
        k);
    int64_t below = 0;
    for (const LinearWeights* l : matrices) {
        for_each_block(*l, std::as_const(l->weight).data(), [&](float score, int, int) { below += score < threshold; });
        l->weight.release_file_pages();
    }
    // A block's score reads only its own weights, so each block is zeroed as soon as it is scored.
    int64_t ties_to_prune = k - below, zeroed = 0;
    for (LinearWeights* l : matrices) {
        float* w = l->weight.data(); // the matrix's own writable copy from here on
        for_each_block(*l, w, [&](float score, int q, int j) {
            bool zero = score < threshold;
            if (!zero && score == threshold && ties_to_prune > 0) {
                zero = true;
                --ties_to_prune;
            }
            if (zero)
                for (int i = 0; i < kBlockRows && q * kBlockRows + i < l->out; ++i, ++zeroed) w[size_t(q * kBlockRows + i) * l->in + j] = 0.0f;
        });
        if (pruned) pruned(*l);
    }
    return zeroed;
}

int64_t prune_magnitude_global(Model& model, double sparsity) {
    std::vector<LinearWeights*> all;
    for_each_matrix(model, [&](LinearWeights& l) { all.push_back(&l); });
    return prune_magnitude(all, sparsity);
}

} // namespace ss
