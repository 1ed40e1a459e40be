// class_delta_chart.h - per-class accuracy change of one run against the dense model or a chosen
// baseline run (points),
// bars colored red where a class lost more than the regression threshold.
#pragma once

#include "eval/run_record.h"

#include <QWidget>

#include <string>
#include <vector>

class QCustomPlot;
class QCPBars;
class QCPBarsGroup;
class QCPGraph;
class QCPTextElement;

namespace ssui {

class ClassDeltaChart : public QWidget {
    Q_OBJECT
public:
    explicit ClassDeltaChart(QWidget* parent = nullptr);

    // Changes against `base` (a run chosen as baseline) when given, else against the dense model.
    void setRun(const ss::RunRecord* run, const std::vector<std::string>& labels, const ss::RunRecord* base = nullptr);
    // Several runs side by side (grouped bars, one color per run; regressions outlined in red).
    void setRuns(const std::vector<const ss::RunRecord*>& runs, const std::vector<std::string>& labels,
                 const ss::RunRecord* base = nullptr);
    int comparedRuns() const { return int(compare_.size()); }
    // Classes whose accuracy dropped by more than this many points are regressions (default 1).
    void setThreshold(double points);
    double threshold() const { return threshold_; }
    int regressionCount() const;
    const std::vector<double>& deltas() const { return delta_; } // points per class, one run shown
    QCustomPlot* plot() const { return plot_; }

private:
    void redraw();

    QCustomPlot* plot_;
    QCPBars* ok_;
    QCPBars* regressed_;
    QCPGraph* limit_;
    QCPBarsGroup* group_;
    std::vector<QCPBars*> compare_;                 // one per run when comparing
    std::vector<std::vector<double>> compare_delta_; // points, per run and class
    std::vector<QString> compare_names_;
    QCPTextElement* title_;
    std::vector<double> delta_; // points, NaN for classes without samples
    std::vector<std::string> labels_;
    QString run_title_;
    QString against_; // "dense" or "run N"
    double threshold_ = 1.0;
};

} // namespace ssui
