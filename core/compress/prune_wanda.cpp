// prune_wanda.cpp
#include "compress/prune_wanda.h"

#include "error.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ss {

void prune_wanda(LinearWeights& l, const std::vector<double>& input_sumsq, double sparsity) {
    if (input_sumsq.size() != size_t(l.in))
        throw Error("prune wanda: '" + l.name + "' has no calibration statistics for its " + std::to_string(l.in) + " inputs");
    std::vector<double> norm(static_cast<size_t>(l.in));
    for (int j = 0; j < l.in; ++j) norm[size_t(j)] = std::sqrt(input_sumsq[size_t(j)]);
    const int k = int(std::llround(sparsity * l.in));
    if (k <= 0) return;
    float* w = l.weight.data();
    std::vector<int> idx(static_cast<size_t>(l.in));
    std::vector<double> score(static_cast<size_t>(l.in));
    for (int o = 0; o < l.out; ++o) {
        float* row = w + size_t(o) * l.in;
        for (int j = 0; j < l.in; ++j) score[size_t(j)] = std::fabs(row[j]) * norm[size_t(j)];
        std::iota(idx.begin(), idx.end(), 0);
        std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return score[size_t(a)] < score[size_t(b)]; });
        for (int t = 0; t < k; ++t) row[idx[size_t(t)]] = 0.0f;
    }
}

} // namespace ss
