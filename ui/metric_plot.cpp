// metric_plot.cpp
#include "metric_plot.h"
#include "run_list_model.h"

#include "accuracy_latency_plot.h"
#include "plot_legend.h"
#include "plot_theme.h"

#include <qcustomplot.h>

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>

namespace ssui {

QString MetricPlot::metricName(Metric m) {
    switch (m) {
    case Accuracy: return tr("Top-1 accuracy (%)");
    case AccuracyDelta: return tr("Accuracy change vs dense (points)");
    case Agreement: return tr("Top-1 agreement with dense (%)");
    case MeanKl: return tr("Mean KL(dense ‖ run)");
    case Sparsity: return tr("Measured sparsity (%)");
    case LatencyP50: return tr("Latency p50, batch 1 (ms)");
    case LatencyP95: return tr("Latency p95, batch 1 (ms)");
    case Throughput: return tr("Throughput (samples/s)");
    case ThroughputRatio: return tr("Throughput vs dense (×)");
    case LatencyRatio: return tr("Batch-1 speed vs dense (×)");
    case WeightMB: return tr("Weights (MB)");
    case Perplexity: return tr("Perplexity");
    case PerplexityRatio: return tr("Perplexity vs dense (×)");
    case KlP99: return tr("KL(dense ‖ run), 99th percentile");
    case PromptTps: return tr("Prompt tokens/s");
    case GenTps: return tr("Generation tokens/s");
    case MetricCount: break;
    }
    return {};
}

double MetricPlot::value(const ss::RunRecord& run, Metric m) {
    const ss::EvalResult& e = run.result;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const bool cmp = e.has_comparison, lm = e.task == ss::EvalTask::LanguageModeling;
    auto metric = [&](const char* k) { return lm && e.metrics.count(k) ? e.metrics.at(k) : nan; };
    switch (m) {
    case Accuracy: return 100.0 * e.accuracy;
    case AccuracyDelta: return cmp && !lm ? 100.0 * e.comparison.accuracy_delta : nan;
    case Agreement: return cmp ? 100.0 * e.comparison.agreement : nan;
    case MeanKl: return cmp ? e.comparison.mean_kl : nan;
    case Sparsity: return 100.0 * e.sparsity;
    case LatencyP50: return e.latency_p50_ms;
    case LatencyP95: return e.latency_p95_ms;
    case Throughput: return lm ? nan : e.throughput_sps;
    case ThroughputRatio: return cmp && e.comparison.throughput_ratio > 0 ? e.comparison.throughput_ratio : nan;
    case LatencyRatio: return cmp && e.comparison.latency_ratio > 0 ? e.comparison.latency_ratio : nan;
    case WeightMB: return double(e.weight_bytes) / 1e6;
    case Perplexity: return metric("perplexity");
    case PerplexityRatio: return cmp ? metric("ppl_ratio") : nan;
    case KlP99: return cmp ? metric("kld_p99") : nan;
    case PromptTps: return metric("prompt_tps");
    case GenTps: return metric("gen_tps");
    case MetricCount: break;
    }
    return nan;
}

MetricPlot::MetricPlot(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this)), x_(new QComboBox), y_(new QComboBox) {
    for (int m = 0; m < MetricCount; ++m) {
        x_->addItem(metricName(Metric(m)), m);
        y_->addItem(metricName(Metric(m)), m);
    }
    auto* choosers = new QHBoxLayout;
    choosers->addWidget(new QLabel(tr("y:")));
    choosers->addWidget(y_, 1);
    choosers->addWidget(new QLabel(tr("against x:")));
    choosers->addWidget(x_, 1);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(choosers);
    layout->addWidget(plot_, 1);
    plot_->plotLayout()->insertRow(0);
    title_ = new QCPTextElement(plot_, tr("Runs by metric, one line per weight precision"), QFont(font().family(), 11, QFont::Bold));
    plot_->plotLayout()->addElement(0, 0, title_);
    place_legend_below(plot_);
    follow_palette(plot_);
    plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    connect(x_, &QComboBox::currentIndexChanged, this, &MetricPlot::redraw);
    connect(y_, &QComboBox::currentIndexChanged, this, &MetricPlot::redraw);
    setAxes(Sparsity, Accuracy);
}

void MetricPlot::setAxes(Metric x, Metric y) {
    x_->setCurrentIndex(int(x));
    y_->setCurrentIndex(int(y));
    redraw();
}

void MetricPlot::setTask(ss::EvalTask task) {
    if (task == task_) return;
    task_ = task;
    if (task == ss::EvalTask::LanguageModeling) setAxes(WeightMB, Perplexity);
    else setAxes(Sparsity, Accuracy);
}

void MetricPlot::setRuns(const std::vector<ss::RunRecord>& runs, bool show_hidden) {
    runs_ = runs;
    show_hidden_ = show_hidden;
    redraw();
}

int MetricPlot::pointCount() const {
    int n = 0;
    for (const auto& [name, g] : series_) n += g->dataCount();
    return n;
}

void MetricPlot::redraw() {
    const Metric mx = Metric(x_->currentData().toInt()), my = Metric(y_->currentData().toInt());
    std::map<QString, std::vector<std::pair<double, double>>> points;
    int other = 0;
    for (const auto& r : runs_) {
        if (!RunListModel::shown(r, show_hidden_)) continue;
        if (r.result.task != task_) {
            ++other;
            continue;
        }
        const double x = value(r, mx), y = value(r, my);
        if (std::isfinite(x) && std::isfinite(y)) points[AccuracyLatencyPlot::seriesOf(r)].push_back({x, y});
    }
    for (auto& [name, g] : series_) g->data()->clear();
    double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
    bool first = true;
    for (auto& [name, xy] : points) {
        QCPGraph*& g = series_[name];
        if (!g) {
            g = plot_->addGraph();
            QColor c;
            int shape = 0;
            AccuracyLatencyPlot::seriesStyle(name, &c, &shape); // the same look as in the accuracy plot
            g->setPen(QPen(c, 1.5));
            g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ScatterShape(shape), c, c.lighter(150), 8));
            g->setName(tr("%1 weights").arg(name));
        }
        std::sort(xy.begin(), xy.end());
        QVector<double> xs, ys;
        for (const auto& [x, y] : xy) {
            xs.push_back(x);
            ys.push_back(y);
            x0 = first ? x : std::min(x0, x);
            x1 = first ? x : std::max(x1, x);
            y0 = first ? y : std::min(y0, y);
            y1 = first ? y : std::max(y1, y);
            first = false;
        }
        g->setData(xs, ys, true);
    }
    for (auto& [name, g] : series_) g->setVisible(g->dataCount() > 0);
    plot_->legend->clearItems();
    for (auto& [name, g] : series_)
        if (g->dataCount() > 0) g->addToLegend();
    const double px = std::max(1e-9, (x1 - x0) * 0.08), py = std::max(1e-9, (y1 - y0) * 0.1);
    plot_->xAxis->setRange(x0 - px, x1 + px);
    plot_->yAxis->setRange(y0 - py, y1 + py);
    plot_->xAxis->setLabel(metricName(mx));
    plot_->yAxis->setLabel(metricName(my));
    QString title = tr("Runs by metric, one line per weight precision");
    if (other > 0)
        title += task_ == ss::EvalTask::LanguageModeling ? tr(" (%n classifier run(s) not shown)", nullptr, other)
                                                          : tr(" (%n language-model run(s) not shown)", nullptr, other);
    title_->setText(title);
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace ssui
