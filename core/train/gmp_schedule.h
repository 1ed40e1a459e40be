// gmp_schedule.h - gradual magnitude pruning's target sparsity over training (Zhu & Gupta, 2017,
// "To prune, or not to prune"): from 0 at epoch START to the plan's sparsity s_f at epoch END,
//   s(t) = s_f * (1 - (1 - (t - START) / (END - START))^3),
// 0 before START and s_f after END; t counts epochs, fractionally (steps / steps per epoch).
// The cubic prunes fast while many redundant weights remain and slowly near the end.
#pragma once

#include <string>

namespace ss {

struct GmpSchedule {
    bool enabled = false;
    double start = 0.0; // epochs
    double end = 0.0;   // epochs, > start
};

// "gmp:START:END" with 0 <= START < END <= epochs; "" or "none": disabled. Throws ss::Error
// ("--schedule 'TEXT': ...") naming the rule broken.
GmpSchedule parse_gmp_schedule(const std::string& text, int epochs);

// The target sparsity at epoch t (fractional) for a final sparsity s_f in [0, 1).
double gmp_sparsity(const GmpSchedule& s, double final_sparsity, double t);

} // namespace ss
