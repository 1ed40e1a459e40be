// mcnemar.cpp - exact McNemar and Holm (mcnemar.h).
#include "eval/mcnemar.h"

#include "error.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ss {

double mcnemar_exact_p(int lost, int gained) {
    if (lost < 0 || gained < 0) throw Error("McNemar: counts must not be negative");
    const int n = lost + gained, k = std::min(lost, gained);
    if (n == 0) return 1.0;
    // Sum of C(n, i) / 2^n for i <= k, in log space (n may be tens of thousands).
    const double log_half_n = -double(n) * std::log(2.0);
    double sum = 0.0;
    for (int i = 0; i <= k; ++i) sum += std::exp(std::lgamma(n + 1.0) - std::lgamma(i + 1.0) - std::lgamma(n - i + 1.0) + log_half_n);
    return std::min(1.0, 2.0 * sum);
}

std::vector<double> holm_adjust(const std::vector<double>& p) {
    std::vector<size_t> order;
    for (size_t i = 0; i < p.size(); ++i)
        if (!std::isnan(p[i])) order.push_back(i);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
    std::vector<double> out(p.size(), std::nan(""));
    const size_t m = order.size();
    double running = 0.0;
    for (size_t i = 0; i < m; ++i) {
        running = std::max(running, std::min(1.0, double(m - i) * p[order[i]]));
        out[order[i]] = running;
    }
    return out;
}

} // namespace ss
