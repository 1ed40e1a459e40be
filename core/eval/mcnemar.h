// mcnemar.h - whether a compressed model's change on a set of samples is more than chance: the
// exact McNemar test on the discordant pairs, and Holm's step-down correction when many sets
// (classes, slices) are tested at once.
#pragma once

#include <vector>

namespace ss {

// Two-sided exact McNemar p-value: `lost` samples right under dense and wrong compressed, `gained`
// the reverse. Under no change each discordant sample is either with probability 1/2, so
// p = min(1, 2 P[Binomial(lost + gained, 1/2) <= min(lost, gained)]); 1 when there are none.
double mcnemar_exact_p(int lost, int gained);

// Holm-Bonferroni adjusted p-values, in the order given: sorted ascending, the i-th smallest
// (from 0) is multiplied by (m - i), made monotone, capped at 1. NaN entries (untested) stay NaN
// and do not count in m.
std::vector<double> holm_adjust(const std::vector<double>& p);

} // namespace ss
