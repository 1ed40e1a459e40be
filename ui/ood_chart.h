// ood_chart.h - out-of-distribution separation of one run (eval/ood_eval.h): the score histograms
// of the evaluation data and of the OOD samples (left; the share of each set per bin) and the ROC
// curves of the compressed and the dense model (right), for the max-softmax or the energy score.
#pragma once

#include "eval/run_record.h"

#include <QWidget>

class QComboBox;
class QCustomPlot;
class QCPAxisRect;
class QCPTextElement;

namespace ssui {

class OodChart : public QWidget {
    Q_OBJECT
public:
    explicit OodChart(QWidget* parent = nullptr);
    void setRun(const ss::RunRecord* run);
    QCustomPlot* plot() const { return plot_; }
    QComboBox* scoreCombo() const { return score_; }
    QString title() const;

private:
    void redraw();
    QCustomPlot* plot_;
    QCPAxisRect* roc_rect_;
    QCPTextElement* title_;
    QCPTextElement* roc_title_;
    QComboBox* score_;
    const ss::RunRecord* run_ = nullptr;
    ss::RunRecord copy_; // the run shown (the table's record may move)
};

} // namespace ssui
