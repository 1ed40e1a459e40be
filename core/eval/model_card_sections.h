// model_card_sections.h - the model card's sections beyond one accuracy figure (regressions,
// calibration, robustness, out-of-distribution detection, the dataset card), written by
// model_card_sections.cpp for model_card.cpp.
#pragma once

#include "eval/model_card.h"

#include <sstream>

#include <cstdio>
#include <string>

namespace ss {

namespace card {
// One number in a printf format, for the card's text.
inline std::string f(const char* fmt, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, fmt, v);
    return buf;
}
// A Markdown table cell: no bare '|', no line break; empty shown as a dash.
inline std::string cell(std::string s) {
    for (size_t i = 0; (i = s.find('|', i)) != std::string::npos; i += 2) s.replace(i, 1, "\\|");
    for (char& c : s)
        if (c == '\n' || c == '\r') c = ' ';
    return s.empty() ? "—" : s;
}
} // namespace card

void regressions_section(std::ostringstream& md, const RunRecord& r, const ModelCardOptions& o);
void calibration_section(std::ostringstream& md, const EvalResult& e);
void robustness_section(std::ostringstream& md, const EvalResult& e);
void ood_section(std::ostringstream& md, const EvalResult& e);
void dataset_card_section(std::ostringstream& md, const RunRecord& r);

} // namespace ss
