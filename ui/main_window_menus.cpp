// main_window_menus.cpp - MainWindow's menus (File, Edit, View, Run) and the recent-files submenu; the
// actions call the window's non-interactive entry points (main_window.h).
#include "main_window.h"


#include "run_list_model.h"
#include "session/session_db.h"

#include "app_settings.h"
#include "compression_panel.h"
#include "evaluation_runner.h"
#include "sweep_dialog.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QHeaderView>
#include <QUndoStack>
#include <QTabWidget>
#include <QStatusBar>
#include <QTableView>

#include <algorithm>

namespace ssui {

void MainWindow::fillRecentMenu(QMenu* menu) {
    menu->clear();
    bool any = false;
    const std::pair<AppSettings::Recent, QString> kinds[] = {
        {AppSettings::Recent::Model, tr("Models")}, {AppSettings::Recent::Dataset, tr("Datasets")}, {AppSettings::Recent::Session, tr("Sessions")}};
    for (const auto& [kind, heading] : kinds) {
        const QStringList paths = AppSettings::recent(kind);
        if (paths.isEmpty()) continue;
        menu->addSection(heading);
        for (const QString& path : paths) {
            if (kind == AppSettings::Recent::Session && !QFileInfo::exists(path)) continue; // removed since
            menu->addAction(path, this, [this, kind = kind, path] {
                QString err;
                bool ok = true;
                if (kind == AppSettings::Recent::Model) openModel(path);
                else if (kind == AppSettings::Recent::Dataset) ok = openData(path, {}, &err);
                else if (confirmDiscardUnsaved()) ok = openSession(path, &err);
                if (!ok) showError(tr("Cannot open %1").arg(path), err);
            });
            any = true;
        }
    }
    if (!any) menu->addAction(tr("(nothing opened yet)"))->setEnabled(false);
}

MainWindow::~MainWindow() = default;

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("Open &Model…"), QKeySequence(Qt::CTRL | Qt::Key_M), this, [this] {
        const QString p = QFileDialog::getExistingDirectory(this, tr("Open model directory"));
        if (!p.isEmpty()) openModel(p);
    });
    file->addAction(tr("Open Model &File…"), this, [this] {
        const QString p = QFileDialog::getOpenFileName(this, tr("Open model"), {}, tr("Models (*.safetensors *.onnx);;All files (*)"));
        if (!p.isEmpty()) openModel(p);
    });
    file->addAction(tr("Open &Dataset Folder…"), QKeySequence(Qt::CTRL | Qt::Key_D), this, [this] {
        const QString p = QFileDialog::getExistingDirectory(this, tr("Open dataset folder (IDX files, or X.npy + y.npy)"));
        QString err;
        if (!p.isEmpty() && !openData(p, {}, &err)) showError(tr("Cannot open dataset"), err, FailedAction::OpenDataset);
    });
    file->addAction(tr("Open Dataset F&ile…"), this, [this] {
        const QString p = QFileDialog::getOpenFileName(this, tr("Open dataset"), {},
                                                       tr("Datasets and text (*.csv *.npy *images-idx* *.txt *.txt.gz);;All files (*)"));
        if (p.isEmpty()) return;
        QString label_column;
        if (p.endsWith(QLatin1String(".csv"), Qt::CaseInsensitive)) {
            bool ok = false;
            label_column = QInputDialog::getText(this, tr("CSV label column"),
                                                 tr("Label column: a header name or a 0-based index.\n"
                                                    "Leave empty for a column named label / class / target / y, else column 0."),
                                                 QLineEdit::Normal, {}, &ok);
            if (!ok) return;
        }
        QString err;
        if (!openData(p, label_column, &err)) showError(tr("Cannot open dataset"), err, FailedAction::OpenDataset);
    });
    file->addAction(tr("Dataset Ca&rd…"), QKeySequence(Qt::CTRL | Qt::Key_I), this, [this] { showDatasetCard(); })
        ->setStatusTip(tr("The open dataset's provenance and licence, and a check for duplicates and train/test leakage"));
    file->addAction(tr("Open &Calibration Text…"), this, [this] {
        const QString p = QFileDialog::getOpenFileName(this, tr("Calibration text for the language model (not the evaluation text)"), {},
                                                       tr("Text or token ids (*.txt *.txt.gz *.npy);;All files (*)"));
        QString err;
        if (!p.isEmpty() && !loadCalibrationText(p, &err)) showError(tr("Cannot open calibration text"), err, FailedAction::OpenDataset);
    });
    QMenu* recent = file->addMenu(tr("Open &Recent"));
    connect(recent, &QMenu::aboutToShow, this, [this, recent] { fillRecentMenu(recent); });
    file->addSeparator();
    file->addAction(tr("&New Session"), QKeySequence::New, this, [this] { newSession(); });
    file->addAction(tr("&Open Session…"), QKeySequence::Open, this, [this] {
        if (!confirmDiscardUnsaved()) return;
        const QString p = QFileDialog::getOpenFileName(this, tr("Open session"), {}, tr("SparseScope session (*.sparsescope *.db);;All files (*)"));
        QString err;
        if (!p.isEmpty() && !openSession(p, &err)) showError(tr("Cannot open session"), err, FailedAction::OpenSession);
    });
    auto save_as = [this] {
        const QString p = QFileDialog::getSaveFileName(this, tr("Save session as"), QStringLiteral("session.sparsescope"),
                                                       tr("SparseScope session (*.sparsescope)"));
        QString err;
        if (!p.isEmpty() && !saveSession(p, &err)) showError(tr("Cannot save session"), err, FailedAction::SaveSession);
    };
    file->addAction(tr("&Save Session"), QKeySequence::Save, this, [this, save_as] {
        // Runs are committed as they finish; Save names an untitled session or rescues unsaved runs.
        if (session_ && !session_untitled_ && !session_->read_only() && !dirty_)
            statusBar()->showMessage(tr("Every run is already saved in %1").arg(session_path_), 5000);
        else save_as();
    });
    file->addAction(tr("Save Session &As…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S), this, save_as); // QKeySequence::SaveAs is empty under plain X11
    file->addAction(tr("Add Session to &Compare…"), this, [this] {
        const QString p = QFileDialog::getOpenFileName(this, tr("Add a session to compare"), {},
                                                       tr("SparseScope session (*.sparsescope *.db);;All files (*)"));
        QString err;
        if (!p.isEmpty() && !addComparisonSession(p, &err)) showError(tr("Cannot open session"), err, FailedAction::OpenSession);
    });
    file->addSeparator();
    file->addAction(tr("Export Compressed &Model…"), this, [this] {
        const QString p = QFileDialog::getSaveFileName(this, tr("Export the model compressed with the current settings"),
                                                       QStringLiteral("compressed.safetensors"), tr("safetensors (*.safetensors)"));
        QString err;
        if (!p.isEmpty() && !exportModel(p, &err)) showError(tr("Cannot export model"), err, FailedAction::ExportFile);
    });
    auto one_run = [this](const QString& what) { // the one selected run's row, or -1 (and a message)
        const std::vector<int> rows = selectedRuns();
        if (rows.size() != 1) showError(tr("Select one run"), tr("Select one run in the runs table, then choose %1 again.").arg(what));
        return rows.size() == 1 ? rows.front() : -1;
    };
    QAction* export_run = file->addAction(tr("Export R&un's Model…"), this, [this, one_run] {
        const int row = one_run(tr("Export Run's Model"));
        if (row < 0) return;
        const QString p = QFileDialog::getSaveFileName(this, tr("Export the model as run %1 compressed it").arg(runs_->run(row).id),
                                                       QStringLiteral("run-%1.safetensors").arg(runs_->run(row).id), tr("safetensors (*.safetensors)"));
        QString err;
        if (!p.isEmpty() && !exportRunModel(row, p, &err)) showError(tr("Cannot export the run's model"), err, FailedAction::ExportFile);
    });
    export_run->setObjectName(QStringLiteral("exportRunModel"));
    QAction* card = file->addAction(tr("Export Model &Card…"), this, [this, one_run] {
        const int row = one_run(tr("Export Model Card"));
        if (row < 0) return;
        const QString p = QFileDialog::getSaveFileName(this, tr("Export the model card of run %1").arg(runs_->run(row).id),
                                                       QStringLiteral("model-card.md"), tr("Markdown (*.md)"));
        QString err;
        if (!p.isEmpty() && !exportModelCard(row, p, &err)) showError(tr("Cannot export the model card"), err, FailedAction::ExportFile);
    });
    const QString formats = tr("PNG image (*.png);;PDF document (*.pdf);;SVG drawing (*.svg)");
    file->addAction(tr("&Export Chart…"), this, [this, formats] {
        Chart chart;
        QString name;
        if (!mainChart(&chart, &name)) {
            statusBar()->showMessage(tr("The %1 tab has no chart to export").arg(main_tabs_->tabText(main_tabs_->currentIndex())), 5000);
            return;
        }
        const QString p = QFileDialog::getSaveFileName(this, tr("Export the %1 chart").arg(main_tabs_->tabText(main_tabs_->currentIndex())), name, formats);
        QString err;
        if (!p.isEmpty() && !exportChart(p, &err, chart)) showError(tr("Cannot export chart"), err, FailedAction::ExportFile);
    });
    file->addAction(tr("Export &Runs Table…"), QKeySequence(Qt::CTRL | Qt::Key_E), this, [this] {
        const QString p = QFileDialog::getSaveFileName(this, tr("Export the runs as shown"), QStringLiteral("runs.csv"),
                                                       tr("CSV table (*.csv);;JSON, every field (*.json)"));
        QString err;
        if (!p.isEmpty() && !exportRuns(p, &err)) showError(tr("Cannot export the runs"), err, FailedAction::ExportFile);
    });
    file->addAction(tr("Export &Detail Chart…"), this, [this, formats] {
        Chart chart;
        QString name;
        if (!detailChart(&chart, &name)) {
            statusBar()->showMessage(tr("The %1 tab has no chart to export").arg(detail_tabs_->tabText(detail_tabs_->currentIndex())), 5000);
            return;
        }
        const QString p = QFileDialog::getSaveFileName(this, tr("Export the %1 chart").arg(detail_tabs_->tabText(detail_tabs_->currentIndex())), name, formats);
        QString err;
        if (!p.isEmpty() && !exportChart(p, &err, chart)) showError(tr("Cannot export chart"), err, FailedAction::ExportFile);
    });
    file->addSeparator();
    QAction* purge = file->addAction(tr("&Purge Deleted Runs…"), this, [this] {
        const int n = runs_->deletedCount();
        if (n == 0) return showError(tr("Nothing to purge"), tr("This session has no deleted runs (Edit ▸ Delete Runs deletes the selected ones)."));
        const auto answer = QMessageBox::question(
            this, tr("Purge deleted runs"),
            tr("Remove the %n deleted run(s) from %1 for good?\nTheir measurements are overwritten in the file; this cannot be undone.", nullptr, n)
                .arg(session_path_.isEmpty() ? tr("this session") : session_path_),
            QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Cancel);
        if (answer != QMessageBox::Discard) return;
        QString err;
        if (purgeDeletedRuns(&err) < 0) showError(tr("Cannot purge"), err);
    });
    purge->setObjectName(QStringLiteral("purgeDeletedRuns"));
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    QAction* undo = undo_->createUndoAction(this, tr("&Undo"));
    undo->setShortcut(QKeySequence::Undo);
    QAction* redo = undo_->createRedoAction(this, tr("&Redo"));
    redo->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z)); // QKeySequence::Redo differs by desktop; this one everywhere
    edit->addAction(undo);
    edit->addAction(redo);
    edit->addSeparator();
    edit->addAction(tr("&Copy Chart"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C), this,
                    [this] {
                        Chart chart;
                        QString name;
                        if (mainChart(&chart, &name)) copyChart(chart);
                    });
    edit->addAction(tr("Copy &Detail Chart"), QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_C), this, [this] {
        Chart chart;
        QString name;
        if (detailChart(&chart, &name)) copyChart(chart);
    });
    edit->addAction(tr("&Find Runs"), QKeySequence::Find, this, [this] { filter_->setFocus(); });
    edit->addSeparator();
    QAction* as_base = edit->addAction(tr("Use Run as &Baseline"), QKeySequence(Qt::CTRL | Qt::Key_B), this, [this] {
        const std::vector<int> rows = selectedRuns();
        if (rows.empty()) return showError(tr("No run selected"), tr("Select the run to compare the others with in the runs table, then choose Use Run as Baseline again."));
        useRunAsBaseline(rows.front());
    });
    edit->addAction(tr("&Tag Runs…"), QKeySequence(Qt::CTRL | Qt::Key_T), this, [this] {
        const std::vector<int> rows = selectedRuns();
        if (rows.empty()) return showError(tr("No run selected"), tr("Select the runs to tag in the runs table, then choose Tag Runs again."));
        bool ok = false;
        const QString tags = QInputDialog::getText(this, tr("Tag runs"), tr("Tags for the %n selected run(s), separated by commas:", nullptr, int(rows.size())),
                                                   QLineEdit::Normal, RunListModel::tagsText(runs_->run(rows.front())), &ok);
        if (ok) tagSelectedRuns(tags);
    });
    QAction* dense_base = edit->addAction(tr("Use &Dense Model as Baseline"), this, [this] { useRunAsBaseline(-1); });
    as_base->setObjectName(QStringLiteral("useRunAsBaseline"));
    dense_base->setObjectName(QStringLiteral("useDenseAsBaseline"));
    edit->addSeparator();
    QAction* hide = edit->addAction(tr("&Hide or Unhide Runs"), QKeySequence(Qt::CTRL | Qt::Key_H), this, [this] {
        const std::vector<int> rows = selectedRuns();
        bool all_hidden = !rows.empty();
        for (int r : rows) all_hidden = all_hidden && runs_->run(r).hidden;
        QString err;
        if (!hideRuns(rows, !all_hidden, &err)) showError(all_hidden ? tr("Cannot unhide") : tr("Cannot hide"), err);
    });
    hide->setToolTip(tr("Hidden runs leave the table and the plots but stay in the session; View ▸ Show Hidden Runs shows them again"));
    hide->setObjectName(QStringLiteral("hideRuns"));
    QAction* del = edit->addAction(tr("De&lete Runs"), QKeySequence::Delete, this, [this] {
        QString err;
        if (!deleteRuns(selectedRuns(), &err)) showError(tr("Cannot delete"), err);
    });
    del->setShortcutContext(Qt::WidgetWithChildrenShortcut); // the Delete key deletes runs only in the table, text elsewhere
    table_->addAction(del);
    del->setObjectName(QStringLiteral("deleteRuns"));
    edit->addAction(tr("Restore Deleted Runs"), this, [this] {
        QString err;
        if (!restoreDeletedRuns(&err)) showError(tr("Nothing to restore"), err);
    })->setObjectName(QStringLiteral("restoreDeletedRuns"));

    QMenu* view = menuBar()->addMenu(tr("&View"));
    show_hidden_action_ = view->addAction(tr("Show &Hidden Runs"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_H), this,
                                          [this](bool on) { setShowHiddenRuns(on); });
    show_hidden_action_->setCheckable(true);
    show_hidden_action_->setObjectName(QStringLiteral("showHiddenRuns"));
    view->addAction(tr("Choose Table &Columns…"), this, [this] { showColumnMenu(table_->horizontalHeader()->rect().center()); });

    QMenu* run = menuBar()->addMenu(tr("&Run"));
    run->addAction(tr("&Evaluate"), QKeySequence(Qt::Key_F5), this, &MainWindow::evaluate);
    run->addAction(tr("&Cancel Evaluation"), QKeySequence(Qt::Key_Escape), runner_, &EvaluationRunner::cancel);
    run->addAction(tr("&Diff Two Runs…"), QKeySequence(Qt::CTRL | Qt::Key_Apostrophe), this, [this] { showRunDiff(); })
        ->setObjectName(QStringLiteral("diffRuns"));
    run->addAction(tr("&Sweep…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_W), this, [this] {
        SweepDialog dialog(this);
        if (dialog.exec() != QDialog::Accepted) return;
        QString err;
        if (!runSweep(dialog.plans(&err), &err)) showError(tr("Cannot run the sweep"), err, FailedAction::Evaluate);
    });
    run->addSeparator();
    QAction* load_settings = run->addAction(tr("&Load Settings of Run"), QKeySequence(Qt::CTRL | Qt::Key_L), this, [this, one_run] {
        const int row = one_run(tr("Load Settings of Run"));
        QString err;
        if (row >= 0 && !loadRunSettings(row, &err)) showError(tr("Cannot load the settings"), err);
    });
    load_settings->setToolTip(tr("Sets pruning, quantization, top-k, experts, overrides and threads to what the selected run used"));
    load_settings->setObjectName(QStringLiteral("loadRunSettings"));
    QAction* recover = run->addAction(tr("&Recover Accuracy…"), QKeySequence(Qt::CTRL | Qt::Key_R), this, [this, one_run] {
        const int row = one_run(tr("Recover Accuracy"));
        QString err;
        if (row >= 0 && !recoverAccuracy(row, &err)) showError(tr("Cannot recover this run"), err);
    });
    recover->setToolTip(tr("Fine-tunes the selected run's compressed model with its pruning mask held fixed (quantization-aware, "
                           "optionally distilled) and adds the recovered run beside it"));
    recover->setObjectName(QStringLiteral("recoverAccuracy"));
    // The runs table's context menu: what applies to the runs under the mouse.
    table_->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(table_, &QWidget::customContextMenuRequested, this, [=, this](const QPoint& at) {
        QMenu menu(this);
        menu.addAction(load_settings);
        menu.addAction(recover);
        menu.addAction(export_run);
        menu.addAction(card);
        menu.addSeparator();
        menu.addAction(as_base);
        menu.addAction(dense_base);
        menu.addSeparator();
        menu.addAction(hide);
        menu.addAction(del);
        menu.exec(table_->viewport()->mapToGlobal(at));
    });
}

} // namespace ssui
