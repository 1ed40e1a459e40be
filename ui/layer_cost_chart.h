// layer_cost_chart.h - for one run: batch-1 time per top-level layer (left axis, µs) beside the
// bytes each layer keeps in memory (right axis, KiB), so a user sees where time and memory go.
#pragma once

#include "run_record.h"

#include <QWidget>

class QCustomPlot;
class QCPBars;
class QCPTextElement;

namespace ssui {

class LayerCostChart : public QWidget {
    Q_OBJECT
public:
    explicit LayerCostChart(QWidget* parent = nullptr);

    void setRun(const ss::RunRecord* run);
    int layerCount() const;
    QCustomPlot* plot() const { return plot_; }

private:
    QCustomPlot* plot_;
    QCPBars* time_;
    QCPBars* bytes_;
    QCPTextElement* title_;
};

} // namespace ssui
