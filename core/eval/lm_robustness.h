// lm_robustness.h - a compressed language model against its dense model on text other than the
// evaluation text: out-of-domain text (the Jargon File beside the Bible) and the evaluation text with
// typing errors (text_noise.h) - perplexity of both, their ratio, KL and next-token calibration, so a
// user sees whether compression costs more off the beaten track than on it.
#pragma once

#include "compress/compression.h"
#include "data/token_data.h"
#include "eval/lm_evaluate.h"

#include <string>
#include <vector>

namespace ss {

struct LmTextVariant {
    std::string name;  // "evaluation text", "out of domain: jargon.txt.gz", "typos 5 %"
    TokenData tokens;
};

struct LmRobustnessRow {
    std::string text;
    int tokens_scored = 0;
    double perplexity = 0.0, dense_perplexity = 0.0, ppl_ratio = 0.0;
    double kld_mean = 0.0, same_top_p = 0.0;
    double ece = 0.0, dense_ece = 0.0;
};

// A row from an evaluation's metrics (what lm_evaluate.h names them).
LmRobustnessRow lm_robustness_row(const std::string& text, const EvalResult& e);

// Each variant evaluated like the evaluation text (`options`: ctx, chunks, threads), against `dense`
// side by side, generation not timed. Throws ss::Error as evaluate_language_model does (e.g. a text
// too short for two chunks, named).
std::vector<LmRobustnessRow> lm_text_robustness(const CompressedModel& cm, const Model& dense, const std::vector<LmTextVariant>& variants,
                                                LmEvalOptions options);

} // namespace ss
