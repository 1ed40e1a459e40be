// accuracy_latency_plot.h - every run as a point: batch-1 p50 latency (ms) vs top-1 accuracy (%),
// with the Pareto frontier (no other run is both faster and more accurate), the dense baseline
// marked, and runs that were measured not faster than dense (within noise) ringed. For language
// models (setTask): ms per generated token vs perplexity (lower is better). Runs of the other task
// are not drawn, and the title says how many were left out. A run recovered by fine-tuning is
// joined to its one-shot run by a dashed arrow.
#pragma once

#include "eval/run_record.h"
#include "run_list_model.h"

#include <QWidget>

#include <map>
#include <vector>

class QCustomPlot;
class QCPGraph;
class QCPItemLine;
class QCPTextElement;

namespace ssui {

class AccuracyLatencyPlot : public QWidget {
    Q_OBJECT
public:
    explicit AccuracyLatencyPlot(QWidget* parent = nullptr);

    // `groups` (one per run, optional): runs from several sessions or models are drawn one color
    // per group (marker shape still by precision) instead of one color per precision.
    // Deleted runs are never drawn, hidden ones only when `show_hidden` (RunListModel::shown).
    void setRuns(const std::vector<ss::RunRecord>& runs, const std::vector<QString>& groups = {}, bool show_hidden = false);
    // The task whose runs are drawn (the loaded model's); switches axes and the frontier's sense.
    void setTask(ss::EvalTask task);
    ss::EvalTask task() const { return task_; }
    // A run's y: top-1 accuracy in % (classifiers) or perplexity (language models).
    static double yOf(const ss::RunRecord& run);
    void setSelectedRun(int row); // -1 for none
    void setSelectedRuns(const std::vector<int>& rows); // each ringed
    // The run chosen as baseline (a row of the runs given to setRuns), marked with a diamond; -1: none.
    void setBaselineRun(int row);
    int baselineRun() const { return chosen_row_; }
    int pointCount() const;
    QCustomPlot* plot() const { return plot_; }
    // The series a run is drawn in: its weight precision ("fp32", "fp16", "int8", "int4", ...).
    static QString seriesOf(const ss::RunRecord& run);
    // The color and marker of a series, shared by every plot that groups runs by precision.
    static void seriesStyle(const QString& name, QColor* color, int* shape);
    // Rows of the runs of `task` on the Pareto frontier (lower latency, higher accuracy or lower
    // perplexity), by latency; of the runs shown only.
    static std::vector<int> paretoFront(const std::vector<ss::RunRecord>& runs, ss::EvalTask task = ss::EvalTask::Classification,
                                        bool show_hidden = false);
    int frontierCount() const;
    int notFasterCount() const;
    // The run drawn within `radius` pixels of `pos` (plot coordinates), nearest first; -1 if none.
    int runAt(const QPointF& pos, double radius = 8.0) const;
    // What the hover tooltip says about a run.
    static QString describe(const ss::RunRecord& run);

signals:
    void runClicked(int row);

private:
    QCPGraph* series(const QString& name, const QString& group = {}, int group_index = -1);
    bool shown(const ss::RunRecord& run) const { return run.result.task == task_ && RunListModel::shown(run, show_hidden_); }
    void refreshTitle();

    QCustomPlot* plot_;
    QCPGraph* selected_;
    QCPGraph* frontier_;
    QCPGraph* baseline_;
    QCPGraph* not_faster_;
    QCPGraph* chosen_; // the run chosen as baseline
    int chosen_row_ = -1;
    ss::EvalTask task_ = ss::EvalTask::Classification;
    int hidden_ = 0; // runs of the other task
    int drawn_ = 0;
    bool show_hidden_ = false;
    QCPTextElement* title_ = nullptr;
    std::vector<ss::RunRecord> runs_;
    std::map<QString, QCPGraph*> series_;
    std::vector<QCPItemLine*> recovery_arrows_; // one-shot run -> its recovered run
public:
    int recoveryArrowCount() const { return int(recovery_arrows_.size()); }
private:
    std::map<QCPGraph*, std::vector<int>> rows_; // point index (sorted by latency) -> run row
};

} // namespace ssui
