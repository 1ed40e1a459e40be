// main_window_run_edits.cpp - MainWindow and the runs the user edits as a whole: hidden, deleted,
// restored (each an undoable step, written to the session at once) and purged; and a run's
// settings loaded back into the controls, or its model exported.
#include "main_window.h"

#include "compression_panel.h"
#include "run_filter_proxy.h"
#include "run_list_model.h"
#include "session/session_db.h"

#include <QStatusBar>
#include <QUndoCommand>
#include <QUndoStack>

#include <algorithm>
#include <cmath>
#include <functional>

namespace ssui {

namespace {
// One step on the undo stack: `apply(true)` does it, `apply(false)` takes it back.
class RunEditCommand : public QUndoCommand {
public:
    RunEditCommand(const QString& text, std::function<void(bool)> apply) : QUndoCommand(text), apply_(std::move(apply)) {}
    void redo() override { apply_(true); }
    void undo() override { apply_(false); }

private:
    std::function<void(bool)> apply_;
};

QString runList(const RunListModel& runs, const std::vector<int>& rows) {
    QStringList ids;
    for (int r : rows) ids << QString::number(runs.run(r).id);
    return ids.join(QStringLiteral(", "));
}
} // namespace

QSortFilterProxyModel* MainWindow::runsView() const { return proxy_; }

bool MainWindow::hideRuns(const std::vector<int>& rows, bool hide, QString* error) {
    std::vector<int> todo;
    for (int r : rows)
        if (r >= 0 && r < runs_->rowCount() && r != live_row_ && runs_->run(r).hidden != hide && !runs_->run(r).deleted()) todo.push_back(r);
    if (todo.empty()) {
        *error = rows.size() == 1 && rows.front() == live_row_
                     ? tr("Run %1 is the live preview: the next change replaces it. Press Evaluate to keep it first.").arg(runs_->run(live_row_).id)
                     : hide ? tr("Select runs to hide in the runs table (they are all hidden already, or none is selected).")
                            : tr("None of the selected runs is hidden.");
        return false;
    }
    const QString what = (hide ? tr("Hide run(s) %1") : tr("Unhide run(s) %1")).arg(runList(*runs_, todo));
    undo_->push(new RunEditCommand(what, [this, todo, hide](bool forward) {
        const bool value = forward ? hide : !hide;
        QStringList failed;
        for (int r : todo) {
            runs_->setHidden(r, value);
            if (session_ && !session_->read_only() && runs_->isOwn(r)) {
                try {
                    session_->set_hidden(runs_->run(r).id, value);
                } catch (const std::exception& e) {
                    failed << QString::fromStdString(e.what());
                }
            }
        }
        if (!failed.isEmpty()) statusBar()->showMessage(tr("Not saved in the session: %1").arg(failed.join(QStringLiteral("; "))), 10000);
        else if (value && forward)
            statusBar()->showMessage(tr("Hid %n run(s): View ▸ Show Hidden Runs shows them, Edit ▸ Undo takes it back", nullptr, int(todo.size())), 8000);
    }));
    return true;
}

bool MainWindow::deleteRuns(const std::vector<int>& rows, QString* error) {
    std::vector<int> todo;
    int others = 0;
    for (int r : rows) {
        if (r < 0 || r >= runs_->rowCount() || r == live_row_ || runs_->run(r).deleted()) continue;
        if (!runs_->isOwn(r)) ++others;
        else todo.push_back(r);
    }
    if (todo.empty()) {
        *error = others > 0 ? tr("Runs of another session shown to compare are not deleted from here; open that session to delete them.")
                 : std::find(rows.begin(), rows.end(), live_row_) != rows.end() && live_row_ >= 0
                     ? tr("Run %1 is the live preview: the next change replaces it. Press Evaluate to keep it first.").arg(runs_->run(live_row_).id)
                     : tr("Select the runs to delete in the runs table.");
        return false;
    }
    if (session_ && session_->read_only()) {
        *error = tr("%1 is open read-only: runs cannot be deleted from it (File ▸ Save Session As makes a copy you can edit).").arg(session_path_);
        return false;
    }
    const int baseline = runs_->baselineRow();
    const bool takes_baseline = std::find(todo.begin(), todo.end(), baseline) != todo.end();
    const std::string when = ss::utc_now_iso8601();
    const QString what = tr("Delete run(s) %1").arg(runList(*runs_, todo));
    undo_->push(new RunEditCommand(what, [this, todo, when, takes_baseline, baseline](bool forward) {
        const bool saved = setRunsDeletedAt(todo, std::vector<std::string>(todo.size(), forward ? when : std::string()));
        if (takes_baseline) useRunAsBaseline(forward ? -1 : baseline); // a deleted run is no baseline; undo brings it back as one
        if (saved && forward)
            statusBar()->showMessage(tr("Deleted %n run(s): Edit ▸ Undo brings them back; they stay in the session file until "
                                        "File ▸ Purge Deleted Runs", nullptr, int(todo.size())), 10000);
    }));
    return true;
}

bool MainWindow::restoreDeletedRuns(QString* error) {
    std::vector<int> rows;
    for (int r = 0; r < runs_->rowCount(); ++r)
        if (runs_->run(r).deleted() && runs_->isOwn(r)) rows.push_back(r);
    if (rows.empty()) {
        *error = tr("This session has no deleted runs.");
        return false;
    }
    if (session_ && session_->read_only()) {
        *error = tr("%1 is open read-only: its deleted runs cannot be restored in it.").arg(session_path_);
        return false;
    }
    std::vector<std::string> when;
    for (int r : rows) when.push_back(runs_->run(r).deleted_at);
    undo_->push(new RunEditCommand(tr("Restore run(s) %1").arg(runList(*runs_, rows)), [this, rows, when](bool forward) {
        setRunsDeletedAt(rows, forward ? std::vector<std::string>(rows.size()) : when);
    }));
    return true;
}

bool MainWindow::setRunsDeletedAt(const std::vector<int>& rows, const std::vector<std::string>& deleted_at) {
    QStringList failed;
    for (size_t i = 0; i < rows.size(); ++i) {
        runs_->setDeletedAt(rows[i], deleted_at[i]);
        if (session_ && !session_->read_only()) {
            try {
                session_->set_deleted(runs_->run(rows[i]).id, !deleted_at[i].empty());
            } catch (const std::exception& e) {
                failed << QString::fromStdString(e.what());
            }
        }
    }
    if (!failed.isEmpty()) {
        dirty_ = true; // Save Session As keeps what the file could not take
        statusBar()->showMessage(tr("Not saved in the session: %1").arg(failed.join(QStringLiteral("; "))), 10000);
    }
    refreshStatus();
    return failed.isEmpty();
}

int MainWindow::purgeDeletedRuns(QString* error) {
    std::vector<int> rows;
    for (int r = 0; r < runs_->rowCount(); ++r)
        if (runs_->run(r).deleted() && runs_->isOwn(r)) rows.push_back(r);
    int64_t purged = 0;
    if (session_) {
        if (session_->read_only()) {
            *error = tr("%1 is open read-only: nothing can be purged from it.").arg(session_path_);
            return -1;
        }
        try {
            purged = session_->purge_deleted();
        } catch (const std::exception& e) {
            *error = QString::fromStdString(e.what());
            return -1;
        }
    }
    if (live_row_ >= 0) // the live preview is never deleted: it moves up past the rows erased above it
        live_row_ -= int(std::count_if(rows.begin(), rows.end(), [this](int r) { return r < live_row_; }));
    runs_->eraseRows(rows);
    undo_->clear(); // the steps name rows that no longer exist
    refreshStatus();
    // Runs the file never held (a write had failed) leave the table too.
    const int gone = int(std::max<int64_t>(purged, int64_t(rows.size())));
    statusBar()->showMessage(tr("Purged %n deleted run(s)", nullptr, gone), 8000);
    return gone;
}

void MainWindow::setShowHiddenRuns(bool show) {
    runs_->setShowHidden(show); // runsChanged: the table and the plots follow
    if (show_hidden_action_ && show_hidden_action_->isChecked() != show) show_hidden_action_->setChecked(show);
}

bool MainWindow::loadRunSettings(int row, QString* error) {
    if (row < 0 || row >= runs_->rowCount()) return (*error = tr("Select the run whose settings to load in the runs table.")), false;
    const ss::RunRecord& r = runs_->run(row);
    if (!panel_->setPlan(r.plan, tr("run %1").arg(r.id), r.result.threads)) {
        *error = tr("Run %1's plan (%2) does not fit the loaded model: its top-k needs MoE layers.").arg(r.id).arg(QString::fromStdString(r.plan.summary()));
        return false;
    }
    QString msg = tr("Settings of run %1 loaded: %2, %3 threads").arg(r.id).arg(QString::fromStdString(r.plan.summary())).arg(r.result.threads);
    if (model_ && model_->name != r.model_name) msg += tr(" (run %1 measured %2; the loaded model is %3)").arg(r.id).arg(QString::fromStdString(r.model_name), QString::fromStdString(model_->name));
    statusBar()->showMessage(msg, 10000);
    return true;
}

bool MainWindow::exportRunModel(int row, const QString& path, QString* error) {
    if (row < 0 || row >= runs_->rowCount()) return (*error = tr("Select the run whose model to export in the runs table.")), false;
    const ss::RunRecord& r = runs_->run(row);
    if (r.recovery.present()) {
        *error = tr("Run %1's model was fine-tuned (%2); sessions keep its measurements, not its weights. Save it from the Recover "
                    "Accuracy dialog when it ends, or write it with sparsescope-cli finetune -o.")
                     .arg(r.id)
                     .arg(QString::fromStdString(r.recovery.method));
        return false;
    }
    const bool same = model_ && model_->name == r.model_name &&
                      (r.model_sha256.empty() || model_->sha256().empty() || model_->sha256() == r.model_sha256);
    if (!same) {
        *error = tr("Run %1 measured the model %2 (%3); open that model first (File ▸ Open Model), then export again.")
                     .arg(r.id).arg(QString::fromStdString(r.model_name), QString::fromStdString(r.model_path));
        return false;
    }
    const bool has_input = std::isfinite(r.input.scale) && std::isfinite(r.input.mean) && std::isfinite(r.input.std);
    return exportModel(path, error, &r.plan, has_input ? &r.input : nullptr);
}

} // namespace ssui
