// main_window.cpp
#include "main_window.h"
#include "empty_state.h"
#include "formats/file_kind.h"

#include "error_hints.h"

#include "accuracy_latency_plot.h"
#include "app_settings.h"
#include "chart_export.h"
#include "class_delta_chart.h"
#include "flipped_gallery.h"
#include "ood_chart.h"
#include "reliability_diagram.h"
#include "robustness_chart.h"
#include "class_expert_heatmap.h"
#include "expert_atlas.h"
#include "generation_panel.h"
#include "lm_eval_panel.h"
#include "token_inspector.h"
#include "compression_panel.h"
#include "evaluation_runner.h"
#include "expert_share_chart.h"
#include "input_panel.h"
#include "layer_cost_chart.h"
#include "layer_tree.h"
#include "metric_plot.h"
#include "formats/model_export.h"
#include "formats/file_io.h"
#include "data/idx_dataset.h"
#include "kernels/blas_setup.h"
#include "eval/machine_info.h"
#include "formats/model_io.h"
#include "run_filter_proxy.h"
#include "run_list_model.h"
#include "eval/result_json.h"
#include "session/session_db.h"
#include "session/session_store.h"
#include "sweep_dialog.h"
#include "override_dialog.h"

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

#include <QApplication>
#include <QUrl>
#include <QMimeData>
#include <QDropEvent>
#include <QDragEnterEvent>
#include <QClipboard>
#include <QCloseEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QInputDialog>
#include <QLineEdit>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QSortFilterProxyModel>
#include <QUndoStack>
#include <QSplitter>
#include <QTabWidget>
#include <QTimer>
#include <QStatusBar>
#include <QTableView>
#include <QVBoxLayout>

