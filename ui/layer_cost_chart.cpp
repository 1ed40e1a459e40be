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
    time_->setName(tr("batch-1 time (µs, left)"));
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
    plot_->yAxis->setLabel(tr("µs per batch-1 forward"));
    plot_->yAxis2->setLabel(tr("KiB kept in memory"));
    plot_->xAxis->grid()->setVisible(false);
    plot_->xAxis->setTickLabelRotation(-30);
    place_legend_below(plot_);
    follow_palette(plot_);
    setRun(nullptr);
}

void LayerCostChart::setRun(const ss::RunRecord* run) {
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
    else if (keys.isEmpty()) title_->setText(tr("Per layer — run %1 has no per-layer profile (not kept in sessions yet)").arg(run->id));
    else title_->setText(tr("Per layer — run %1: %2 µs per batch-1 forward").arg(run->id).arg(total_us, 0, 'f', 1));
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

int LayerCostChart::layerCount() const { return time_->dataCount(); }

} // namespace ssui
