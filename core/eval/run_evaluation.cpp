// run_evaluation.cpp
#include "eval/run_evaluation.h"

#include "compress/compression.h"
#include "error.h"

#include <algorithm>
#include <cmath>

#include <optional>

namespace ss {

namespace {
// A language model: compared with the dense model inside the evaluation, chunk by chunk.
RunRecord run_language_model(const RunRequest& req, std::vector<std::string>* notes) {
    if (!req.tokens) throw Error(req.dense->name + ": a language model is evaluated on text or token ids, not on a classification dataset");
    const CompressedModel cm = compress(*req.dense, req.plan, req.calibration);
    if (notes) *notes = cm.notes;
    LmEvalOptions opt = req.lm;
    opt.threads = req.options.threads;
    opt.progress = req.options.progress;
    opt.dense = req.side_by_side && !req.lm.cached ? req.dense : nullptr;
    RunRecord r = make_run_record(cm.model, *req.tokens, req.plan);
    if (req.estimate_samples > 0 && req.on_estimate) {
        // The first chunks first (estimate_samples counts chunks here), without generation
        // timing and compared only through a cached baseline: an estimate in a fraction of the run.
        const int all = lm_chunk_count(req.tokens->tokens.size(), opt.ctx, opt.chunks);
        if (req.estimate_samples < all) {
            LmEvalOptions quick = opt;
            quick.chunks = std::max(2, req.estimate_samples);
            quick.gen_tokens = 0;
            quick.dense = nullptr;
            quick.record = nullptr;
            quick.progress = {};
            RunRecord e = r;
            e.result = evaluate_language_model(cm, *req.tokens, quick);
            if (!req.on_estimate(e)) {
                r.result.cancelled = true;
                return r;
            }
        }
    }
    r.result = evaluate_language_model(cm, *req.tokens, opt);
    return r;
}
} // namespace

RunRecord run_evaluation(const RunRequest& req, std::vector<std::string>* notes) {
    if (!req.dense) throw Error("run_evaluation: no model");
    if (req.dense->task == EvalTask::LanguageModeling) return run_language_model(req, notes);
    if (!req.data) throw Error(req.dense->name + ": a classifier is evaluated on a classification dataset");
    CompressedModel cm = req.compressed ? *req.compressed : compress(*req.dense, req.plan, req.calibration);
    if (req.input) cm.model.input = *req.input;
    if (notes) *notes = cm.notes;

    EvalOptions opt = req.options;
    const int samples = opt.limit > 0 ? std::min(opt.limit, req.data->count) : req.data->count;
    std::shared_ptr<const BaselineOutputs> baseline;
    if (req.baseline) {
        // The provider gets the dense model with the run's preprocessing.
        if (req.input) {
            Model dense = *req.dense;
            dense.input = *req.input;
            baseline = req.baseline(dense, samples, opt.threads);
        } else {
            baseline = req.baseline(*req.dense, samples, opt.threads);
        }
    } else {
        Model dense = *req.dense;
        if (req.input) dense.input = *req.input;
        baseline = std::make_shared<const BaselineOutputs>(compute_baseline(dense, *req.data, samples, opt.threads));
    }
    opt.baseline = baseline.get();
    opt.dense = baseline && req.side_by_side ? req.dense : nullptr;

    RunRecord r = make_run_record(cm.model, *req.data, req.plan);
    if (req.estimate_samples > 0 && req.estimate_samples < req.data->count && req.on_estimate) {
        // The same compressed model on the first samples first: an estimate within tens of ms.
        EvalOptions quick = opt;
        quick.limit = req.estimate_samples;
        quick.latency_samples = 0;
        quick.latency_warmup = 0;
        quick.dense = nullptr;
        quick.progress = {};
        RunRecord e = r;
        e.result = evaluate(cm, *req.data, quick);
        if (!req.on_estimate(e)) {
            r.result.cancelled = true;
            return r;
        }
    }
    r.result = evaluate(cm, *req.data, opt);
    if (!req.slices.empty() && r.result.has_comparison && !r.result.cancelled) {
        // Only the samples evaluated count (a slice defined over more of the data is cut to them).
        std::vector<Slice> cut = req.slices;
        for (Slice& s : cut) s.samples.erase(std::lower_bound(s.samples.begin(), s.samples.end(), r.result.samples), s.samples.end());
        r.result.slices = slice_regressions(r.result.comparison.flipped, cut);
    }
    if (req.ood && !r.result.cancelled) {
        const Model* dense = req.dense;
        std::optional<Model> dense_with_input;
        if (req.input) {
            dense_with_input = *req.dense;
            dense_with_input->input = *req.input;
            dense = &*dense_with_input;
        }
        EvalResult& e = r.result;
        e.ood = evaluate_ood(cm.model, dense, *req.data, samples, *req.ood, req.ood_name);
        e.has_ood = true;
        e.metrics["ood_auroc"] = e.ood.msp.auroc; // max softmax as the score
        e.metrics["ood_aupr_in"] = e.ood.msp.aupr_in;
        e.metrics["ood_fpr95"] = e.ood.msp.fpr95;
        e.metrics["ood_energy_auroc"] = e.ood.energy.auroc;
        e.metrics["dense_ood_auroc"] = e.ood.dense_msp.auroc;
        e.metrics["dense_ood_fpr95"] = e.ood.dense_msp.fpr95;
        e.metrics["dense_ood_energy_auroc"] = e.ood.dense_energy.auroc;
    }
    if (req.robustness && !r.result.cancelled) {
        RobustnessOptions ro = *req.robustness;
        ro.limit = ro.limit > 0 ? std::min(ro.limit, samples) : samples; // never more than the run evaluated
        ro.threads = opt.threads;
        std::optional<Model> dense_with_input; // the run's preprocessing on the dense side too
        if (req.input) {
            dense_with_input = *req.dense;
            dense_with_input->input = *req.input;
        }
        r.result.robustness = evaluate_robustness(cm.model, dense_with_input ? &*dense_with_input : req.dense, *req.data, ro);
        r.result.has_robustness = true;
        r.result.metrics["corruption_accuracy"] = r.result.robustness.mean_accuracy; // over every corruption and severity
        if (!std::isnan(r.result.robustness.mce)) r.result.metrics["corruption_mce"] = r.result.robustness.mce;
    }
    return r;
}

} // namespace ss