namespace ssui {

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent), panel_(new CompressionPanel), input_panel_(new InputPanel), runner_(new EvaluationRunner(this)), runs_(new RunListModel(this)),
      accuracy_plot_(new AccuracyLatencyPlot), expert_chart_(new ExpertShareChart), heatmap_(new ClassExpertHeatmap), atlas_(new ExpertAtlas),
      class_delta_(new ClassDeltaChart), layer_chart_(new LayerCostChart), metric_plot_(new MetricPlot), main_tabs_(new QTabWidget),
      detail_tabs_(new QTabWidget), table_(new QTableView),
      model_label_(new QLabel), dataset_label_(new QLabel) {
    baseline_ = std::make_shared<BaselineCache>();
    setWindowTitle(tr("SparseScope"));
    setAcceptDrops(true); // drop a model, a dataset or a session file on the window

    auto* left = new QWidget;
    auto* left_layout = new QVBoxLayout(left);
    auto* info = new QGroupBox(tr("Model and data"));
    auto* info_layout = new QVBoxLayout(info);
    for (QLabel* l : {model_label_, dataset_label_}) {
        l->setWordWrap(true);
        l->setTextInteractionFlags(Qt::TextSelectableByMouse);
        info_layout->addWidget(l);
    }
    layer_tree_ = new LayerTree;
    layer_tree_->setToolTip(tr("The model's layers; sparsity, bits and kernels are those of the selected run"));
    layer_tree_->setMinimumHeight(110);
    info_layout->insertWidget(1, layer_tree_, 1);
    left_layout->addWidget(info, 1);
    left_layout->addWidget(input_panel_);
    lm_eval_ = new LmEvalPanel;
    lm_eval_->setVisible(false); // in place of the preprocessing while a language model is loaded
    left_layout->addWidget(lm_eval_);
    connect(lm_eval_, &LmEvalPanel::changed, this, [this] {
        setLanguageModelEvaluation(lm_eval_->ctx(), lm_eval_->chunks(), lm_eval_->genTokens());
        refreshStatus();
    });
    left_layout->addWidget(panel_);
    left->setMinimumWidth(370);
    left->setMaximumWidth(720); // wider by the splitter: the layer tree's Kernels and Type columns then show whole

    proxy_ = new RunFilterProxy(this);
    undo_ = new QUndoStack(this);
    proxy_->setSourceModel(runs_);
    proxy_->setSortRole(RunListModel::SortRole);
    proxy_->setFilterKeyColumn(-1); // a filter matches any column
    proxy_->setFilterCaseSensitivity(Qt::CaseInsensitive);
    table_->setModel(proxy_);
    table_->setSortingEnabled(true);
    table_->sortByColumn(RunListModel::Id, Qt::AscendingOrder);
    filter_ = new QLineEdit;
    filter_->setPlaceholderText(tr("Filter runs (any column, e.g. int4 or magnitude)…"));
    filter_->setClearButtonEnabled(true);
    connect(filter_, &QLineEdit::textChanged, proxy_, &QSortFilterProxyModel::setFilterFixedString);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::ExtendedSelection); // Ctrl/Shift-click several runs to compare them
    table_->verticalHeader()->setVisible(false);
    table_->setWordWrap(false);
    table_->setAlternatingRowColors(true);
    // Column headers are never cut: their text is the least a column is wide.
    table_->horizontalHeader()->setMinimumSectionSize(40);
    table_->resizeColumnsToContents(); // the empty table too: headers whole
    table_->horizontalHeader()->setContextMenuPolicy(Qt::CustomContextMenu); // right-click: choose the columns
    connect(table_->horizontalHeader(), &QHeaderView::customContextMenuRequested, this, &MainWindow::showColumnMenu);
    empty_state_ = new EmptyState(table_->viewport(),
                                  tr("<p><b>No runs yet.</b></p>"
                                     "<p>1. Choose pruning, quantization and MoE top-k on the left (or leave them: a first run at the defaults measures the dense model).<br>"
                                     "2. Press <b>Evaluate</b> (F5) to measure the compressed model against the dense one: accuracy or perplexity, latency, expert use.<br>"
                                     "3. Tick <b>Live</b> to re-evaluate as the controls move, or use <b>Run ▸ Sweep…</b> (Ctrl+Shift+W) for a grid of settings.</p>"
                                     "<p>Every run is saved to the session as it finishes. File ▸ Open (or a drop on the window) opens another model, dataset or session.</p>"));

    auto* plots = plots_split_ = new QSplitter(Qt::Horizontal);
    main_tabs_->addTab(accuracy_plot_, tr("Accuracy vs latency"));
    main_tabs_->addTab(metric_plot_, tr("Any metric"));
    inspector_ = new TokenInspector;
    generation_ = new GenerationPanel;
    main_tabs_->addTab(inspector_, tr("Tokens"));
    main_tabs_->setTabToolTip(2, tr("Language models: the text token by token, where the selected run predicts worse than dense, and its experts"));
    main_tabs_->addTab(generation_, tr("Generate"));
    main_tabs_->setTabToolTip(3, tr("Language models: a prompt continued by the dense and the selected run's model side by side"));
    main_tabs_->setTabVisible(2, false); // shown while a language model is loaded
    main_tabs_->setTabVisible(3, false);
    connect(main_tabs_, &QTabWidget::currentChanged, this, [this] { refreshLmViews(); });
    main_tabs_->setDocumentMode(true);
    plots->addWidget(main_tabs_);
    detail_tabs_->addTab(expert_chart_, tr("Experts"));
    detail_tabs_->addTab(heatmap_, tr("Class × expert"));
    detail_tabs_->addTab(class_delta_, tr("Per class"));
    detail_tabs_->addTab(layer_chart_, tr("Layers"));
    detail_tabs_->addTab(atlas_, tr("Expert atlas"));
    detail_tabs_->setTabToolTip(detail_tabs_->count() - 1, tr("Every MoE layer's expert shares for the selected run; select two runs to see what changed"));
    buildBeyondAccuracyTabs();
    detail_tabs_->setDocumentMode(true);
    plots->addWidget(detail_tabs_);
    plots->setSizes({600, 450});
    // A tab's page may be narrower than its controls would like (they then crowd, never the window
    // off the screen): the window fits a 1366-pixel-wide screen whichever pages exist.
    for (QTabWidget* tabs : {main_tabs_, detail_tabs_})
        for (int i = 0; i < tabs->count(); ++i) {
            QWidget* page = tabs->widget(i);
            page->setSizePolicy(QSizePolicy::Ignored, page->sizePolicy().verticalPolicy());
            page->setMinimumWidth(320);
        }
    auto* right = right_split_ = new QSplitter(Qt::Vertical);
    right->addWidget(plots);
    auto* table_box = new QWidget;
    auto* table_layout = new QVBoxLayout(table_box);
    table_layout->setContentsMargins(0, 0, 0, 0);
    table_layout->addWidget(filter_);
    warning_label_ = new QLabel;
    warning_label_->setWordWrap(true);
    warning_label_->setStyleSheet(QStringLiteral("QLabel { background: #fff3cd; color: #664d03; border: 1px solid #e0c36a; padding: 4px; }"));
    warning_label_->setVisible(false);
    table_layout->addWidget(warning_label_);
    table_layout->addWidget(table_);
    right->addWidget(table_box);
    right->setStretchFactor(0, 3);
    right->setStretchFactor(1, 2);
    auto* main = main_split_ = new QSplitter(Qt::Horizontal);
    main->addWidget(left);
    main->addWidget(right);
    main->setStretchFactor(1, 1);
    setCentralWidget(main);
    buildMenus();
    buildHelpMenu();

    connect(panel_, &CompressionPanel::evaluateRequested, this, &MainWindow::evaluate);
    connect(panel_, &CompressionPanel::cancelRequested, runner_, &EvaluationRunner::cancel);
    connect(panel_, &CompressionPanel::overridesRequested, this, [this] {
        if (!model_) return showError(tr("No model"), tr("Open a model first: overrides name its layers and experts."));
        OverrideDialog dialog(*model_, panel_->overrides(), this);
        if (dialog.exec() != QDialog::Accepted) return;
        std::map<std::string, ss::LayerOverride> o;
        QString err;
        if (dialog.overrides(&o, &err)) panel_->setOverrides(std::move(o));
        else showError(tr("Invalid override"), err, FailedAction::Override);
    });
    connect(panel_, &CompressionPanel::loadPlanRequested, this, [this] {
        const QString p = QFileDialog::getOpenFileName(this, tr("Load compression plan"), {}, tr("Plans (*.json);;All files (*)"));
        QString err;
        if (!p.isEmpty() && !loadPlan(p, &err)) showError(tr("Cannot load plan"), err, FailedAction::LoadPlan);
    });
    connect(runner_, &EvaluationRunner::progressChanged, this, [this](int permille) {
        // In a sweep the bar shows the whole sweep.
        panel_->setProgress(sweep_total_ > 0 ? (sweep_done_ * 1000 + permille) / sweep_total_ : permille);
    });
    connect(runner_, &EvaluationRunner::finished, this, [this](const ss::RunRecord& r) {
        const bool live = runner_->currentIsLive();
        panel_->setRunning(false);
        const bool replace = live || std::exchange(replace_live_row_, false);
        int row; // the run's row
        if (replace && live_row_ >= 0 && live_row_ < runs_->rowCount()) {
            row = live_row_;
            runs_->replaceRun(row, r);
            if (!live) { // the explicit run that took the preview's row: kept
                persistRun(row);
                live_row_ = -1;
            }
        } else {
            runs_->addRun(r);
            row = runs_->rowCount() - 1;
            if (live) live_row_ = row;
            else persistRun(row); // autosave: committed the moment it finishes
        }
        selectRun(row);
        showSelectedRun(row);
        const ss::RunRecord& shown = runs_->run(row);
        QString msg = tr("Run %1: %2 % top-1, %3 ms p50").arg(shown.id).arg(100.0 * r.result.accuracy, 0, 'f', 2).arg(r.result.latency_p50_ms, 0, 'f', 3);
        if (live) {
            last_live_ms_ = double(live_clock_.nsecsElapsed()) / 1e6;
            msg = tr("Live: %1 (%2 ms after the change)").arg(msg).arg(last_live_ms_, 0, 'f', 0);
            emit liveUpdated(last_live_ms_);
        }
        statusBar()->showMessage(msg, 8000);
        refreshStatus();
        if (sweep_total_ > 0 && !live) {
            ++sweep_done_;
            panel_->setRunning(true);
            startNextSweepRun();
        }
    });
    live_timer_ = new QTimer(this);
    live_timer_->setSingleShot(true);
    live_timer_->setInterval(30); // debounce: a slider drag starts a job when it pauses for 30 ms
    connect(panel_, &CompressionPanel::settingsChanged, this, [this] {
        if (!panel_->live() || !hasData() || sweep_total_ > 0) return; // a sweep runs its own grid
        live_clock_.start();
        live_timer_->start();
    });
    connect(live_timer_, &QTimer::timeout, this, [this] { startLive(true); });
    connect(runner_, &EvaluationRunner::estimated, this, [this](const ss::RunRecord& r) {
        const double ms = double(live_clock_.nsecsElapsed()) / 1e6;
        if (r.result.task == ss::EvalTask::LanguageModeling)
            statusBar()->showMessage(tr("Live estimate on the first %1 chunks: perplexity %2 (%3 ms) — evaluating every chunk…")
                                         .arg(int(r.result.metrics.count("chunks") ? r.result.metrics.at("chunks") : 0))
                                         .arg(r.result.metrics.count("perplexity") ? r.result.metrics.at("perplexity") : 0.0, 0, 'f', 3)
                                         .arg(ms, 0, 'f', 0));
        else
            statusBar()->showMessage(tr("Live estimate on the first %1 samples: %2 % top-1 (%3 ms) — evaluating the whole set…")
                                         .arg(r.result.samples).arg(100.0 * r.result.accuracy, 0, 'f', 2).arg(ms, 0, 'f', 0));
    });
    connect(runner_, &EvaluationRunner::failed, this, [this](const QString& m) {
        replace_live_row_ = false; // the live preview stays a preview
        if (sweep_total_ > 0) endSweep(tr("Sweep stopped after %1 of %2 runs").arg(sweep_done_).arg(sweep_total_));
        panel_->setRunning(false);
        showError(tr("Evaluation failed"), m, FailedAction::Evaluate);
    });
    connect(runner_, &EvaluationRunner::canceled, this, [this] {
        replace_live_row_ = false;
        panel_->setRunning(false);
        if (sweep_total_ > 0) return endSweep(tr("Sweep canceled: %1 of %2 runs kept").arg(sweep_done_).arg(sweep_total_));
        statusBar()->showMessage(tr("Evaluation canceled"), 5000);
    });
    // Notes and tags are written to the session as they are edited.
    auto save_edit = [this](int row, bool tags) {
        if (row == live_row_) return; // saved with the run when it is kept
        if (session_ && !session_->read_only()) {
            try {
                const ss::RunRecord& r = runs_->run(row);
                if (tags) session_->set_tags(r.id, r.tags);
                else session_->set_note(r.id, r.note);
                return;
            } catch (const std::exception& e) {
                statusBar()->showMessage(tr("The edit was not saved: %1").arg(QString::fromStdString(e.what())), 10000);
            }
        }
        dirty_ = true;
        refreshStatus();
    };
    connect(runs_, &RunListModel::noteEdited, this, [save_edit](int row) { save_edit(row, false); });
    connect(runs_, &RunListModel::tagsEdited, this, [save_edit](int row) { save_edit(row, true); });
    connect(runs_, &RunListModel::runsChanged, this, [this] {
        proxy_->refilter(); // hidden and deleted runs leave the table
        accuracy_plot_->setRuns(runs_->runs(), plotGroups(), runs_->showHidden());
        accuracy_plot_->setBaselineRun(runs_->baselineRow());
        metric_plot_->setRuns(runs_->runs(), runs_->showHidden());
        hideConstantColumns();
        table_->resizeColumnsToContents();
        empty_state_->setVisible(runs_->rowCount() == runs_->deletedCount());
    });
    connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex& cur) { showSelectedRun(cur.isValid() ? proxy_->mapToSource(cur).row() : -1); });
    connect(table_->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        showComparison(selectedRuns());
        refreshComparisonWarning();
    });
    connect(accuracy_plot_, &AccuracyLatencyPlot::runClicked, this, &MainWindow::selectRun);
    // The machine every run is measured on, always in view.
    machine_label_ = new QLabel;
    const ss::MachineInfo& m = ss::machine_info();
    machine_label_->setText(tr("%1 · %2 cores · %3 · OpenBLAS %4")
                                .arg(QString::fromStdString(m.cpu), QString::number(m.cores), QString::fromStdString(m.isa),
                                     QString::fromStdString(ss::blas_core_description()).section(QLatin1Char(' '), 0, 0)));
    machine_label_->setToolTip(QString::fromStdString(ss::machine_summary()));
    kernel_label_ = new QLabel;
    statusBar()->addPermanentWidget(kernel_label_);
    statusBar()->addPermanentWidget(machine_label_);

    refreshStatus();
    resize(1400, 900);
    main_split_->setSizes({420, 980}); // room for the layer tree; a saved layout below wins
    // Where the user left things (QSettings).
    restoreGeometry(AppSettings::windowGeometry());
    for (auto [split, name] : {std::pair{main_split_, "main"}, std::pair{right_split_, "right"}, std::pair{plots_split_, "plots"}})
        split->restoreState(AppSettings::splitterState(QLatin1String(name)));
    detail_tabs_->setCurrentIndex(std::clamp(AppSettings::detailTab(), 0, detail_tabs_->count() - 1));
}

