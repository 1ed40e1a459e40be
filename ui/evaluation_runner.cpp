// evaluation_runner.cpp
#include "evaluation_runner.h"

#include "compress/compression.h"
#include "error.h"
#include "eval/evaluate.h"

#include <QPromise>
#include <QtConcurrent>

#include <algorithm>

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
        ss::CompressedModel cm = ss::compress(*job.model, job.plan, job.calibration.get());
        cm.model.input = job.input;
        if (promise.isCanceled()) return;
        std::shared_ptr<const ss::BaselineOutputs> baseline;
        if (job.baseline) {
            BaselineCache& b = *job.baseline;
            std::lock_guard<std::mutex> lock(b.mutex);
            const int samples = job.options.limit > 0 ? std::min(job.options.limit, job.dataset->count) : job.dataset->count;
            if (!(b.outputs && b.model == job.model.get() && b.dataset == job.dataset.get() && b.input.scale == job.input.scale &&
                  b.input.mean == job.input.mean && b.input.std == job.input.std && b.samples >= samples &&
                  b.threads == job.options.threads)) {
                ss::Model dense = *job.model;
                dense.input = job.input;
                b.outputs = std::make_shared<const ss::BaselineOutputs>(ss::compute_baseline(dense, *job.dataset, samples, job.options.threads));
                b.model = job.model.get();
                b.dataset = job.dataset.get();
                b.input = job.input;
                b.samples = samples;
                b.threads = job.options.threads;
            }
            baseline = b.outputs;
        }
        job.options.baseline = baseline.get();
        if (baseline && job.side_by_side) job.options.dense = job.model.get();
        ss::RunRecord r = ss::make_run_record(cm.model, *job.dataset, job.plan);
        if (job.estimate_samples > 0 && job.estimate_samples < job.dataset->count) {
            // The same compressed model on the first samples first: an estimate within tens of ms.
            ss::EvalOptions quick = job.options;
            quick.limit = job.estimate_samples;
            quick.latency_samples = 0;
            quick.latency_warmup = 0;
            quick.dense = nullptr;
            quick.progress = {};
            ss::RunRecord e = r;
            e.result = ss::evaluate(cm, *job.dataset, quick);
            if (promise.isCanceled()) return;
            promise.addResult(std::move(e));
        }
        r.result = ss::evaluate(cm, *job.dataset, job.options);
        if (r.result.cancelled) return;
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
    current_estimate_ = job.estimate_samples > 0 && job.estimate_samples < job.dataset->count;
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
