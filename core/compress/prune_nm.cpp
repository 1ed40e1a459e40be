// prune_nm.cpp
#include "compress/prune_nm.h"

#include "error.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace ss {

void prune_nm(LinearWeights& l, int n, int m) {
    if (n < 0 || m < 1 || n > m) throw Error("prune nm:" + std::to_string(n) + ":" + std::to_string(m) + ": N must be in 0..M");
    float* w = l.weight.data();
    std::vector<int> idx(static_cast<size_t>(m));
    for (int o = 0; o < l.out; ++o)
        for (int b = 0; b < l.in; b += m) {
            const int len = std::min(m, l.in - b);
            float* blk = w + size_t(o) * l.in + b;
            std::iota(idx.begin(), idx.begin() + len, 0);
            std::stable_sort(idx.begin(), idx.begin() + len, [&](int a, int c) { return std::fabs(blk[a]) > std::fabs(blk[c]); });
            for (int t = std::min(n, len); t < len; ++t) blk[idx[size_t(t)]] = 0.0f;
        }
}

} // namespace ss
