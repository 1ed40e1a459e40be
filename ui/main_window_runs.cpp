// main_window_runs.cpp - MainWindow and the runs: selection, the charts of the selected run or runs,
// comparison of several, the chosen baseline, and the table's columns.
#include "main_window.h"

#include <QHeaderView>
#include <QMenu>

#include "accuracy_latency_plot.h"
#include "class_delta_chart.h"
#include "class_expert_heatmap.h"
#include "expert_atlas.h"
#include "compression_panel.h"
#include "expert_share_chart.h"
#include "layer_cost_chart.h"
#include "layer_tree.h"
#include "run_filter_proxy.h"
#include "run_list_model.h"
#include "data/class_names.h"
#include "session/session_db.h"

#include <QItemSelectionModel>
#include <QLabel>
#include <QSortFilterProxyModel>
#include <QStatusBar>
#include <QTableView>

#include <algorithm>
#include <cmath>

namespace ssui {

std::vector<int> MainWindow::selectedRuns() const {
    std::vector<int> rows;
    for (const QModelIndex& i : table_->selectionModel()->selectedRows()) rows.push_back(proxy_->mapToSource(i).row());
    std::sort(rows.begin(), rows.end());
    return rows;
}

void MainWindow::showComparison(const std::vector<int>& rows) {
    if (rows.size() == 1) return showSelectedRun(rows.front()); // back from comparing to one run
    if (rows.empty()) return;
    accuracy_plot_->setSelectedRuns(rows);
    std::vector<const ss::RunRecord*> runs;
    for (int r : rows) runs.push_back(&runs_->run(r));
    class_delta_->setRuns(runs, classNames(), baselineRecord());
    showBeyondAccuracy(rows);
    layer_chart_->setRuns(runs);
    if (rows.size() == 2) atlas_->setRuns(*runs[0], *runs[1]);
    if (rows.size() == 2) { // the two side by side in words
        const ss::EvalResult &a = runs[0]->result, &b = runs[1]->result;
        statusBar()->showMessage(tr("Run %1 → run %2: top-1 %3 → %4 % (%5 points), p50 %6 → %7 ms, weights %8 → %9 MB")
                                     .arg(runs[0]->id).arg(runs[1]->id)
                                     .arg(100.0 * a.accuracy, 0, 'f', 2).arg(100.0 * b.accuracy, 0, 'f', 2)
                                     .arg(100.0 * (b.accuracy - a.accuracy), 0, 'f', 2)
                                     .arg(a.latency_p50_ms, 0, 'f', 3).arg(b.latency_p50_ms, 0, 'f', 3)
                                     .arg(double(a.weight_bytes) / 1e6, 0, 'f', 2).arg(double(b.weight_bytes) / 1e6, 0, 'f', 2));
    }
}

std::vector<std::string> MainWindow::classNames() const {
    if (!model_) return dataset_ ? dataset_->class_names : std::vector<std::string>{};
    return ss::class_labels(model_->labels, dataset_ ? dataset_->class_names : std::vector<std::string>{});
}

const ss::RunRecord* MainWindow::baselineRecord() const {
    const int b = runs_->baselineRow();
    return b < 0 ? nullptr : &runs_->run(b);
}

void MainWindow::useRunAsBaseline(int row) {
    runs_->setBaselineRow(row);
    if (session_ && !session_->read_only() && (row < 0 || runs_->isOwn(row))) {
        try { // the session remembers its baseline
            session_->set_meta("baseline_run", row < 0 ? std::string("0") : std::to_string(runs_->run(row).id));
        } catch (const std::exception&) {
        }
    }
    accuracy_plot_->setBaselineRun(runs_->baselineRow());
    hideConstantColumns();
    table_->resizeColumnToContents(RunListModel::VsBaseline);
    const std::vector<int> sel = selectedRuns();
    if (sel.size() >= 2) showComparison(sel);
    else showSelectedRun(sel.empty() ? -1 : sel.front());
    statusBar()->showMessage(row < 0 ? tr("Baseline: the dense model") : tr("Baseline: run %1").arg(runs_->baselineRun()), 5000);
    refreshComparisonWarning();
}

bool MainWindow::tagSelectedRuns(const QString& tags) {
    int n = 0;
    for (int row : selectedRuns())
        if (runs_->isOwn(row) && runs_->setData(runs_->index(row, RunListModel::Tags), tags)) ++n;
    hideConstantColumns();
    statusBar()->showMessage(tr("Tagged %n run(s)", nullptr, n), 5000);
    return n > 0;
}

void MainWindow::selectRun(int row) {
    const QModelIndex at = proxy_->mapFromSource(runs_->index(row, 0));
    if (at.isValid()) table_->selectRow(at.row());
    else showSelectedRun(row); // filtered out of the table: still shown in the charts
}

void MainWindow::hideConstantColumns() {
    // Columns describing the setup (pruning, quantization, top-k, samples) are hidden while every
    // run has the same value there; measurements always show.
    table_->setColumnHidden(RunListModel::Source, runs_->sourceCount() < 2);
    std::vector<int> shown; // rows the table shows (not hidden or deleted)
    for (int r = 0; r < runs_->rowCount(); ++r)
        if (runs_->isShown(r)) shown.push_back(r);
    bool tagged = false; // the Tags column shows once some run has tags (Edit > Tag Runs adds them)
    for (int r : shown) tagged = tagged || !runs_->run(r).tags.empty();
    table_->setColumnHidden(RunListModel::Tags, !tagged);
    // Pruning and quantization always show: a hidden Quant column read as a choice ignored.
    for (int c : {int(RunListModel::TopK), int(RunListModel::Samples)}) {
        bool same = shown.size() >= 2;
        for (size_t i = 1; i < shown.size() && same; ++i) same = runs_->index(shown[i], c).data() == runs_->index(shown[0], c).data();
        table_->setColumnHidden(c, same);
    }
    table_->setColumnHidden(RunListModel::VsBaseline, runs_->baselineRow() < 0);
    // Columns of one task show when some run is of that task (with no runs: the loaded model's).
    bool lm = false, classifier = false;
    for (int r : shown) (runs_->run(r).result.task == ss::EvalTask::LanguageModeling ? lm : classifier) = true;
    if (!lm && !classifier) (isLanguageModel() ? lm : classifier) = true;
    for (int c = 0; c < RunListModel::ColumnCount; ++c) {
        const bool lm_only = !RunListModel::appliesTo(c, ss::EvalTask::Classification);
        const bool classifier_only = !RunListModel::appliesTo(c, ss::EvalTask::LanguageModeling);
        if (lm_only) table_->setColumnHidden(c, !lm);
        if (classifier_only) table_->setColumnHidden(c, !classifier);
    }
    // What the user chose on the header's context menu overrides all of the above.
    for (const auto& [c, shown] : column_choice_) table_->setColumnHidden(c, !shown);
}

void MainWindow::setColumnShown(int column, bool shown) {
    column_choice_[column] = shown;
    hideConstantColumns();
    if (shown) table_->resizeColumnToContents(column);
}

void MainWindow::showColumnMenu(const QPoint& at) {
    QMenu menu(this);
    for (int c = 0; c < RunListModel::ColumnCount; ++c) {
        QAction* a = menu.addAction(runs_->headerData(c, Qt::Horizontal).toString());
        a->setCheckable(true);
        a->setChecked(!table_->isColumnHidden(c));
        connect(a, &QAction::toggled, this, [this, c](bool on) { setColumnShown(c, on); });
    }
    menu.addSeparator();
    menu.addAction(tr("Automatic (hide what every run shares)"), this, [this] {
        column_choice_.clear();
        hideConstantColumns();
    });
    menu.exec(table_->horizontalHeader()->mapToGlobal(at));
}

void MainWindow::showSelectedRun(int row) {
    accuracy_plot_->setSelectedRun(row);
    std::vector<std::string> labels = classNames();
    heatmap_->setRun(row < 0 ? nullptr : &runs_->run(row), labels);
    atlas_->setRun(row < 0 ? nullptr : &runs_->run(row));
    refreshLmViews();
    class_delta_->setRun(row < 0 ? nullptr : &runs_->run(row), labels, baselineRecord());
    showBeyondAccuracy(row < 0 ? std::vector<int>{} : std::vector<int>{row});
    layer_chart_->setRun(row < 0 ? nullptr : &runs_->run(row));
    layer_tree_->setRun(row < 0 ? nullptr : &runs_->run(row));
    if (row >= 0) { // the kernel plan the selected run ran with, in short; all of it in the tooltip
        const ss::EvalResult& e = runs_->run(row).result;
        QString kernels = QString::fromStdString(e.kernels).section(QLatin1Char(';'), 0, 0);
        kernel_label_->setText(tr("Run %1: %2 threads · %3").arg(runs_->run(row).id).arg(e.threads).arg(kernels));
        kernel_label_->setToolTip(tr("Kernels of run %1 (which kernel each matrix ran with at batch 1 and in batches, and how it was "
                                     "chosen):\n%2").arg(runs_->run(row).id).arg(QString::fromStdString(e.kernels)));
    } else {
        kernel_label_->setText(tr("%1 threads").arg(panel_->threads()));
        kernel_label_->setToolTip(tr("Threads the next evaluation uses (Compression ▸ Threads)"));
    }
    if (row < 0) {
        expert_chart_->setShares(tr("Expert share"), {}, tr("No run selected"));
        return;
    }
    const ss::RunRecord& r = runs_->run(row);
    if (r.result.expert_share.empty()) {
        expert_chart_->setShares(tr("Expert share"), {}, tr("model has no MoE layer"));
        return;
    }
    QString title = tr("Expert share — run %1, layer '%2', top-%3").arg(r.id).arg(QString::fromStdString(r.result.moe_layers.front())).arg(r.result.top_k);
    if (!r.result.expert_stats.empty()) {
        const ss::ExpertLayerStats& st = r.result.expert_stats.front();
        title += tr("\nentropy %1 of %2 bits, max/mean %3, %4 dead")
                     .arg(st.entropy_bits, 0, 'f', 2)
                     .arg(std::log2(double(r.result.expert_share.front().size())), 0, 'f', 2)
                     .arg(st.max_over_mean, 0, 'f', 2)
                     .arg(st.dead.size());
    }
    expert_chart_->setShares(title, r.result.expert_share.front());
}

} // namespace ssui
