// accuracy_latency_plot.h - every run as a point: batch-1 p50 latency (ms) vs top-1 accuracy (%).
#pragma once

#include "run_record.h"

#include <QWidget>

#include <vector>

class QCustomPlot;
class QCPGraph;

namespace ssui {

class AccuracyLatencyPlot : public QWidget {
    Q_OBJECT
public:
    explicit AccuracyLatencyPlot(QWidget* parent = nullptr);

    void setRuns(const std::vector<ss::RunRecord>& runs);
    void setSelectedRun(int row); // -1 for none
    int pointCount() const;
    QCustomPlot* plot() const { return plot_; }

signals:
    void runClicked(int row);

private:
    QCustomPlot* plot_;
    QCPGraph* fp32_;
    QCPGraph* int8_;
    QCPGraph* selected_;
    std::vector<ss::RunRecord> runs_;
    std::vector<int> fp32_rows_, int8_rows_; // point index (sorted by latency) -> run row
};

} // namespace ssui