void MainWindow::saveLayout() {
    AppSettings::setWindowGeometry(saveGeometry());
    for (auto [split, name] : {std::pair{main_split_, "main"}, std::pair{right_split_, "right"}, std::pair{plots_split_, "plots"}})
        AppSettings::setSplitterState(QLatin1String(name), split->saveState());
    AppSettings::setDetailTab(detail_tabs_->currentIndex());
}

bool MainWindow::loadModel(const QString& path, QString* error) {
    try {
        auto model = std::make_shared<const ss::Model>(ss::load_model(path.toStdString(), allow_nonfinite_));
        setModel(std::move(model));
        AppSettings::addRecent(AppSettings::Recent::Model, path);
        return true;
    } catch (const std::exception& e) {
        if (error) *error = modelLoadError(path, e);
        return false;
    }
}

QString MainWindow::modelLoadError(const QString& path, const std::exception& e) const {
    QString error = QString::fromStdString(e.what());
    if (error.contains(QLatin1String("NaN or infinite weights")))
        error += tr("\n\nTo look at such a model anyway, start the window with:\n    sparsescope --allow-nonfinite %1").arg(path);
    return error;
}

bool MainWindow::loadDataset(const QString& path, QString* error, const QString& label_column) {
    if (isLanguageModel() || path.endsWith(QLatin1String(".txt")) || path.endsWith(QLatin1String(".txt.gz"))) {
        if (!loadText(path, error)) return false;
        AppSettings::addRecent(AppSettings::Recent::Dataset, path);
        return true;
    }
    try {
        ss::DatasetOptions options;
        options.label_column = label_column.toStdString();
        setDataset(std::make_shared<const ss::Dataset>(ss::load_dataset(path.toStdString(), options)));
        dataset_dir_ = ss::is_directory(path.toStdString()) ? path.toStdString() : std::string();
        calibration_.reset();
        AppSettings::addRecent(AppSettings::Recent::Dataset, path);
        return true;
    } catch (const std::exception& e) {
        if (error) *error = QString::fromStdString(e.what());
        return false;
    }
}

