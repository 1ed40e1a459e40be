// lm_robustness.cpp - the evaluation repeated on other text (lm_robustness.h).
#include "eval/lm_robustness.h"

#include "error.h"

namespace ss {

LmRobustnessRow lm_robustness_row(const std::string& text, const EvalResult& e) {
    auto get = [&](const char* k) { return e.metrics.count(k) ? e.metrics.at(k) : 0.0; };
    LmRobustnessRow r;
    r.text = text;
    r.tokens_scored = e.samples;
    r.perplexity = get("perplexity");
    r.dense_perplexity = get("dense_perplexity");
    r.ppl_ratio = get("ppl_ratio");
    r.kld_mean = get("kld_mean");
    r.same_top_p = get("same_top_p");
    r.ece = get("ece");
    r.dense_ece = get("dense_ece");
    return r;
}

std::vector<LmRobustnessRow> lm_text_robustness(const CompressedModel& cm, const Model& dense, const std::vector<LmTextVariant>& variants,
                                                LmEvalOptions options) {
    options.dense = &dense;
    options.cached = nullptr;
    options.record = nullptr;
    options.gen_tokens = 0;
    std::vector<LmRobustnessRow> rows;
    for (const LmTextVariant& v : variants) {
        EvalResult e;
        try {
            e = evaluate_language_model(cm, v.tokens, options);
        } catch (const Error& err) {
            throw Error(v.name + ": " + err.what());
        }
        if (e.cancelled) break;
        rows.push_back(lm_robustness_row(v.name, e));
    }
    return rows;
}

} // namespace ss
