// model_card_sections.h - the model card's sections beyond one accuracy figure (regressions,
// calibration, robustness, out-of-distribution detection, the dataset card), written by
// model_card_sections.cpp for model_card.cpp.
#pragma once

#include "eval/model_card.h"

#include <sstream>

namespace ss {

void regressions_section(std::ostringstream& md, const RunRecord& r, const ModelCardOptions& o);
void calibration_section(std::ostringstream& md, const EvalResult& e);
void robustness_section(std::ostringstream& md, const EvalResult& e);
void ood_section(std::ostringstream& md, const EvalResult& e);
void dataset_card_section(std::ostringstream& md, const RunRecord& r);

} // namespace ss
