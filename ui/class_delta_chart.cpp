// class_delta_chart.cpp
#include "class_delta_chart.h"

#include "plot_legend.h"
#include "plot_theme.h"
#include "eval/run_delta.h"

#include <qcustomplot.h>

#include <QToolTip>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace ssui {

ClassDeltaChart::ClassDeltaChart(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(plot_);
    plot_->plotLayout()->insertRow(0);
    title_ = new QCPTextElement(plot_, tr("Per-class change"), QFont(font().family(), 11, QFont::Bold));
    plot_->plotLayout()->addElement(0, 0, title_);
    ok_ = new QCPBars(plot_->xAxis, plot_->yAxis);
    ok_->setName(tr("change vs dense"));
    ok_->setPen(QPen(QColor(31, 119, 180).darker(130)));
    ok_->setBrush(QColor(31, 119, 180, 170));
    regressed_ = new QCPBars(plot_->xAxis, plot_->yAxis);
    regressed_->setPen(QPen(QColor(200, 40, 40).darker(130)));
    regressed_->setBrush(QColor(214, 39, 40, 200));
    ok_->setWidth(0.7);
    regressed_->setWidth(0.7);
    group_ = new QCPBarsGroup(plot_);
    limit_ = plot_->addGraph();
    limit_->setPen(QPen(QColor(200, 40, 40), 1.2, Qt::DashLine));
    place_legend_below(plot_);
    follow_palette(plot_);
    plot_->xAxis->setTickLabelRotation(-30);
    plot_->xAxis->grid()->setVisible(false);
    plot_->yAxis->setLabel(tr("Accuracy change (points)"));
    plot_->yAxis->grid()->setZeroLinePen(QPen(Qt::black, 1));
    connect(plot_, &QCustomPlot::mouseMove, this, [this](QMouseEvent* ev) {
        const int c = int(std::lround(plot_->xAxis->pixelToCoord(ev->position().x())));
        QStringList lines;
        auto line = [&](const QString& who, const std::vector<double>& d) {
            if (c >= 0 && c < int(d.size()) && !std::isnan(d[size_t(c)])) lines << tr("%1: %2 points").arg(who).arg(d[size_t(c)], 0, 'f', 2);
        };
        if (compare_delta_.empty()) line(tr("change vs %1").arg(against_), delta_);
        for (size_t i = 0; i < compare_delta_.size(); ++i) line(compare_names_[i], compare_delta_[i]);
        if (lines.isEmpty()) return QToolTip::hideText();
        const QString cls = c < int(labels_.size()) ? QString::fromStdString(labels_[size_t(c)]) : QString::number(c);
        QToolTip::showText(ev->globalPosition().toPoint(), cls + QLatin1Char('\n') + lines.join(QLatin1Char('\n')), plot_);
    });
    setRun(nullptr, {});
}

namespace {
// Per-class change of `run` in points against `base`, or against the dense model without one;
// empty when there is nothing to compare with.
std::vector<double> class_points(const ss::RunRecord& run, const ss::RunRecord* base) {
    if (base) return ss::run_delta(run, *base).per_class_points;
    std::vector<double> d;
    if (run.result.has_comparison)
        for (double v : run.result.comparison.per_class_delta) d.push_back(100.0 * v);
    return d;
}
} // namespace

void ClassDeltaChart::setRuns(const std::vector<const ss::RunRecord*>& runs, const std::vector<std::string>& labels,
                              const ss::RunRecord* base) {
    if (runs.size() < 2) return setRun(runs.empty() ? nullptr : runs.front(), labels, base);
    delta_.clear();
    labels_ = labels;
    compare_delta_.clear();
    compare_names_.clear();
    for (const ss::RunRecord* r : runs) {
        std::vector<double> d = class_points(*r, base);
        if (d.empty()) continue;
        compare_delta_.push_back(std::move(d));
        compare_names_.push_back(tr("run %1").arg(r->id));
    }
    QStringList ids;
    for (const QString& n : compare_names_) ids << n.section(QLatin1Char(' '), 1);
    against_ = base ? tr("run %1").arg(base->id) : tr("dense");
    run_title_ = tr("Per-class change vs %1 — runs %2").arg(against_, ids.join(QStringLiteral(", ")));
    redraw();
}

void ClassDeltaChart::setRun(const ss::RunRecord* run, const std::vector<std::string>& labels, const ss::RunRecord* base) {
    compare_delta_.clear();
    compare_names_.clear();
    delta_.clear();
    labels_ = labels;
    against_ = base ? tr("run %1").arg(base->id) : tr("dense");
    if (!run) {
        run_title_ = tr("Per-class change — no run selected");
    } else if (base && base->id == run->id) {
        run_title_ = tr("Per-class change — run %1 is the baseline; select another run").arg(run->id);
    } else {
        delta_ = class_points(*run, base);
        run_title_ = delta_.empty() ? tr("Per-class change — run %1 has no dense comparison").arg(run->id)
                                    : tr("Per-class change vs %1 — run %2").arg(against_).arg(run->id);
    }
    ok_->setName(tr("change vs %1").arg(against_));
    redraw();
}