void MainWindow::setModel(std::shared_ptr<const ss::Model> model) {
    panel_->setOverrides({}); // they named the previous model's layers
    // Data of the other task, or tokens of another vocabulary, no longer fit.
    const bool lm = model->task == ss::EvalTask::LanguageModeling;
    if (lm || !model_ || model_->task == ss::EvalTask::LanguageModeling) {
        if (lm) dataset_.reset();
        if (!lm || !model_ || model_->lm.vocab != model->lm.vocab || model_->lm.tokenizer_path != model->lm.tokenizer_path) {
            tokens_.reset();
            calib_tokens_.reset();
        }
    }
    model_ = std::move(model);
    accuracy_plot_->setTask(model_->task); // runs of the other task stay in the table, not in the plots
    metric_plot_->setTask(model_->task);
    hideConstantColumns();
    inspector_->setSource(lm ? model_ : nullptr, tokens_, lmContext());
    inspector_->setCalibration(calib_tokens_);
    generation_->setModel(lm ? model_ : nullptr);
    generation_->setCalibration(calib_tokens_, lmContext());
    main_tabs_->setTabVisible(main_tabs_->indexOf(inspector_), lm); // language-model views
    main_tabs_->setTabVisible(main_tabs_->indexOf(generation_), lm);
    for (QWidget* w : {static_cast<QWidget*>(robustness_chart_), static_cast<QWidget*>(reliability_), static_cast<QWidget*>(ood_chart_),
                       static_cast<QWidget*>(gallery_)})
        main_tabs_->setTabVisible(main_tabs_->indexOf(w), !lm); // classifier views
    input_panel_->setVisible(!lm); // preprocessing of images: not a language model's
    lm_eval_->setVisible(lm);
    if (lm) lm_eval_->setLimits(model_->lm.max_positions, tokens_ ? int(tokens_->tokens.size()) : 0);
    layer_tree_->setModel(model_.get());
    input_panel_->setInput(model_->input);
    const auto moes = model_->moe_layers();
    panel_->setMoe(moes.empty() ? 0 : int(moes.front()->experts.size()), moes.empty() ? 0 : moes.front()->top_k);
    refreshStatus();
}

