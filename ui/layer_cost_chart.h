// layer_cost_chart.h - for one run: batch-1 time per top-level layer (left axis, µs) beside the
// bytes each layer keeps in memory (right axis, KiB), so a user sees where time and memory go.
// For several runs compared: one stacked bar per run, a segment per layer (µs), weights in the labels.
#pragma once

#include "eval/run_record.h"

#include <QWidget>

#include <vector>

class QCustomPlot;
class QCPBars;
class QCPTextElement;

namespace ssui {

class LayerCostChart : public QWidget {
    Q_OBJECT
public:
    explicit LayerCostChart(QWidget* parent = nullptr);

    void setRun(const ss::RunRecord* run);
    void setRuns(const std::vector<const ss::RunRecord*>& runs); // stacked; one run falls back to setRun
    int layerCount() const;
    int stackedRuns() const { return stacked_runs_; }
    int stackedSegments() const { return int(stacked_.size()); }
    QCustomPlot* plot() const { return plot_; }

private:
    QCustomPlot* plot_;
    QCPBars* time_;
    QCPBars* bytes_;
    QCPTextElement* title_;
    std::vector<QCPBars*> stacked_; // one per layer name when comparing
    int stacked_runs_ = 0;
    void clearStacked();
};

} // namespace ssui
