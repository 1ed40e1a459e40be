// class_expert_heatmap.h - for one run and MoE layer: where each class's routed (sample, slot)
// pairs go, as a class x expert heat map (% of the class's pairs, rows sum to 100), with a color
// scale; dead experts (under 1 % of all pairs) are marked on the expert axis.
#pragma once

#include "eval/run_record.h"

#include <QWidget>

#include <string>
#include <vector>

class QCustomPlot;
class QCPColorMap;
class QCPColorScale;
class QCPTextElement;

namespace ssui {

class ClassExpertHeatmap : public QWidget {
    Q_OBJECT
public:
    explicit ClassExpertHeatmap(QWidget* parent = nullptr);

    // Shows the first MoE layer of `run`; `labels` name the classes. Clears the map (with the
    // reason in the title) when the run has no per-class routing counts.
    void setRun(const ss::RunRecord* run, const std::vector<std::string>& labels);
    // The value drawn at (class, expert) in %, NaN when nothing is shown.
    double cell(int cls, int expert) const;
    // The hover text for a point in plot pixels; empty off the map.
    QString describeAt(const QPointF& pos) const;
    QCustomPlot* plot() const { return plot_; }

private:
    void clear(const QString& reason);

    QCustomPlot* plot_;
    QCPColorMap* map_;
    QCPColorScale* scale_;
    QCPTextElement* title_;
    int classes_ = 0, experts_ = 0;
    std::vector<QString> class_names_;
};

} // namespace ssui
