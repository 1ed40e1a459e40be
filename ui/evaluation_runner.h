// evaluation_runner.h - runs ss::compress + ss::evaluate off the GUI thread.
//
// One evaluation at a time. Progress arrives through QFutureWatcher; cancel() sets the future's
// cancel flag, which the worker reads in its progress callback (no queued slots, no event loops).
#pragma once

#include "eval/baseline_comparison.h"
#include "data/dataset.h"
#include "data/token_data.h"
#include "eval/lm_evaluate.h"
#include "eval/robustness.h"
#include "model/model.h"
#include "eval/run_record.h"

#include <QFutureWatcher>
#include <QObject>

#include <memory>
#include <mutex>
#include <optional>

namespace ssui {

// The dense model's outputs for one (model, dataset, preprocessing), computed once by the first
// evaluation that needs them and reused by the next ones. Shared between the GUI and workers.
struct BaselineCache {
    std::mutex mutex;
    const ss::Model* model = nullptr;
    const ss::Dataset* dataset = nullptr;
    ss::InputSpec input;
    int samples = 0;
    int threads = 0;
    std::shared_ptr<const ss::BaselineOutputs> outputs;
};

struct EvaluationJob {
    std::shared_ptr<const ss::Model> model;
    std::shared_ptr<const ss::Dataset> dataset;     // classifiers
    std::shared_ptr<const ss::TokenData> tokens;    // language models: the evaluation text as token ids
    std::shared_ptr<const ss::TokenData> calibration_text; // language models, when the plan needs calibration
    ss::LmEvalOptions lm;                           // language models: ctx, chunks, generation steps
    bool lm_retime_dense = false; // language models: measure the dense model side by side even when cached (and re-cache)
    std::shared_ptr<const ss::Dataset> calibration; // when the plan needs it
    // May be null: no comparison. A language model's dense distributions and speed are kept in the
    // baseline cache on disk instead (lm_baseline_cache.h): measured side by side by the first
    // run, read back by every later one.
    std::shared_ptr<BaselineCache> baseline;
    ss::CompressionPlan plan;
    ss::InputSpec input;     // preprocessing to use (the model's own, or the user's override)
    ss::EvalOptions options; // progress is set by the runner
    bool side_by_side = true; // time the dense model beside it (false: ratios from the baseline's own timing)
    bool live = false;        // started by live mode (the window replaces its live row with the result)
    int estimate_samples = 0; // > 0: first evaluate this many samples (language models: chunks; no latency) and report it as an estimate
    std::shared_ptr<const ss::RobustnessOptions> robustness; // classifiers on images: also accuracy under corruptions
    std::shared_ptr<const ss::Dataset> ood;                  // also OOD separation against these samples
    std::string ood_name;
    std::string dataset_card; // the dataset's card as the user completed it (JSON); empty: as found beside the data
};

class EvaluationRunner : public QObject {
    Q_OBJECT
public:
    explicit EvaluationRunner(QObject* parent = nullptr);
    ~EvaluationRunner() override;

    bool isRunning() const;
    bool start(EvaluationJob job); // false when one is already running
    // Starts `job` now, or, while one runs, cancels it and starts `job` when it has stopped.
    void restart(EvaluationJob job);
    bool currentIsLive() const { return current_live_; }

public slots:
    void cancel();

signals:
    void progressChanged(int permille);
    void finished(const ss::RunRecord& run);
    void estimated(const ss::RunRecord& run); // the quick estimate of a job with estimate_samples
    void failed(const QString& message);
    void canceled();

private:
    std::optional<EvaluationJob> pending_;
    bool current_live_ = false;
    bool current_estimate_ = false;
    QFutureWatcher<ss::RunRecord> watcher_;
};

} // namespace ssui
