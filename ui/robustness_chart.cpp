// robustness_chart.cpp - accuracy against severity and CE bars (robustness_chart.h).
#include "robustness_chart.h"

#include "plot_theme.h"

#include "data/corruptions.h"

#include <qcustomplot.h>

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace ssui {

namespace {
// Tableau 10, as the other charts color runs.
const QColor kRunColors[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40}, {148, 103, 189},
                             {140, 86, 75}, {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
QString run_name(const ss::RunRecord& r) {
    return QObject::tr("run %1: %2").arg(r.id).arg(QString::fromStdString(r.plan.summary()));
}
} // namespace

RobustnessChart::RobustnessChart(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this)), corruption_(new QComboBox(this)), note_(new QLabel(this)) {
    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Corruption:"), this));
    corruption_->addItem(tr("Mean over all corruptions"), QString());
    for (ss::Corruption c : ss::kAllCorruptions) corruption_->addItem(QString::fromLatin1(ss::corruption_name(c)), QString::fromLatin1(ss::corruption_name(c)));
    corruption_->setToolTip(tr("Which corruption the left plot shows; the bars on the right show every one"));
    top->addWidget(corruption_);
    top->addWidget(note_, 1);
    note_->setWordWrap(true);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(top);
    layout->addWidget(plot_, 1);

    // Row 0: titles; row 1: accuracy against severity | CE per corruption (horizontal bars, the
    // names readable at any width); row 2: the legend, under the left plot.
    plot_->plotLayout()->insertRow(0);
    const QFont title_font(font().family(), 10, QFont::Bold);
    title_ = new QCPTextElement(plot_, tr("Accuracy against severity"), title_font);
    plot_->plotLayout()->addElement(0, 0, title_);
    plot_->plotLayout()->addElement(0, 1, new QCPTextElement(plot_, tr("Corruption error (CE) vs dense"), title_font));
    plot_->plotLayout()->addElement(1, 1, ce_rect_ = new QCPAxisRect(plot_));
    plot_->plotLayout()->setColumnStretchFactor(0, 1.2);
    plot_->axisRect()->axis(QCPAxis::atBottom)->setLabel(tr("Severity"));
    plot_->axisRect()->axis(QCPAxis::atLeft)->setLabel(tr("Accuracy (%)"));
    ce_rect_->axis(QCPAxis::atBottom)->setLabel(tr("CE (1 = dense)"));
    ce_rect_->axis(QCPAxis::atLeft)->setRangeReversed(true); // the first corruption on top
    plot_->legend->setVisible(true);
    plot_->legend->setBorderPen(Qt::NoPen);
    plot_->legend->setFillOrder(QCPLayoutGrid::foRowsFirst);
    auto* legend_cell = new QCPLayoutGrid;
    plot_->plotLayout()->addElement(2, 0, legend_cell);
    legend_cell->addElement(0, 0, plot_->legend); // moved out of the axis rect: it hides no point
    plot_->plotLayout()->setRowStretchFactor(2, 0.001);
    follow_palette(plot_);
    connect(corruption_, &QComboBox::currentIndexChanged, this, &RobustnessChart::redraw);
    setRuns({});
}

void RobustnessChart::setRuns(const std::vector<const ss::RunRecord*>& runs) {
    runs_.clear();
    without_ = 0;
    for (const ss::RunRecord* r : runs) {
        if (r && r->result.has_robustness && !r->result.robustness.cells.empty()) runs_.push_back(r);
        else if (r) ++without_;
    }
    redraw();
}

std::vector<double> RobustnessChart::series(const ss::RobustnessResult& r, bool dense) const {
    const QString name = corruption_->currentData().toString();
    std::vector<int> severities;
    for (const ss::CorruptionCell& c : r.cells)
        if (c.corruption == r.cells.front().corruption) severities.push_back(c.severity);
    std::vector<double> sum(severities.size(), 0.0);
    std::vector<int> n(severities.size(), 0);
    for (size_t i = 0; i < r.cells.size(); ++i) {
        const ss::CorruptionCell& c = r.cells[i];
        if (!name.isEmpty() && name != QLatin1String(ss::corruption_name(c.corruption))) continue;
        const double v = dense ? c.dense_accuracy : c.accuracy;
        if (std::isnan(v)) continue;
        sum[i % severities.size()] += 100.0 * v;
        ++n[i % severities.size()];
    }
    std::vector<double> out(severities.size(), std::nan(""));
    for (size_t s = 0; s < out.size(); ++s)
        if (n[s]) out[s] = sum[s] / n[s];
    return out;
}

std::vector<double> RobustnessChart::shownAccuracy(int i) const {
    return i >= 0 && i < int(runs_.size()) ? series(runs_[size_t(i)]->result.robustness, false) : std::vector<double>{};
}

void RobustnessChart::redraw() {
    plot_->clearGraphs();
    plot_->clearPlottables();
    QCPAxis* x = plot_->axisRect()->axis(QCPAxis::atBottom);
    QCPAxis* y = plot_->axisRect()->axis(QCPAxis::atLeft);
    QCPAxis* cx = ce_rect_->axis(QCPAxis::atBottom);
    QCPAxis* cy = ce_rect_->axis(QCPAxis::atLeft);
    if (runs_.empty()) {
        note_->setText(without_ ? tr("The selected run was measured without robustness. Check “Robustness and OOD” and press Evaluate.")
                                : tr("No run with robustness yet: check “Robustness and OOD” in the Compression panel and press Evaluate."));
        plot_->replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    const ss::RobustnessResult& first = runs_.front()->result.robustness;
    QString mce;
    for (const ss::RunRecord* r : runs_)
        if (std::isfinite(r->result.robustness.mce)) mce += tr("%1run %2 mCE %3").arg(mce.isEmpty() ? QString() : QStringLiteral(", ")).arg(r->id).arg(r->result.robustness.mce, 0, 'f', 3);
    note_->setText(tr("%1. First %2 samples, corrupted (seeded); dashed: the dense model.%3")
                       .arg(mce.isEmpty() ? tr("No dense comparison") : mce)
                       .arg(first.samples)
                       .arg(without_ ? tr(" %1 selected run(s) without robustness left out.").arg(without_) : QString()));
    std::vector<int> severities;
    for (const ss::CorruptionCell& c : first.cells)
        if (c.corruption == first.cells.front().corruption) severities.push_back(c.severity);
    auto xs = [&](const ss::RobustnessResult& r) {
        QVector<double> v;
        for (const ss::CorruptionCell& c : r.cells)
            if (c.corruption == r.cells.front().corruption) v << c.severity;
        return v;
    };
    // Dense once (it is the same model on the same samples for every run of one model).
    const std::vector<double> dense = series(first, true);
    if (std::any_of(dense.begin(), dense.end(), [](double v) { return !std::isnan(v); })) {
        QCPGraph* g = plot_->addGraph(x, y);
        g->setName(tr("dense"));
        g->setPen(QPen(palette().color(QPalette::WindowText), 2, Qt::DashLine));
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 6));
        g->setData(xs(first), QVector<double>(dense.begin(), dense.end()));
    }
    for (size_t i = 0; i < runs_.size(); ++i) {
        const std::vector<double> acc = series(runs_[i]->result.robustness, false);
        QCPGraph* g = plot_->addGraph(x, y);
        g->setName(run_name(*runs_[i]));
        g->setPen(QPen(kRunColors[i % 10], 2.2));
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 7));
        g->setData(xs(runs_[i]->result.robustness), QVector<double>(acc.begin(), acc.end()));
    }
    x->setRange(severities.front() - 0.4, severities.back() + 0.4);
    auto ticker = QSharedPointer<QCPAxisTickerFixed>::create();
    ticker->setTickStep(1.0);
    x->setTicker(ticker);
    double lo = 100.0, hi = 0.0; // every drawn value, with a margin
    for (int i = 0; i < plot_->graphCount(); ++i)
        for (auto it = plot_->graph(i)->data()->constBegin(); it != plot_->graph(i)->data()->constEnd(); ++it)
            if (std::isfinite(it->value)) {
                lo = std::min(lo, it->value);
                hi = std::max(hi, it->value);
            }
    y->setRange(std::max(0.0, lo - 5.0), std::min(100.0, hi + 5.0));

    // CE bars: corruption on x, one bar per run.
    QVector<double> ticks;
    QVector<QString> names;
    for (size_t k = 0; k < first.ce.size(); ++k) {
        ticks << double(k);
        names << QString::fromLatin1(ss::corruption_name(first.cells[k * severities.size()].corruption));
    }
    auto text = QSharedPointer<QCPAxisTickerText>::create();
    text->addTicks(ticks, names);
    cy->setTicker(text);
    auto* group = new QCPBarsGroup(plot_);
    double top = 1.2;
    for (size_t i = 0; i < runs_.size(); ++i) {
        const ss::RobustnessResult& r = runs_[i]->result.robustness;
        if (r.ce.size() != first.ce.size()) continue;
        auto* bars = new QCPBars(cy, cx); // key: the corruption (left), value: CE (bottom)
        bars->setName(tr("CE, run %1 (mCE %2)").arg(runs_[i]->id).arg(r.mce, 0, 'f', 2));
        bars->setBrush(kRunColors[i % 10]);
        bars->setPen(QPen(kRunColors[i % 10].darker(130)));
        bars->setWidth(0.8 / double(runs_.size()));
        bars->setBarsGroup(group);
        QVector<double> v;
        for (double ce : r.ce) {
            v << (std::isfinite(ce) ? ce : 0.0);
            if (std::isfinite(ce)) top = std::max(top, ce * 1.1);
        }
        bars->setData(ticks, v);
        bars->removeFromLegend(); // the left plot's legend names the runs
    }
    QCPGraph* one = plot_->addGraph(cy, cx); // CE = 1: as robust as dense
    one->setPen(QPen(palette().color(QPalette::WindowText), 1.2, Qt::DashLine));
    one->setData({-1.0, double(first.ce.size())}, {1.0, 1.0});
    one->removeFromLegend();
    cy->setRange(-0.6, double(first.ce.size()) - 0.4);
    cx->setRange(0.0, top);
    title_->setText(corruption_->currentIndex() == 0 ? tr("Accuracy against severity, mean of %1 corruptions").arg(first.ce.size())
                                                     : tr("Accuracy against severity: %1").arg(corruption_->currentText()));
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace ssui
