// reliability_diagram.h - calibration of one run (eval/confidence_calibration.h): per bin of the
// top-class probability, the accuracy reached (bars, the compressed model; dots, dense) against the
// diagonal a calibrated model would follow; the title gives both ECEs.
#pragma once

#include "eval/run_record.h"

#include <QWidget>

class QCustomPlot;
class QCPBars;
class QCPGraph;
class QCPTextElement;

namespace ssui {

class ReliabilityDiagram : public QWidget {
    Q_OBJECT
public:
    explicit ReliabilityDiagram(QWidget* parent = nullptr);
    void setRun(const ss::RunRecord* run); // null or a run without calibration bins: empty, with a hint
    QCustomPlot* plot() const { return plot_; }
    QString title() const;

private:
    QCustomPlot* plot_;
    QCPBars* bars_;
    QCPGraph* gap_;
    QCPGraph* dense_;
    QCPGraph* diagonal_;
    QCPTextElement* title_;
};

} // namespace ssui
