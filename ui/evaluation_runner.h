// evaluation_runner.h - runs ss::compress + ss::evaluate off the GUI thread.
//
// One evaluation at a time. Progress arrives through QFutureWatcher; cancel() sets the future's
// cancel flag, which the worker reads in its progress callback (no queued slots, no event loops).
#pragma once

#include "dataset.h"
#include "model.h"
#include "run_record.h"

#include <QFutureWatcher>
#include <QObject>

#include <memory>

namespace ssui {

struct EvaluationJob {
    std::shared_ptr<const ss::Model> model;
    std::shared_ptr<const ss::Dataset> dataset;
    ss::CompressionSpec spec;
    ss::InputSpec input;     // preprocessing to use (the model's own, or the user's override)
    ss::EvalOptions options; // progress is set by the runner
};

class EvaluationRunner : public QObject {
    Q_OBJECT
public:
    explicit EvaluationRunner(QObject* parent = nullptr);
    ~EvaluationRunner() override;

    bool isRunning() const;
    bool start(EvaluationJob job); // false when one is already running

public slots:
    void cancel();

signals:
    void progressChanged(int permille);
    void finished(const ss::RunRecord& run);
    void failed(const QString& message);
    void canceled();

private:
    QFutureWatcher<ss::RunRecord> watcher_;
};

} // namespace ssui