void MainWindow::setDataset(std::shared_ptr<const ss::Dataset> dataset) {
    dataset_ = std::move(dataset);
    resetDatasetCard();
    refreshStatus();
}

void MainWindow::refreshStatus() {
    const QLocale loc;
    if (isLanguageModel()) {
        model_label_->setText(lmModelText());
        model_label_->setToolTip(QString::fromStdString(model_->source_path));
    } else if (model_) {
        QString moe;
        for (const ss::MoeLayer* m : model_->moe_layers())
            moe += tr("<br>MoE '%1': %2 experts, top-%3").arg(QString::fromStdString(m->name)).arg(m->experts.size()).arg(m->top_k);
        if (!model_->nonfinite.empty()) // loaded with --allow-nonfinite: every figure from it is suspect
            moe += tr("<br><font color='#b00020'>NaN or infinite weights (%1), loaded with --allow-nonfinite</font>")
                       .arg(QString::fromStdString(model_->nonfinite).toHtmlEscaped());
        model_label_->setText(tr("<b>Model</b> %1<br>%2 parameters, %3 classes%4")
                                  .arg(QString::fromStdString(model_->name).toHtmlEscaped(), loc.toString(qlonglong(model_->parameter_count())))
                                  .arg(model_->num_classes()).arg(moe));
        model_label_->setToolTip(QString::fromStdString(model_->source_path));
    } else {
        model_label_->setText(tr("<b>Model</b> none — File ▸ Open Model"));
    }
    if (isLanguageModel()) {
        dataset_label_->setText(tokens_ ? lmDataText() : tr("<b>Text</b> none — File ▸ Open Dataset (a .txt to tokenize, or token ids in .npy)"));
        dataset_label_->setToolTip(tokens_ ? QString::fromStdString(tokens_->sha256) : QString());
    } else if (dataset_) {
        const std::vector<int> counts = dataset_->class_counts();
        const auto [lo, hi] = std::minmax_element(counts.begin(), counts.end());
        dataset_label_->setText(tr("<b>Data</b> %1<br>%2 %3 samples, %4 features, %5 classes (%6–%7 per class)<br>SHA-256 %8…")
                                    .arg(QString::fromStdString(dataset_->source_path).toHtmlEscaped(),
                                         QString::fromStdString(dataset_->format).toUpper(), loc.toString(dataset_->count))
                                    .arg(dataset_->features).arg(dataset_->num_classes)
                                    .arg(counts.empty() ? 0 : *lo).arg(counts.empty() ? 0 : *hi)
                                    .arg(QString::fromStdString(dataset_->sha256.substr(0, 16))));
        QString balance = tr("Samples per class:");
        const std::vector<std::string> names = classNames();
        for (size_t c = 0; c < counts.size(); ++c) {
            const QString name = c < names.size() ? QStringLiteral("%1 %2").arg(c).arg(QString::fromStdString(names[c])) : QString::number(c);
            balance += QStringLiteral("\n  %1: %2").arg(name, loc.toString(counts[c]));
        }
        dataset_label_->setToolTip(tr("SHA-256 %1\n%2").arg(QString::fromStdString(dataset_->sha256), balance));
        // Provenance in one line; what is unknown asks to be stated (File > Dataset Card).
        dataset_label_->setText(dataset_label_->text() + QStringLiteral("<br>") +
                                (provenance_.license.empty()
                                     ? tr("<font color='#b06000'>licence not stated — File ▸ Dataset Card</font>")
                                     : tr("licence %1%2").arg(QString::fromStdString(provenance_.license).toHtmlEscaped(),
                                                              leakage_ ? tr(", %1 near-duplicates of train").arg(leakage_->near_pairs + leakage_->exact_pairs)
                                                                       : QString())));
    } else {
        dataset_label_->setText(tr("<b>Data</b> none — File ▸ Open Dataset"));
    }
    panel_->evaluateButton()->setEnabled(hasData() && !runner_->isRunning());
    QString title = tr("SparseScope");
    if (!session_path_.isEmpty()) title = QFileInfo(session_path_).fileName() + QStringLiteral(" — ") + title;
    if (session_ && session_->read_only()) title = tr("%1 (read-only)").arg(title);
    setWindowTitle((dirty_ ? QStringLiteral("*") : QString()) + title);
}

