// layer_cost_chart.cpp
#include "layer_cost_chart.h"

#include "plot_legend.h"
#include "plot_theme.h"

#include <qcustomplot.h>

#include <QVBoxLayout>

#include <algorithm>

namespace ssui {

LayerCostChart::LayerCostChart(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(plot_);
    plot_->plotLayout()->insertRow(0);
    title_ = new QCPTextElement(plot_, tr("Per layer"), QFont(font().family(), 11, QFont::Bold));
    plot_->plotLayout()->addElement(0, 0, title_);
    time_ = new QCPBars(plot_->xAxis, plot_->yAxis);
    time_->setName(tr("batch-1 time, mean (µs, left)"));
    time_->setPen(QPen(QColor(31, 119, 180).darker(130)));
    time_->setBrush(QColor(31, 119, 180, 180));
    bytes_ = new QCPBars(plot_->xAxis, plot_->yAxis2);
    bytes_->setName(tr("resident weights (KiB, right)"));
    bytes_->setPen(QPen(QColor(255, 127, 14).darker(130)));
    bytes_->setBrush(QColor(255, 127, 14, 160));
    auto* group = new QCPBarsGroup(plot_);
    group->append(time_);
    group->append(bytes_);
    time_->setWidth(0.38);
    bytes_->setWidth(0.38);
    plot_->yAxis2->setVisible(true);
    plot_->yAxis->setLabel(tr("mean µs per batch-1 forward"));
    plot_->yAxis2->setLabel(tr("KiB kept in memory"));
    plot_->xAxis->grid()->setVisible(false);
    plot_->xAxis->setTickLabelRotation(-30);
    place_legend_below(plot_);
    follow_palette(plot_);
    setRun(nullptr);
}

void LayerCostChart::clearStacked() {
    for (QCPBars* b : stacked_) plot_->removePlottable(b);
    stacked_.clear();
    stacked_runs_ = 0;
}

void LayerCostChart::setRuns(const std::vector<const ss::RunRecord*>& runs) {
    if (runs.size() < 2) return setRun(runs.empty() ? nullptr : runs.front());
    clearStacked();
    time_->data()->clear();
    bytes_->data()->clear();
    time_->removeFromLegend();
    bytes_->removeFromLegend();
    plot_->yAxis2->setVisible(false);
    // Layer names in model order, across the runs (runs of one model share them).
    std::vector<std::string> names;
    for (const ss::RunRecord* r : runs)
        for (const auto& c : r->result.layers)
            if (std::find(names.begin(), names.end(), c.name) == names.end()) names.push_back(c.name);
    static const QColor palette[] = {QColor(31, 119, 180), QColor(255, 127, 14), QColor(44, 160, 44), QColor(214, 39, 40),
                                     QColor(148, 103, 189), QColor(140, 86, 75), QColor(227, 119, 194), QColor(127, 127, 127),
                                     QColor(188, 189, 34), QColor(23, 190, 207)};
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    double max_total = 1.0;
    for (size_t i = 0; i < runs.size(); ++i) {
        double total = 0.0;
        int64_t bytes = 0;
        for (const auto& c : runs[i]->result.layers) {
            total += c.batch1_us;
            bytes += c.resident_bytes;
        }
        max_total = std::max(max_total, total);
        ticker->addTick(double(i), tr("run %1\n%2 µs, %3 KiB").arg(runs[i]->id).arg(total, 0, 'f', 1).arg(double(bytes) / 1024.0, 0, 'f', 0));
    }
    QCPBars* below = nullptr;
    for (size_t n = 0; n < names.size(); ++n) {
        auto* bars = new QCPBars(plot_->xAxis, plot_->yAxis);
        bars->setName(QString::fromStdString(names[n]));
        const QColor c = palette[n % (sizeof palette / sizeof palette[0])];
        bars->setPen(QPen(c.darker(130)));
        bars->setBrush(QColor(c.red(), c.green(), c.blue(), 190));
        bars->setWidth(0.6);
        QVector<double> keys, values;
        for (size_t i = 0; i < runs.size(); ++i) {
            double us = 0.0;
            for (const auto& l : runs[i]->result.layers)
                if (l.name == names[n]) us += l.batch1_us;
            keys.push_back(double(i));
            values.push_back(us);
        }
        bars->setData(keys, values, true);
        if (below) bars->moveAbove(below);
        below = bars;
        stacked_.push_back(bars);
    }
    stacked_runs_ = int(runs.size());
    plot_->xAxis->setTicker(ticker);
    plot_->xAxis->setTickLabelRotation(0);
    plot_->xAxis->setRange(-0.6, double(runs.size()) - 0.4);
    plot_->yAxis->setRange(0, max_total * 1.15);
    title_->setText(names.empty() ? tr("Per layer — the compared runs\nhave no per-layer profile")
                                  : tr("Batch-1 time per layer, stacked — %n runs", nullptr, int(runs.size())));
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void LayerCostChart::setRun(const ss::RunRecord* run) {
    clearStacked();
    time_->addToLegend();
    bytes_->addToLegend();
    plot_->yAxis2->setVisible(true);
    plot_->xAxis->setTickLabelRotation(-30);
    QVector<double> keys, us, kib;
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    double max_us = 1.0, max_kib = 1.0, total_us = 0.0;
    if (run)
        for (size_t i = 0; i < run->result.layers.size(); ++i) {
            const ss::LayerCost& c = run->result.layers[i];
            keys.push_back(double(i));
            us.push_back(c.batch1_us);
            kib.push_back(double(c.resident_bytes) / 1024.0);
            ticker->addTick(double(i), QString::fromStdString(c.name));
            max_us = std::max(max_us, c.batch1_us);
            max_kib = std::max(max_kib, double(c.resident_bytes) / 1024.0);
            total_us += c.batch1_us;
        }
    time_->setData(keys, us, true);
    bytes_->setData(keys, kib, true);
    plot_->xAxis->setTicker(ticker);
    plot_->xAxis->setRange(-0.6, std::max<double>(1.0, double(keys.size())) - 0.4);
    plot_->yAxis->setRange(0, max_us * 1.15);
    plot_->yAxis2->setRange(0, max_kib * 1.15);
    if (!run) title_->setText(tr("Per layer — no run selected"));
    else if (keys.isEmpty()) title_->setText(tr("Per layer — run %1 has no per-layer profile\n(sessions before schema 6 did not keep one)").arg(run->id));
    else
        title_->setText(tr("Run %1 per layer: %2 µs in all (sum of means)\nwhole forwards, p50: %3 µs")
                            .arg(run->id)
                            .arg(total_us, 0, 'f', 1)
                            .arg(1e3 * run->result.latency_p50_ms, 0, 'f', 1));
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

int LayerCostChart::layerCount() const { return time_->dataCount(); }

} // namespace ssui
