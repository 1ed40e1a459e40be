// prune_magnitude.cpp
#include "prune_magnitude.h"

#include "error.h"

#include <algorithm>
#include <utility>
#include <cmath>
#include <vector>

namespace ss {

namespace {
// An int8 layer keeps its stored form in step: w = q * scale is zero exactly where q is (scale > 0
// for any row with a nonzero weight), so zeroing q where w became zero keeps w == q * scale.
void sync_int8_with_zeros(Model& model) {
    for_each_compressible_linear(model, [](LinearWeights& l) {
        if (!l.int8) return;
        auto q = std::make_shared<Int8Weights>(*l.int8);
        const float* w = std::as_const(l).weight.data();
        for (size_t k = 0; k < q->q.size(); ++k)
            if (w[k] == 0.0f) q->q[k] = 0;
        l.int8 = std::move(q);
    });
}
} // namespace

int64_t prune_magnitude_global(Model& model, double sparsity) {
    if (!(sparsity >= 0.0 && sparsity <= 1.0))
        throw Error("prune magnitude: sparsity " + std::to_string(sparsity) + " must be in [0, 1]");
    std::vector<float> mags;
    for_each_compressible_linear(std::as_const(model), [&](const LinearWeights& l) {
        for (float w : l.weight) mags.push_back(std::fabs(w));
    });
    const int64_t total = int64_t(mags.size());
    const int64_t k = std::llround(sparsity * double(total));
    if (k <= 0) return 0;
    if (k >= total) {
        for_each_compressible_linear(model, [](LinearWeights& l) { std::fill(l.weight.begin(), l.weight.end(), 0.0f); });
        sync_int8_with_zeros(model);
        return total;
    }
    // The k-th smallest magnitude is the threshold: everything below it goes, and just enough of
    // the weights equal to it go to make the count exactly k.
    std::nth_element(mags.begin(), mags.begin() + (k - 1), mags.end());
    const float threshold = mags[size_t(k - 1)];
    int64_t below = 0;
    for (float m : mags) below += m < threshold;
    int64_t ties_to_prune = k - below;
    for_each_compressible_linear(model, [&](LinearWeights& l) {
        for (float& w : l.weight) {
            const float m = std::fabs(w);
            if (m < threshold) {
                w = 0.0f;
            } else if (m == threshold && ties_to_prune > 0) {
                w = 0.0f;
                --ties_to_prune;
            }
        }
    });
    sync_int8_with_zeros(model);
    return k;
}

} // namespace ss