bool MainWindow::makeJob(EvaluationJob* job, QString* error, const ss::CompressionPlan* plan) {
    if (!hasData()) return false;
    job->model = model_;
    job->dataset = dataset_;
    try {
        job->plan = plan ? *plan : panel_->plan();
    } catch (const std::exception& e) {
        *error = QString::fromStdString(e.what());
        return false;
    }
    job->baseline = baseline_;
    job->options.threads = panel_->threads();
    job->options.latency_samples = latency_samples_;
    job->options.latency_warmup = std::min(20, latency_samples_);
    if (isLanguageModel()) return makeLmJob(job, error);
    if (!calibrationFor(job->plan, &job->calibration, error)) return false;
    if (!input_panel_->input(&job->input, error)) return false;
    if (dataset_->features != model_->input_features()) {
        *error = tr("%1: samples have %2 features but model '%3' expects %4")
                     .arg(QString::fromStdString(dataset_->source_path)).arg(dataset_->features)
                     .arg(QString::fromStdString(model_->name)).arg(model_->input_features());
        return false;
    }
    addBeyondAccuracy(job);
    return true;
}

void MainWindow::evaluate() {
    if (!hasData()) return;
    if (runner_->isRunning()) {
        if (!runner_->currentIsLive()) return;
        runner_->cancel(); // an explicit evaluation replaces a live one
    }
    // With Live on, the explicit run takes the live preview's row: one run of these settings, not
    // the preview and the same evaluation again. The preview stays one until the run finishes.
    replace_live_row_ = live_row_ >= 0 && live_row_ < runs_->rowCount();
    EvaluationJob job;
    QString err;
    if (!makeJob(&job, &err)) {
        if (!err.isEmpty()) showError(tr("Cannot evaluate"), err, FailedAction::Evaluate);
        return;
    }
    if (runner_->isRunning()) runner_->restart(std::move(job));
    else runner_->start(std::move(job));
    panel_->setRunning(true);
    statusBar()->showMessage(tr("Evaluating…"));
}