void ClassDeltaChart::setThreshold(double points) {
    threshold_ = std::max(0.0, points);
    redraw();
}

int ClassDeltaChart::regressionCount() const { return regressed_->dataCount(); }

void ClassDeltaChart::redraw() {
    for (QCPBars* b : compare_) {
        group_->remove(b);
        plot_->removePlottable(b);
    }
    compare_.clear();
    QVector<double> ok_k, ok_v, bad_k, bad_v;
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    double lo = -threshold_, hi = 0.5;
    if (!compare_delta_.empty()) { // comparing: one bar set per run
        static const QColor colors[] = {QColor(31, 119, 180), QColor(255, 127, 14), QColor(44, 160, 44), QColor(148, 103, 189),
                                        QColor(140, 86, 75), QColor(227, 119, 194)};
        size_t classes = 0;
        int regressions = 0;
        for (size_t i = 0; i < compare_delta_.size(); ++i) {
            auto* bars = new QCPBars(plot_->xAxis, plot_->yAxis);
            const QColor c = colors[i % 6];
            bars->setName(compare_names_[i]);
            bars->setBrush(QColor(c.red(), c.green(), c.blue(), 190));
            bars->setPen(QPen(c.darker(130)));
            bars->setWidth(0.8 / double(compare_delta_.size()));
            group_->append(bars);
            QVector<double> k, v;
            for (size_t cl = 0; cl < compare_delta_[i].size(); ++cl) {
                if (std::isnan(compare_delta_[i][cl])) continue;
                k.push_back(double(cl));
                v.push_back(compare_delta_[i][cl]);
                regressions += compare_delta_[i][cl] < -threshold_;
                lo = std::min(lo, compare_delta_[i][cl]);
                hi = std::max(hi, compare_delta_[i][cl]);
            }
            bars->setData(k, v, true);
            compare_.push_back(bars);
            classes = std::max(classes, compare_delta_[i].size());
        }
        for (size_t cl = 0; cl < classes; ++cl)
            ticker->addTick(double(cl), cl < labels_.size() ? QString::fromStdString(labels_[cl]) : QString::number(cl));
        ok_->data()->clear();
        regressed_->data()->clear();
        ok_->removeFromLegend();
        regressed_->removeFromLegend();
        const double n = double(std::max<size_t>(1, classes));
        limit_->setName(tr("threshold −%1 pt").arg(threshold_, 0, 'g', 3));
        limit_->setData({-0.6, n - 0.4}, {-threshold_, -threshold_}, true);
        plot_->xAxis->setTicker(ticker);
        plot_->xAxis->setRange(-0.6, n - 0.4);
        const double pad = std::max(0.5, 0.1 * (hi - lo));
        plot_->yAxis->setRange(lo - pad, hi + pad);
        title_->setText(run_title_ + (regressions == 1 ? tr(" (1 regression)") : tr(" (%1 regressions)").arg(regressions)));
        plot_->replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    ok_->addToLegend();
    regressed_->addToLegend();
    for (size_t c = 0; c < delta_.size(); ++c) {
        ticker->addTick(double(c), c < labels_.size() ? QString::fromStdString(labels_[c]) : QString::number(c));
        if (std::isnan(delta_[c])) continue;
        (delta_[c] < -threshold_ ? bad_k : ok_k).push_back(double(c));
        (delta_[c] < -threshold_ ? bad_v : ok_v).push_back(delta_[c]);
        lo = std::min(lo, delta_[c]);
        hi = std::max(hi, delta_[c]);
    }
    ok_->setData(ok_k, ok_v, true);
    regressed_->setData(bad_k, bad_v, true);
    regressed_->setName(tr("regression: more than %1 pt lost").arg(threshold_, 0, 'g', 3));
    limit_->setName(tr("threshold −%1 pt").arg(threshold_, 0, 'g', 3));
    const double n = double(std::max<size_t>(1, delta_.size()));
    limit_->setData({-0.6, n - 0.4}, {-threshold_, -threshold_}, true);
    plot_->xAxis->setTicker(ticker);
    plot_->xAxis->setRange(-0.6, n - 0.4);
    const double pad = std::max(0.5, 0.1 * (hi - lo));
    plot_->yAxis->setRange(lo - pad, hi + pad);
    title_->setText(delta_.empty() ? run_title_ : run_title_ + (bad_k.size() == 1 ? tr(" (1 regression)") : tr(" (%1 regressions)").arg(bad_k.size())));
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace ssui
