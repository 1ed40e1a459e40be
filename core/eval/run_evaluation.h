// run_evaluation.h - one run, start to finish: compress the dense model by a plan, get the dense
// model's outputs to compare with, evaluate the compressed model (timed beside the dense one) and
// return the run's record. `sparsescope-cli eval`, `sweep` and the window's background runner all
// go through here, so a run means the same thing wherever it was measured.
#pragma once

#include "compress/calibration.h"
#include "compress/compression_plan.h"
#include "data/dataset.h"
#include "eval/baseline_comparison.h"
#include "eval/evaluate.h"
#include "eval/slices.h"
#include "eval/lm_evaluate.h"
#include "eval/run_record.h"
#include "model/model.h"

#include <functional>
#include <memory>

namespace ss {

// Returns the dense model's outputs on the first `samples` samples (at least), for `dense` with
// its preprocessing; lets a caller reuse them across runs. compute_baseline when not given.
using BaselineProvider = std::function<std::shared_ptr<const BaselineOutputs>(const Model& dense, int samples, int threads)>;

struct RunRequest {
    const Model* dense = nullptr;          // the model as loaded: never modified
    const Dataset* data = nullptr;         // evaluation samples (classifiers)
    const TokenData* tokens = nullptr;     // evaluation text (language models)
    LmEvalOptions lm;                      // ctx, chunks, generation steps, cached baseline (language models; threads and progress from options)
    CompressionPlan plan;
    // Classifiers: a model already compressed by `plan` (a fine-tuned one) to evaluate as given;
    // `plan` is then recorded, not applied. Null: `dense` compressed by `plan`.
    const CompressedModel* compressed = nullptr;
    CalibrationSet calibration;            // when plan.needs_calibration(); not the evaluation samples or text
    const InputSpec* input = nullptr;      // preprocessing to use instead of the model's own
    EvalOptions options;                   // limit, threads, latency samples, progress (baseline and dense are set here)
    BaselineProvider baseline;             // empty: computed for this run
    bool side_by_side = true;              // time the dense model beside the compressed one
    // > 0: first evaluate this many samples (language models: chunks, at least 2) without
    // latency and hand the record to on_estimate (return false to stop there), then the whole run.
    int estimate_samples = 0;
    std::function<bool(const RunRecord&)> on_estimate;
    // Also accuracy under corruptions (classifiers on images), compressed against dense, on the
    // same samples and threads; the result's has_robustness says it was measured.
    const RobustnessOptions* robustness = nullptr;
    // Also the separation of the test split from these out-of-distribution samples, both models;
    // ood_name says what they are ("glyphs", "noise", a path).
    const Dataset* ood = nullptr;
    std::string ood_name;
    // User-defined slices (slices.h), tested like classes against dense; their results in result.slices.
    std::vector<Slice> slices;
};

// The run's record with its result; result.cancelled when progress said stop. `notes`, when given,
// receives what compression decided on calibration data (CompressedModel::notes). Throws ss::Error
// for a plan that does not fit the model or data that does not fit it.
RunRecord run_evaluation(const RunRequest& request, std::vector<std::string>* notes = nullptr);

} // namespace ss