bool MainWindow::runSweep(std::vector<ss::CompressionPlan> plans, QString* error) {
    if (!hasData()) return (*error = tr("Open a model and a dataset first")), false;
    if (runner_->isRunning()) return (*error = tr("An evaluation is running; wait for it or cancel it")), false;
    if (plans.empty()) return (*error = tr("The sweep has no settings to run")), false;
    sweep_queue_ = std::move(plans);
    sweep_total_ = int(sweep_queue_.size());
    sweep_done_ = 0;
    sweep_clock_.start();
    live_row_ = -1;
    panel_->setRunning(true);
    startNextSweepRun();
    return true;
}

void MainWindow::startNextSweepRun() {
    if (sweep_queue_.empty()) return endSweep(tr("Sweep done: %n run(s)", nullptr, sweep_done_));
    const ss::CompressionPlan plan = sweep_queue_.front();
    sweep_queue_.erase(sweep_queue_.begin());
    EvaluationJob job;
    QString err;
    if (!makeJob(&job, &err, &plan)) {
        endSweep(tr("Sweep stopped after %1 of %2 runs").arg(sweep_done_).arg(sweep_total_));
        showError(tr("Cannot run the sweep"), tr("%1: %2").arg(QString::fromStdString(plan.summary()), err), FailedAction::Evaluate);
        return;
    }
    runner_->start(std::move(job));
    QString eta;
    if (sweep_done_ > 0) {
        const double per = double(sweep_clock_.elapsed()) / 1000.0 / sweep_done_;
        eta = tr(", about %1 s left").arg(per * (sweep_total_ - sweep_done_), 0, 'f', 0);
    }
    statusBar()->showMessage(tr("Sweep: run %1 of %2 (%3)%4").arg(sweep_done_ + 1).arg(sweep_total_)
                                 .arg(QString::fromStdString(plan.summary()), eta));
}

void MainWindow::endSweep(const QString& message) {
    sweep_queue_.clear();
    sweep_total_ = 0;
    panel_->setRunning(false);
    statusBar()->showMessage(message, 10000);
}

