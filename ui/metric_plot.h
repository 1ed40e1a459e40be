// metric_plot.h - any run metric against any other (axis choosers), one series per weight
// precision, points of a series joined in order of x. Its default, accuracy against measured
// sparsity, is the "what does pruning cost at each precision" curve.
#pragma once

#include "eval/run_record.h"

#include <QWidget>

#include <map>
#include <vector>

class QComboBox;
class QCustomPlot;
class QCPGraph;
class QCPTextElement;

namespace ssui {

class MetricPlot : public QWidget {
    Q_OBJECT
public:
    // Perplexity .. GenTps: language-model runs only; AccuracyDelta and Throughput: classifiers only.
    enum Metric { Accuracy, AccuracyDelta, Agreement, MeanKl, Sparsity, LatencyP50, LatencyP95, Throughput, ThroughputRatio, LatencyRatio, WeightMB,
                  Perplexity, PerplexityRatio, KlP99, PromptTps, GenTps, MetricCount };

    explicit MetricPlot(QWidget* parent = nullptr);

    void setRuns(const std::vector<ss::RunRecord>& runs, bool show_hidden = false); // deleted runs never drawn
    void setAxes(Metric x, Metric y);
    // Only runs of `task` are drawn (accuracy of a classifier and next-token accuracy are not one
    // axis); switching task picks that task's default axes.
    void setTask(ss::EvalTask task);
    static QString metricName(Metric m);
    // The metric's value for a run; NaN when the run does not have it (e.g. no dense comparison).
    static double value(const ss::RunRecord& run, Metric m);
    int pointCount() const;
    QCustomPlot* plot() const { return plot_; }
    QComboBox* xCombo() const { return x_; }
    QComboBox* yCombo() const { return y_; }

private:
    void redraw();

    QCustomPlot* plot_;
    QComboBox* x_;
    QComboBox* y_;
    std::vector<ss::RunRecord> runs_;
    bool show_hidden_ = false;
    std::map<QString, QCPGraph*> series_;
    ss::EvalTask task_ = ss::EvalTask::Classification;
    QCPTextElement* title_ = nullptr;
};

} // namespace ssui
