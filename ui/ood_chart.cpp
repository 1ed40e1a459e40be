// ood_chart.cpp - score histograms and ROC curves (ood_chart.h).
#include "ood_chart.h"

#include "plot_theme.h"

#include <qcustomplot.h>

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include <numeric>

namespace ssui {

OodChart::OodChart(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this)), score_(new QComboBox(this)) {
    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Score:"), this));
    score_->addItem(tr("Max softmax probability"));
    score_->addItem(tr("Energy (log-sum-exp of the logits)"));
    score_->setToolTip(tr("The number a deployment would threshold to refuse inputs unlike its training data"));
    top->addWidget(score_);
    top->addStretch(1);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(top);
    layout->addWidget(plot_, 1);
    plot_->plotLayout()->insertRow(0);
    title_ = new QCPTextElement(plot_, QString(), QFont(font().family(), 10, QFont::Bold));
    plot_->plotLayout()->addElement(0, 0, title_);
    roc_title_ = new QCPTextElement(plot_, tr("ROC"), QFont(font().family(), 10, QFont::Bold));
    plot_->plotLayout()->addElement(0, 1, roc_title_);
    plot_->plotLayout()->addElement(1, 1, roc_rect_ = new QCPAxisRect(plot_));
    plot_->xAxis->setLabel(tr("Score"));
    plot_->yAxis->setLabel(tr("Share of the set"));
    roc_rect_->axis(QCPAxis::atBottom)->setLabel(tr("False-positive rate (OOD accepted)"));
    roc_rect_->axis(QCPAxis::atLeft)->setLabel(tr("True-positive rate (data accepted)"));
    roc_rect_->axis(QCPAxis::atBottom)->setRange(0, 1);
    roc_rect_->axis(QCPAxis::atLeft)->setRange(0, 1);
    plot_->legend->setVisible(true);
    plot_->legend->setBorderPen(Qt::NoPen);
    plot_->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    plot_->legend->setWrap(2);
    auto* legend_cell = new QCPLayoutGrid; // under the plots: it hides no bar and no curve
    plot_->plotLayout()->addElement(2, 0, legend_cell);
    legend_cell->addElement(0, 0, plot_->legend);
    plot_->plotLayout()->setRowStretchFactor(2, 0.001);
    follow_palette(plot_);
    connect(score_, &QComboBox::currentIndexChanged, this, &OodChart::redraw);
    setRun(nullptr);
}

QString OodChart::title() const { return title_->text(); }

void OodChart::setRun(const ss::RunRecord* run) {
    run_ = run ? &copy_ : nullptr;
    if (run) copy_ = *run;
    redraw();
}

void OodChart::redraw() {
    plot_->clearGraphs();
    plot_->clearPlottables();
    if (!run_ || !run_->result.has_ood) {
        title_->setText(run_ ? tr("Run %1 was measured without OOD: check “Robustness and OOD” and Evaluate").arg(run_->id)
                             : tr("Out-of-distribution: select a run"));
        roc_title_->setText(tr("ROC"));
        plot_->replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    const ss::OodEvaluation& o = run_->result.ood;
    const bool energy = score_->currentIndex() == 1;
    const ss::OodResult& r = energy ? o.energy : o.msp;
    const ss::OodResult& d = energy ? o.dense_energy : o.dense_msp;
    title_->setText(tr("Scores: %1 test vs %2 %3").arg(o.in_count).arg(o.out_count).arg(QString::fromStdString(o.set)));
    if (!r.in_hist.empty()) {
        const double width = (r.hist_hi - r.hist_lo) / double(r.in_hist.size());
        const double in_total = std::max(1, std::accumulate(r.in_hist.begin(), r.in_hist.end(), 0));
        const double out_total = std::max(1, std::accumulate(r.out_hist.begin(), r.out_hist.end(), 0));
        QVector<double> x, in, out;
        for (size_t b = 0; b < r.in_hist.size(); ++b) {
            x << r.hist_lo + (double(b) + 0.5) * width;
            in << r.in_hist[b] / in_total;
            out << r.out_hist[b] / out_total;
        }
        auto* bi = new QCPBars(plot_->xAxis, plot_->yAxis);
        bi->setName(tr("test data"));
        bi->setBrush(QColor(31, 119, 180, 140));
        bi->setPen(QPen(QColor(31, 119, 180)));
        bi->setWidth(width);
        bi->setData(x, in);
        auto* bo = new QCPBars(plot_->xAxis, plot_->yAxis);
        bo->setName(tr("OOD (%1)").arg(QString::fromStdString(o.set)));
        bo->setBrush(QColor(255, 127, 14, 140));
        bo->setPen(QPen(QColor(255, 127, 14)));
        bo->setWidth(width);
        bo->setData(x, out);
        plot_->xAxis->setRange(r.hist_lo - width, r.hist_hi + width);
        plot_->yAxis->rescale();
        plot_->yAxis->setRangeLower(0.0);
        plot_->yAxis->setRangeUpper(plot_->yAxis->range().upper * 1.1);
    }
    QCPAxis* rx = roc_rect_->axis(QCPAxis::atBottom);
    QCPAxis* ry = roc_rect_->axis(QCPAxis::atLeft);
    auto curve = [&](const ss::OodResult& res, const QString& name, const QPen& pen) {
        QCPCurve* c = new QCPCurve(rx, ry);
        c->setName(name);
        c->setPen(pen);
        QVector<double> fx(res.roc_fpr.begin(), res.roc_fpr.end()), ty(res.roc_tpr.begin(), res.roc_tpr.end());
        c->setData(fx, ty);
    };
    if (o.has_dense && !d.roc_fpr.empty()) curve(d, tr("dense, AUROC %1").arg(d.auroc, 0, 'f', 3), QPen(QColor(127, 127, 127), 2, Qt::DashLine));
    if (!r.roc_fpr.empty()) curve(r, tr("run %1, AUROC %2").arg(run_->id).arg(r.auroc, 0, 'f', 3), QPen(QColor(31, 119, 180), 2.4));
    QCPGraph* chance = plot_->addGraph(rx, ry);
    chance->setPen(QPen(QColor(150, 150, 150), 1, Qt::DotLine));
    chance->setData({0.0, 1.0}, {0.0, 1.0});
    chance->removeFromLegend();
    roc_title_->setText(tr("ROC, FPR at 95 % TPR %1 %").arg(100.0 * r.fpr95, 0, 'f', 1));
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace ssui
