// accuracy_latency_plot.cpp
#include "accuracy_latency_plot.h"

#include "plot_legend.h"

#include <qcustomplot.h>

#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace ssui {

namespace {
QCPGraph* make_scatter(QCustomPlot* p, const QString& name, QColor color, QCPScatterStyle::ScatterShape shape, double size) {
    QCPGraph* g = p->addGraph();
    g->setName(name);
    g->setLineStyle(QCPGraph::lsNone);
    g->setScatterStyle(QCPScatterStyle(shape, color, color.lighter(150), size));
    g->setPen(QPen(color));
    return g;
}
} // namespace

AccuracyLatencyPlot::AccuracyLatencyPlot(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(plot_);
    plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom | QCP::iSelectPlottables);
    plot_->xAxis->setLabel(tr("Latency p50, batch 1 (ms)"));
    plot_->yAxis->setLabel(tr("Top-1 accuracy (%)"));
    plot_->plotLayout()->insertRow(0);
    plot_->plotLayout()->addElement(0, 0, new QCPTextElement(plot_, tr("Accuracy vs latency"), QFont(font().family(), 11, QFont::Bold)));
    fp32_ = make_scatter(plot_, tr("fp32 weights"), QColor(31, 119, 180), QCPScatterStyle::ssDisc, 9);
    int8_ = make_scatter(plot_, tr("int8 weights"), QColor(214, 39, 40), QCPScatterStyle::ssSquare, 9);
    selected_ = make_scatter(plot_, tr("selected run"), QColor(20, 20, 20), QCPScatterStyle::ssCircle, 17);
    QCPScatterStyle sel(QCPScatterStyle::ssCircle, QPen(Qt::black, 2), Qt::NoBrush, 17);
    selected_->setScatterStyle(sel);
    place_legend_below(plot_);
    plot_->xAxis->setRange(0, 1);
    plot_->yAxis->setRange(0, 100);
    connect(plot_, &QCustomPlot::plottableClick, this, [this](QCPAbstractPlottable* p, int dataIndex, QMouseEvent*) {
        // Graph data is sorted by latency; the row maps remember which run each point is.
        const std::vector<int>* rows = p == fp32_ ? &fp32_rows_ : p == int8_ ? &int8_rows_ : nullptr;
        if (rows && dataIndex >= 0 && dataIndex < int(rows->size())) emit runClicked((*rows)[size_t(dataIndex)]);
    });
}

void AccuracyLatencyPlot::setRuns(const std::vector<ss::RunRecord>& runs) {
    runs_ = runs;
    std::vector<int> order(runs_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = int(i);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
        return runs_[size_t(a)].result.latency_p50_ms < runs_[size_t(b)].result.latency_p50_ms;
    });
    QVector<double> fx, fy, qx, qy;
    fp32_rows_.clear();
    int8_rows_.clear();
    double max_x = 0.0, min_y = 100.0, max_y = 0.0;
    for (int row : order) {
        const auto& r = runs_[size_t(row)];
        const double x = r.result.latency_p50_ms, y = 100.0 * r.result.accuracy;
        const bool int8 = r.spec.quant == ss::QuantKind::Int8;
        (int8 ? qx : fx).push_back(x);
        (int8 ? qy : fy).push_back(y);
        (int8 ? int8_rows_ : fp32_rows_).push_back(row);
        max_x = std::max(max_x, x);
        min_y = std::min(min_y, y);
        max_y = std::max(max_y, y);
    }
    fp32_->setData(fx, fy, true);
    int8_->setData(qx, qy, true);
    if (!runs_.empty()) {
        plot_->xAxis->setRange(0, max_x * 1.15 + 1e-3);
        const double pad = std::max(1.0, (max_y - min_y) * 0.15);
        plot_->yAxis->setRange(std::max(0.0, min_y - pad), std::min(100.0, max_y + pad));
    }
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void AccuracyLatencyPlot::setSelectedRun(int row) {
    if (row < 0 || row >= int(runs_.size())) {
        selected_->data()->clear();
    } else {
        const auto& r = runs_[size_t(row)];
        selected_->setData({r.result.latency_p50_ms}, {100.0 * r.result.accuracy});
    }
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

int AccuracyLatencyPlot::pointCount() const { return fp32_->dataCount() + int8_->dataCount(); }

} // namespace ssui
