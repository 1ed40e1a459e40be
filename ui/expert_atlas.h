// expert_atlas.h - every MoE layer's routing at once: a layer x expert heat map of the selected
// run's expert shares (% of the layer's routed slots; uniform is 100/E), dead experts (under 1 %)
// marked ✝ and overloaded ones (over twice the uniform share) ▲; with two runs selected, the
// second minus the first in percentage points on a diverging scale (blue: fewer slots, red: more),
// experts matched by id, so a run that dropped experts compares with one that did not.
#pragma once

#include "eval/run_record.h"

#include <QWidget>

#include <vector>

class QCustomPlot;
class QCPColorMap;
class QCPColorScale;
class QCPTextElement;

namespace ssui {

class ExpertAtlas : public QWidget {
    Q_OBJECT
public:
    explicit ExpertAtlas(QWidget* parent = nullptr);

    void setRun(const ss::RunRecord* run);                           // null clears
    void setRuns(const ss::RunRecord& from, const ss::RunRecord& to); // the difference to - from
    bool isDifference() const { return difference_; }
    // The value at (MoE layer, expert column): % of slots, or points of difference; NaN off the
    // map or where an expert is missing from one run.
    double cell(int layer, int expert) const;
    int layers() const { return layers_; }
    int experts() const { return experts_; }
    int markedDead() const { return dead_; }
    int markedOverloaded() const { return overloaded_; }
    QString describeAt(const QPointF& pos) const; // the hover text at a point in plot pixels
    QCustomPlot* plot() const { return plot_; }

private:
    void clear(const QString& reason);
    void layout(const ss::EvalResult& e, int columns); // axes and ticks
    void setGradient(bool diverging);

    QCustomPlot* plot_;
    QCPColorMap* map_;
    QCPColorScale* scale_;
    QCPTextElement* title_;
    int layers_ = 0, experts_ = 0, dead_ = 0, overloaded_ = 0;
    bool difference_ = false;
    std::vector<QString> layer_names_;
    std::vector<std::vector<int>> ids_; // (layer, column): expert id shown there, -1 for none
};

} // namespace ssui
