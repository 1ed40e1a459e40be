// robustness_chart.h - accuracy under corruption (eval/robustness.h) of the selected runs: on the
// left, accuracy against severity for one corruption (or the mean over all), each run solid and
// the dense model dashed; on the right, the corruption error of each corruption relative to dense
// (CE, 1 = as robust as dense), grouped bars per run.
#pragma once

#include "eval/run_record.h"

#include <QWidget>

#include <vector>

class QComboBox;
class QCustomPlot;
class QCPAxisRect;
class QCPTextElement;
class QLabel;

namespace ssui {

class RobustnessChart : public QWidget {
    Q_OBJECT
public:
    explicit RobustnessChart(QWidget* parent = nullptr);

    // Runs without a robustness result are left out (the note says how many).
    void setRuns(const std::vector<const ss::RunRecord*>& runs);
    QCustomPlot* plot() const { return plot_; }
    QComboBox* corruptionCombo() const { return corruption_; }
    int shownRuns() const { return int(runs_.size()); }
    // The accuracies (%) drawn for run i against severity, as on the left plot.
    std::vector<double> shownAccuracy(int i) const;

private:
    void redraw();
    // Accuracy (%) per severity of `r` for the combo's choice; dense: the dense column.
    std::vector<double> series(const ss::RobustnessResult& r, bool dense) const;

    QCustomPlot* plot_;
    QCPAxisRect* ce_rect_;
    QCPTextElement* title_;
    QComboBox* corruption_;
    QLabel* note_;
    std::vector<const ss::RunRecord*> runs_;
    int without_ = 0; // selected runs without robustness
};

} // namespace ssui
