// main_window_export.cpp - MainWindow: charts, the runs table and the compressed model written
// out, and charts put on the clipboard.
#include "main_window.h"
#include "eval/runs_csv.h"

#include "accuracy_latency_plot.h"
#include "chart_export.h"
#include "ood_chart.h"
#include "reliability_diagram.h"
#include "robustness_chart.h"
#include "class_delta_chart.h"
#include "class_expert_heatmap.h"
#include "compression_panel.h"
#include "expert_atlas.h"
#include "expert_share_chart.h"
#include "input_panel.h"
#include "layer_cost_chart.h"
#include "metric_plot.h"
#include "run_filter_proxy.h"
#include "run_list_model.h"
#include "compress/compression.h"
#include "eval/result_json.h"
#include "formats/file_io.h"
#include "formats/model_export.h"

#include <qcustomplot.h>

#include <QApplication>
#include <QClipboard>
#include <QFileInfo>
#include <QSortFilterProxyModel>
#include <QStatusBar>
#include <QTableView>

namespace ssui {

QCustomPlot* MainWindow::chartPlot(Chart chart) const {
    switch (chart) {
    case Chart::AccuracyLatency: return accuracy_plot_->plot();
    case Chart::ExpertShare: return expert_chart_->plot();
    case Chart::ClassExpert: return heatmap_->plot();
    case Chart::ClassDelta: return class_delta_->plot();
    case Chart::Layers: return layer_chart_->plot();
    case Chart::Metrics: return metric_plot_->plot();
    case Chart::ExpertAtlas: return atlas_->plot();
    case Chart::Robustness: return robustness_chart_->plot();
    case Chart::Calibration: return reliability_->plot();
    case Chart::Ood: return ood_chart_->plot();
    }
    return accuracy_plot_->plot();
}

bool MainWindow::mainChart(Chart* chart, QString* file_name) const {
    const QWidget* w = main_tabs_->currentWidget();
    const std::pair<const QWidget*, std::pair<Chart, const char*>> tabs[] = {
        {static_cast<const QWidget*>(accuracy_plot_), {Chart::AccuracyLatency, "accuracy-latency.png"}},
        {static_cast<const QWidget*>(metric_plot_), {Chart::Metrics, "metrics.png"}},
        {static_cast<const QWidget*>(robustness_chart_), {Chart::Robustness, "robustness.png"}},
        {static_cast<const QWidget*>(reliability_), {Chart::Calibration, "reliability.png"}},
        {static_cast<const QWidget*>(ood_chart_), {Chart::Ood, "ood.png"}}};
    for (const auto& [widget, c] : tabs)
        if (widget == w) {
            *chart = c.first;
            *file_name = QString::fromLatin1(c.second);
            return true;
        }
    return false;
}

bool MainWindow::detailChart(Chart* chart, QString* file_name) const {
    const QWidget* w = detail_tabs_->currentWidget();
    const std::pair<const QWidget*, std::pair<Chart, const char*>> tabs[] = {
        {static_cast<const QWidget*>(expert_chart_), {Chart::ExpertShare, "expert-share.png"}},
        {static_cast<const QWidget*>(heatmap_), {Chart::ClassExpert, "class-expert.png"}},
        {static_cast<const QWidget*>(class_delta_), {Chart::ClassDelta, "per-class.png"}},
        {static_cast<const QWidget*>(layer_chart_), {Chart::Layers, "layers.png"}},
        {static_cast<const QWidget*>(atlas_), {Chart::ExpertAtlas, "expert-atlas.png"}}};
    for (const auto& [widget, c] : tabs)
        if (widget == w) {
            *chart = c.first;
            *file_name = QString::fromLatin1(c.second);
            return true;
        }
    return false;
}

bool MainWindow::exportRuns(const QString& path, QString* error) {
    const QString suffix = QFileInfo(path).suffix().toLower();
    QByteArray out;
    if (suffix == QLatin1String("csv")) {
        // Numbers, one column per value, units in the header: the columns of `sessions export
        // --format csv`, for the runs the table shows, in its order.
        std::vector<ss::RunRecord> shown;
        for (int r = 0; r < proxy_->rowCount(); ++r) shown.push_back(runs_->run(proxy_->mapToSource(proxy_->index(r, 0)).row()));
        out += QByteArray::fromStdString(ss::runs_to_csv(shown));
    } else if (suffix == QLatin1String("json")) {
        const std::vector<std::string> labels = classNames();
        out += "[\n";
        for (int r = 0; r < proxy_->rowCount(); ++r) {
            const ss::RunRecord& run = runs_->run(proxy_->mapToSource(proxy_->index(r, 0)).row());
            out += QByteArray::fromStdString(ss::run_record_json(run, labels, 1)) + (r + 1 < proxy_->rowCount() ? ",\n" : "\n");
        }
        out += "]\n";
    } else {
        *error = tr("%1: unsupported format '%2' (use .csv or .json)").arg(path, suffix);
        return false;
    }
    try {
        ss::write_file_bytes(path.toStdString(), std::vector<uint8_t>(out.begin(), out.end()));
    } catch (const std::exception& e) {
        *error = QString::fromStdString(e.what());
        return false;
    }
    return true;
}

void MainWindow::copyChart(Chart chart) {
    QCustomPlot* p = chartPlot(chart);
    QApplication::clipboard()->setPixmap(p->toPixmap(p->width(), p->height(), 2.0)); // 2x for sharp pasting
    statusBar()->showMessage(tr("Chart copied to the clipboard"), 3000);
}

bool MainWindow::exportChart(const QString& path, QString* error, Chart chart, int width, int height) {
    return export_plot(chartPlot(chart), path, width, height, error);
}

bool MainWindow::exportModel(const QString& path, QString* error, const ss::CompressionPlan* chosen_plan, const ss::InputSpec* input) {
    if (!model_) {
        if (error) *error = tr("No model is loaded");
        return false;
    }
    try {
        QApplication::setOverrideCursor(Qt::WaitCursor);
        const ss::CompressionPlan plan = chosen_plan ? *chosen_plan : panel_->plan();
        std::shared_ptr<const ss::Dataset> calibration;
        QString cerr;
        if (!calibrationFor(plan, &calibration, &cerr)) throw std::runtime_error(cerr.toStdString());
        ss::CompressedModel c = ss::compress(*model_, plan, calibration.get());
        QString perr;
        if (input) { // the preprocessing a run was measured with; the shape is the model's
            c.model.input.scale = input->scale;
            c.model.input.mean = input->mean;
            c.model.input.std = input->std;
        } else if (input_panel_->input(&c.model.input, &perr) == false) {
            throw std::runtime_error(perr.toStdString());
        }
        ss::export_compressed_model(c, *model_, path.toStdString());
        QApplication::restoreOverrideCursor();
        statusBar()->showMessage(tr("Exported %1 (sparsity %2 %, %3 weight bytes)").arg(path).arg(100.0 * c.sparsity, 0, 'f', 1)
                                     .arg(c.weight_bytes), 8000);
        return true;
    } catch (const std::exception& e) {
        QApplication::restoreOverrideCursor();
        if (error) *error = QString::fromStdString(e.what());
        return false;
    }
}

} // namespace ssui
