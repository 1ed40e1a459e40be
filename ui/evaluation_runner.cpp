// evaluation_runner.cpp
#include "evaluation_runner.h"

#include "compress/compression.h"
#include "error.h"
#include "eval/baseline_cache.h"
#include "eval/evaluate.h"
#include "eval/lm_baseline_cache.h"
#include "eval/run_evaluation.h"

#include <QPromise>
#include <QtConcurrent>

#include <algorithm>
#include <optional>

namespace ssui {

namespace {
// Carries an engine error message across the future boundary.
class EvaluationFailure : public QException {
public:
    explicit EvaluationFailure(QString m) : message(std::move(m)) {}
    void raise() const override { throw *this; }
    EvaluationFailure* clone() const override { return new EvaluationFailure(*this); }
    QString message;
};

void run_job(QPromise<ss::RunRecord>& promise, EvaluationJob job) {
    promise.setProgressRange(0, 1000);
    try {
        job.options.progress = [&promise](float f) {
            promise.setProgressValue(int(f * 1000.0f));
            return !promise.isCanceled();
        };
        ss::RunRequest req;
        req.dense = job.model.get();
        req.data = job.dataset.get();
        std::optional<ss::LmBaselineCache> lm_cache;
        std::unique_ptr<ss::LmBaselineWriter> lm_writer;
        if (job.tokens) {
            req.tokens = job.tokens.get();
            req.lm = job.lm;
            if (job.baseline) {
                const int ctx = job.lm.ctx, chunks = ss::lm_chunk_count(job.tokens->tokens.size(), ctx, job.lm.chunks);
                const std::string dir = ss::baseline_cache_dir();
                const std::string key = ss::lm_baseline_cache_key(*job.model, *job.tokens, ctx, chunks, job.lm.gen_tokens, job.options.threads);
                // As for classifiers: an explicit run times dense beside it (and refreshes the
                // cache); live runs take the cached dense distributions and timing.
                if (!job.side_by_side && !job.lm_retime_dense)
                    lm_cache = ss::LmBaselineCache::open(dir, key, chunks, ctx - 1 - ctx / 2, job.model->lm.vocab);
                if (lm_cache) {
                    req.lm.cached = &*lm_cache;
                } else if (!key.empty() && chunks >= 2) {
                    lm_writer = std::make_unique<ss::LmBaselineWriter>(dir, key, chunks, ctx - 1 - ctx / 2, job.model->lm.vocab, job.options.threads);
                    req.lm.record = lm_writer.get();
                }
            }
            req.side_by_side = job.baseline && !lm_cache;
        }
        req.plan = job.plan;
        req.calibration = job.calibration_text ? ss::CalibrationSet(job.calibration_text.get(), job.lm.ctx) : ss::CalibrationSet(job.calibration.get());
        req.input = &job.input;
        req.options = job.options;
        if (!job.tokens) req.side_by_side = job.side_by_side;
        if (job.tokens) {
            // a language model compares inside the evaluation (above)
        } else if (job.baseline) {
            req.baseline = [&job](const ss::Model& dense, int samples, int threads) {
                BaselineCache& b = *job.baseline;
                std::lock_guard<std::mutex> lock(b.mutex);
                if (!(b.outputs && b.model == job.model.get() && b.dataset == job.dataset.get() && b.input.scale == dense.input.scale &&
                      b.input.mean == dense.input.mean && b.input.std == dense.input.std && b.samples >= samples && b.threads == threads)) {
                    b.outputs = std::make_shared<const ss::BaselineOutputs>(ss::compute_baseline(dense, *job.dataset, samples, threads));
                    b.model = job.model.get();
                    b.dataset = job.dataset.get();
                    b.input = dense.input;
                    b.samples = samples;
                    b.threads = threads;
                }
                return b.outputs;
            };
        } else {
            req.baseline = [](const ss::Model&, int, int) { return std::shared_ptr<const ss::BaselineOutputs>(); }; // no comparison
        }
        req.robustness = job.robustness.get();
        req.ood = job.ood.get();
        req.ood_name = job.ood_name;
        req.estimate_samples = job.estimate_samples;
        req.on_estimate = [&promise](const ss::RunRecord& e) {
            if (promise.isCanceled()) return false;
            promise.addResult(e);
            return true;
        };
        ss::RunRecord r = ss::run_evaluation(req);
        if (!job.dataset_card.empty()) r.dataset_card = job.dataset_card;
        if (r.result.cancelled || promise.isCanceled()) return;
        promise.addResult(std::move(r));
    } catch (const std::exception& e) {
        promise.setException(EvaluationFailure(QString::fromStdString(e.what())));
    }
}
} // namespace

EvaluationRunner::EvaluationRunner(QObject* parent) : QObject(parent) {
    connect(&watcher_, &QFutureWatcherBase::progressValueChanged, this, &EvaluationRunner::progressChanged);
    connect(&watcher_, &QFutureWatcherBase::resultReadyAt, this, [this](int i) {
        if (i == 0 && current_estimate_ && !pending_) emit estimated(watcher_.resultAt(0));
    });
    connect(&watcher_, &QFutureWatcherBase::finished, this, [this] {
        QFuture<ss::RunRecord> f = watcher_.future();
        if (pending_) { // superseded: start the newer job, report nothing about this one
            EvaluationJob next = std::move(*pending_);
            pending_.reset();
            start(std::move(next));
            return;
        }
        try {
            if (f.resultCount() > 0 && !f.isCanceled()) {
                emit finished(f.resultAt(f.resultCount() - 1));
                return;
            }
            f.waitForFinished(); // rethrows an EvaluationFailure
        } catch (const EvaluationFailure& e) {
            emit failed(e.message);
            return;
        } catch (const std::exception& e) {
            emit failed(QString::fromStdString(e.what()));
            return;
        }
        emit canceled();
    });
}

EvaluationRunner::~EvaluationRunner() {
    watcher_.cancel();
    watcher_.waitForFinished();
}

bool EvaluationRunner::isRunning() const { return watcher_.isRunning(); }

bool EvaluationRunner::start(EvaluationJob job) {
    if (isRunning()) return false;
    current_live_ = job.live;
    // Samples, or chunks of a language model's text: an estimate only when it covers fewer.
    const int all = job.tokens ? ss::lm_chunk_count(job.tokens->tokens.size(), job.lm.ctx, job.lm.chunks) : job.dataset->count;
    current_estimate_ = job.estimate_samples > 0 && job.estimate_samples < all;
    watcher_.setFuture(QtConcurrent::run(run_job, std::move(job)));
    return true;
}

void EvaluationRunner::restart(EvaluationJob job) {
    if (!isRunning()) {
        start(std::move(job));
        return;
    }
    pending_ = std::move(job);
    watcher_.cancel();
}

void EvaluationRunner::cancel() {
    pending_.reset();
    watcher_.cancel();
}

} // namespace ssui
