// gmp_schedule.cpp
#include "train/gmp_schedule.h"

#include "error.h"

#include <cmath>
#include <cstdlib>

namespace ss {

namespace {
bool parse_number(const std::string& s, double* out) {
    if (s.empty()) return false;
    char* end = nullptr;
    *out = std::strtod(s.c_str(), &end);
    return end == s.c_str() + s.size() && std::isfinite(*out);
}
} // namespace

GmpSchedule parse_gmp_schedule(const std::string& text, int epochs) {
    GmpSchedule s;
    if (text.empty() || text == "none") return s;
    const std::string where = "--schedule '" + text + "': ";
    if (text.rfind("gmp:", 0) != 0) throw Error(where + "expected gmp:START:END (epochs), e.g. gmp:0:3");
    const std::string rest = text.substr(4);
    const size_t colon = rest.find(':');
    if (colon == std::string::npos || !parse_number(rest.substr(0, colon), &s.start) || !parse_number(rest.substr(colon + 1), &s.end))
        throw Error(where + "expected gmp:START:END with START and END numbers of epochs, e.g. gmp:0:3");
    if (s.start < 0.0) throw Error(where + "START must be >= 0");
    if (s.end <= s.start) throw Error(where + "END must be greater than START");
    if (s.end > double(epochs))
        throw Error(where + "END (" + rest.substr(colon + 1) + ") is past the last epoch (" + std::to_string(epochs) +
                    "); the mask must reach its sparsity while training still runs");
    s.enabled = true;
    return s;
}

double gmp_sparsity(const GmpSchedule& s, double final_sparsity, double t) {
    if (!s.enabled || t >= s.end) return final_sparsity;
    if (t <= s.start) return 0.0;
    const double left = 1.0 - (t - s.start) / (s.end - s.start);
    return final_sparsity * (1.0 - left * left * left);
}

} // namespace ss