void MainWindow::startLive(bool quick) {
    EvaluationJob job;
    QString err;
    if (!makeJob(&job, &err)) {
        if (!err.isEmpty()) statusBar()->showMessage(tr("Live: %1").arg(err), 5000);
        return;
    }
    // Live: a 1,000-sample estimate first, then the whole set (one compression for both, one job);
    // few latency samples, and speed
    // ratios from the dense baseline's own timing instead of re-timing it beside every change.
    job.live = true;
    job.robustness.reset(); // live previews stay quick
    job.ood.reset();
    job.side_by_side = false;
    job.options.latency_samples = std::min(latency_samples_, 30);
    job.options.latency_warmup = std::min(job.options.latency_samples, 5);
    job.estimate_samples = quick ? (isLanguageModel() ? 2 : 1000) : 0; // language models: chunks
    runner_->restart(std::move(job));
}

bool MainWindow::openPath(const QString& path, QString* error) {
    // By content (formats/file_kind.h), never by name: a session renamed .db or .safetensors is
    // still a session. A config.json dropped alone opens its directory's model.
    const QFileInfo info(path);
    const ss::FileKind kind = ss::detect_file_kind(path.toStdString());
    if (kind == ss::FileKind::Text && info.fileName() == QLatin1String("config.json")) return openModel(info.absolutePath()), true;
    switch (ss::open_role(kind)) {
    case ss::OpenRole::Session: return confirmDiscardUnsaved() && openSession(path, error);
    case ss::OpenRole::Model: return openModel(path), true; // in the background
    case ss::OpenRole::Dataset: return openData(path, {}, error); // the loader names what it expected
    case ss::OpenRole::None: break;
    }
    if (error) *error = tr("%1 is %2: SparseScope opens models, datasets and sessions").arg(path, QString::fromStdString(ss::file_kind_description(kind)));
    return false;
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
    for (const QUrl& url : event->mimeData()->urls()) {
        if (!url.isLocalFile()) continue;
        QString err;
        if (!openPath(url.toLocalFile(), &err)) showError(tr("Cannot open %1").arg(url.toLocalFile()), err);
    }
    event->acceptProposedAction();
}

bool MainWindow::calibrationFor(const ss::CompressionPlan& plan, std::shared_ptr<const ss::Dataset>* out, QString* error) {
    out->reset();
    if (!plan.needs_calibration()) return true;
    if (dataset_dir_.empty() && !calibration_) {
        *error = tr("This plan (%1) needs calibration samples: open the dataset as a folder that also holds its train split.")
                     .arg(QString::fromStdString(plan.summary()));
        return false;
    }
    if (trainSplit(out, error)) return true;
    *error = tr("This plan needs calibration samples, and %1").arg(*error);
    return false;
}

bool MainWindow::trainSplit(std::shared_ptr<const ss::Dataset>* out, QString* error) {
    if (!calibration_) {
        if (dataset_dir_.empty()) {
            *error = tr("the dataset was not opened as a folder: open the folder that holds its train split (File ▸ Open Dataset Folder).");
            return false;
        }
        try {
            QApplication::setOverrideCursor(Qt::WaitCursor);
            calibration_ = std::make_shared<const ss::Dataset>(ss::load_idx_dir(dataset_dir_, "train"));
            QApplication::restoreOverrideCursor();
        } catch (const std::exception& e) {
            QApplication::restoreOverrideCursor();
            *error = tr("the train split could not be read: %1").arg(QString::fromStdString(e.what()));
            return false;
        }
    }
    *out = calibration_;
    return true;
}

bool MainWindow::loadPlan(const QString& path, QString* error) {
    try {
        const auto bytes = ss::read_file_bytes(path.toStdString());
        panel_->setPlanFile(path, ss::parse_compression_plan(std::string(bytes.begin(), bytes.end()), path.toStdString()));
        return true;
    } catch (const std::exception& e) {
        if (error) *error = QString::fromStdString(e.what());
        return false;
    }
}

bool MainWindow::confirmDiscardUnsaved() {
    if (!dirty_ || runs_->rowCount() == 0) return true;
    return QMessageBox::question(this, tr("Unsaved runs"), tr("The current session has unsaved runs. Discard them?"),
                                 QMessageBox::Discard | QMessageBox::Cancel) == QMessageBox::Discard;
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (!confirmDiscardUnsaved()) {
        event->ignore();
        return;
    }
    runner_->cancel();
    saveLayout();
    event->accept();
}

void MainWindow::showError(const QString& title, const QString& message, FailedAction hint) {
    statusBar()->showMessage(message, 10000);
    QMessageBox box(QMessageBox::Critical, title, message, QMessageBox::Ok, this);
    box.setInformativeText(error_hint(hint));
    box.exec();
}

} // namespace ssui
