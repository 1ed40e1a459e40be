// reliability_diagram.cpp - accuracy per confidence bin against the diagonal (reliability_diagram.h).
#include "reliability_diagram.h"

#include "plot_legend.h"
#include "plot_theme.h"

#include <QVBoxLayout>

namespace ssui {

ReliabilityDiagram::ReliabilityDiagram(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(plot_);
    plot_->plotLayout()->insertRow(0);
    title_ = new QCPTextElement(plot_, QString(), QFont(font().family(), 11, QFont::Bold));
    plot_->plotLayout()->addElement(0, 0, title_);
    bars_ = new QCPBars(plot_->xAxis, plot_->yAxis);
    bars_->setName(tr("accuracy, this run"));
    bars_->setBrush(QColor(31, 119, 180, 170));
    bars_->setPen(QPen(QColor(31, 119, 180).darker(130)));
    gap_ = plot_->addGraph();
    gap_->setName(tr("mean confidence"));
    gap_->setLineStyle(QCPGraph::lsNone);
    gap_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssPlus, QColor(214, 39, 40), 9));
    dense_ = plot_->addGraph();
    dense_->setName(tr("accuracy, dense"));
    dense_->setPen(QPen(QColor(127, 127, 127), 1.5));
    dense_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 6));
    diagonal_ = plot_->addGraph();
    diagonal_->setName(tr("calibrated"));
    diagonal_->setPen(QPen(QColor(90, 90, 90), 1.2, Qt::DashLine));
    diagonal_->setData({0.0, 1.0}, {0.0, 1.0});
    plot_->xAxis->setLabel(tr("Confidence (top-class probability)"));
    plot_->yAxis->setLabel(tr("Accuracy"));
    plot_->xAxis->setRange(0.0, 1.0);
    plot_->yAxis->setRange(0.0, 1.0);
    place_legend_below(plot_);
    follow_palette(plot_);
    setRun(nullptr);
}

QString ReliabilityDiagram::title() const { return title_->text(); }

void ReliabilityDiagram::setRun(const ss::RunRecord* run) {
    const bool has = run && run->result.has_comparison && !run->result.comparison.calibration.bins.empty();
    QVector<double> x, acc, conf, dx, dacc;
    if (has) {
        const ss::Comparison& c = run->result.comparison;
        for (const ss::ReliabilityBin& b : c.calibration.bins) {
            if (b.count == 0) continue;
            x << (b.lower + b.upper) / 2;
            acc << b.accuracy;
            conf << b.mean_confidence;
        }
        for (const ss::ReliabilityBin& b : c.dense_calibration.bins) {
            if (b.count == 0) continue;
            dx << (b.lower + b.upper) / 2;
            dacc << b.accuracy;
        }
        bars_->setWidth(c.calibration.bins.empty() ? 0.06 : 0.9 / double(c.calibration.bins.size()));
        title_->setText(c.dense_calibration.bins.empty()
                            ? tr("Reliability: run %1, ECE %2 %").arg(run->id).arg(100.0 * c.calibration.ece, 0, 'f', 2)
                            : tr("Reliability: run %1, ECE %2 % (dense %3 %)")
                                  .arg(run->id)
                                  .arg(100.0 * c.calibration.ece, 0, 'f', 2)
                                  .arg(100.0 * c.dense_calibration.ece, 0, 'f', 2));
    } else {
        title_->setText(run ? tr("Reliability: run %1 has no calibration (measured against dense from this version on)").arg(run->id)
                            : tr("Reliability: select a run"));
    }
    bars_->setData(x, acc);
    gap_->setData(x, conf);
    dense_->setData(dx, dacc);
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace ssui
