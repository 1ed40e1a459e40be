// main_window_session.cpp - MainWindow's session: autosave of every run, New / Open / Save As,
// other sessions added to compare, the diff of two runs, the warning when compared runs are
// not like for like, and a run's model card.
#include "main_window.h"

#include "accuracy_latency_plot.h"
#include "app_settings.h"
#include "evaluation_runner.h"
#include "formats/file_io.h"
#include "eval/model_card.h"
#include "eval/run_diff.h"
#include "run_diff_dialog.h"
#include "run_list_model.h"
#include "session/session_db.h"
#include "session/session_store.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QStandardPaths>
#include <QStatusBar>
#include <QUndoStack>
#include <QTableView>

#include <set>

namespace ssui {

namespace {
// Where a session lives until the user saves it elsewhere: the application's data folder.
QString untitled_session_path() {
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/sessions");
    QDir().mkpath(dir);
    const QString stamp = QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"));
    QString path = dir + QStringLiteral("/untitled-%1.sparsescope").arg(stamp);
    for (int i = 2; QFileInfo::exists(path); ++i) path = dir + QStringLiteral("/untitled-%1-%2.sparsescope").arg(stamp).arg(i);
    return path;
}

void remove_session_files(const QString& path) {
    for (const char* side : {"", "-wal", "-shm"}) QFile::remove(path + QLatin1String(side));
}
} // namespace

void MainWindow::adoptSession(std::unique_ptr<ss::SessionDb> db, bool untitled) {
    // An untitled session left without runs is not worth keeping.
    if (session_ && session_untitled_ && db.get() != session_.get()) {
        const QString old = session_path_;
        const bool empty = session_->run_count() == 0 && session_->deleted_count() == 0;
        session_.reset();
        if (empty) remove_session_files(old);
    }
    session_ = std::move(db);
    session_untitled_ = untitled;
    session_path_ = session_ ? QString::fromStdString(session_->path()) : QString();
    // Untitled sessions too: after a crash, File > Open Recent is where their runs are found.
    if (session_) AppSettings::addRecent(AppSettings::Recent::Session, session_path_);
    runs_->setSourceName(0, session_path_.isEmpty() ? tr("this session") : QFileInfo(session_path_).completeBaseName());
    refreshStatus();
}

bool MainWindow::ensureSession(QString* error) {
    if (session_) return true;
    try {
        adoptSession(ss::SessionDb::open(untitled_session_path().toStdString(), ss::SessionAccess::ReadWrite), true);
        return true;
    } catch (const std::exception& e) {
        if (error) *error = QString::fromStdString(e.what());
        return false;
    }
}

void MainWindow::persistRun(int row) {
    if (row < 0 || row >= runs_->rowCount() || !runs_->isOwn(row)) return;
    QString err;
    if (session_ && session_->read_only()) {
        err = tr("%1 is open read-only; use File ▸ Save Session As to keep new runs").arg(session_path_);
    } else if (ensureSession(&err)) {
        try {
            runs_->setRunId(row, session_->add_run(runs_->run(row)));
            return;
        } catch (const std::exception& e) {
            err = QString::fromStdString(e.what());
        }
    }
    // Kept in memory; the title shows '*' and File > Save Session As writes them all.
    dirty_ = true;
    refreshStatus();
    statusBar()->showMessage(tr("Run %1 is not saved: %2").arg(runs_->run(row).id).arg(err), 15000);
}

bool MainWindow::newSession() {
    if (!confirmDiscardUnsaved()) return false;
    runner_->cancel();
    live_row_ = -1;
    adoptSession(nullptr, false);
    undo_->clear();
    runs_->setRuns({});
    dirty_ = false;
    showSelectedRun(-1);
    refreshStatus();
    statusBar()->showMessage(tr("New session: runs are saved as they finish (File ▸ Save Session As names the file)"), 8000);
    return true;
}

bool MainWindow::openSession(const QString& path, QString* error) {
    std::unique_ptr<ss::SessionDb> db;
    QString note;
    if (!QFileInfo::exists(path)) { // opening never creates: New Session and Save As do
        if (error) *error = tr("%1: no such file").arg(path);
        return false;
    }
    try {
        try {
            db = ss::SessionDb::open(path.toStdString(), ss::SessionAccess::ReadWrite);
        } catch (const ss::ReadOnlySessionError&) {
            db = ss::SessionDb::open(path.toStdString(), ss::SessionAccess::ReadOnly);
            note = tr("%1 is read-only: its runs are shown, new runs are not saved to it (File ▸ Save Session As keeps them).").arg(path);
        }
        if (!db->backup_path().empty())
            note = tr("%1 was written by an older SparseScope (schema %2) and has been updated; the original is kept as %3")
                       .arg(path).arg(db->found_version()).arg(QString::fromStdString(db->backup_path()));
        std::vector<ss::RunRecord> runs = db->runs(nullptr, ss::DeletedRuns::Include); // deleted ones stay restorable
        const std::string baseline = db->meta("baseline_run").value_or("0");
        runner_->cancel();
        live_row_ = -1;
        adoptSession(std::move(db), false);
        undo_->clear(); // its steps name the runs of the session left
        runs_->setRuns(std::move(runs), QFileInfo(path).completeBaseName());
        for (int row = 0; row < runs_->rowCount(); ++row)
            if (std::to_string(runs_->run(row).id) == baseline) useRunAsBaseline(row);
    } catch (const std::exception& e) {
        if (error) *error = QString::fromStdString(e.what());
        return false;
    }
    dirty_ = false;
    int last = runs_->rowCount() - 1; // the newest run the table shows
    while (last >= 0 && !runs_->isShown(last)) --last;
    if (last >= 0) selectRun(last);
    else showSelectedRun(-1);
    refreshStatus();
    if (!note.isEmpty()) statusBar()->showMessage(note, 15000);
    return true;
}

bool MainWindow::saveSession(const QString& path, QString* error) {
    const QString target = QFileInfo(path).absoluteFilePath();
    if (session_ && !session_->read_only() && !dirty_ && target == QFileInfo(session_path_).absoluteFilePath()) {
        statusBar()->showMessage(tr("Every run is already saved in %1").arg(path), 5000);
        return true;
    }
    try {
        if (session_ && !session_->read_only() && !dirty_) {
            session_->copy_to(path.toStdString()); // the whole file, settings included
        } else { // runs held in memory (a read-only session, or writes that failed)
            // Writing over the open file: let go of it first (its runs are all in the table).
            if (session_ && target == QFileInfo(session_path_).absoluteFilePath()) session_.reset();
            ss::save_session(path.toStdString(), runs_->ownRuns());
        }
        auto db = ss::SessionDb::open(path.toStdString(), ss::SessionAccess::ReadWrite);
        if (runs_->baselineRow() >= 0 && runs_->isOwn(runs_->baselineRow()))
            db->set_meta("baseline_run", std::to_string(runs_->run(runs_->baselineRow()).id));
        const bool was_untitled = session_untitled_;
        const QString old = session_path_;
        adoptSession(std::move(db), false);
        if (was_untitled) remove_session_files(old); // its runs now live at `path`
    } catch (const std::exception& e) {
        if (error) *error = QString::fromStdString(e.what());
        return false;
    }
    dirty_ = false;
    refreshStatus();
    statusBar()->showMessage(tr("Saved %1 runs to %2; new runs are saved there as they finish").arg(runs_->ownRuns().size()).arg(path), 8000);
    return true;
}

bool MainWindow::addComparisonSession(const QString& path, QString* error) {
    try {
        auto db = ss::SessionDb::open(path.toStdString(), ss::SessionAccess::ReadOnly);
        std::vector<ss::RunRecord> runs = db->runs();
        const size_t n = runs.size();
        runs_->setSourceName(0, session_path_.isEmpty() ? tr("this session") : QFileInfo(session_path_).completeBaseName());
        runs_->addSource(QFileInfo(path).completeBaseName(), std::move(runs));
        AppSettings::addRecent(AppSettings::Recent::Session, path);
        statusBar()->showMessage(tr("%1 runs of %2 added to compare (read-only; not saved in this session)").arg(n).arg(path), 8000);
    } catch (const std::exception& e) {
        if (error) *error = QString::fromStdString(e.what());
        return false;
    }
    return true;
}

std::vector<QString> MainWindow::plotGroups() const {
    std::vector<QString> groups;
    const int n = runs_->rowCount();
    if (runs_->sourceCount() > 1) {
        for (int r = 0; r < n; ++r) groups.push_back(runs_->sourceName(runs_->sourceOf(r)));
        return groups;
    }
    std::set<std::string> models;
    for (int r = 0; r < n; ++r) models.insert(runs_->run(r).model_name + "\n" + runs_->run(r).model_sha256);
    if (models.size() > 1)
        for (int r = 0; r < n; ++r) groups.push_back(QString::fromStdString(runs_->run(r).model_name));
    return groups;
}

void MainWindow::refreshComparisonWarning() {
    std::vector<const ss::RunRecord*> compared;
    std::vector<int> rows = selectedRuns();
    if (runs_->baselineRow() >= 0) rows.push_back(runs_->baselineRow());
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    for (int r : rows) compared.push_back(&runs_->run(r));
    const std::vector<std::string> w = compared.size() >= 2 ? ss::comparison_warnings(compared) : std::vector<std::string>{};
    QStringList lines;
    for (const auto& s : w) lines << QStringLiteral("⚠ ") + QString::fromStdString(s);
    warning_label_->setText(lines.join(QLatin1Char('\n')));
    warning_label_->setVisible(!lines.isEmpty());
}

bool MainWindow::exportModelCard(int row, const QString& path, QString* error) {
    if (row < 0 || row >= runs_->rowCount()) return (*error = tr("No run selected")), false;
    const ss::RunRecord& r = runs_->run(row);
    ss::ModelCardOptions o;
    if (model_ && model_->name == r.model_name) o.labels = classNames(); // class names, when the run is of the loaded model
    if (runs_->isOwn(row)) o.session_path = session_path_.toStdString();
    try {
        const std::string md = ss::model_card_markdown(r, o);
        ss::write_file_bytes(path.toStdString(), std::vector<uint8_t>(md.begin(), md.end()));
    } catch (const std::exception& e) {
        if (error) *error = QString::fromStdString(e.what());
        return false;
    }
    statusBar()->showMessage(tr("Model card of run %1 written to %2").arg(r.id).arg(path), 5000);
    return true;
}

bool MainWindow::showRunDiff() {
    const std::vector<int> rows = selectedRuns();
    if (rows.size() != 2) {
        showError(tr("Select two runs"), tr("Select exactly two runs in the runs table (Ctrl-click the second), then choose Diff Two Runs again."));
        return false;
    }
    auto name = [this](int row) {
        const QString run = tr("run %1").arg(runs_->run(row).id);
        return runs_->sourceCount() > 1 ? runs_->sourceName(runs_->sourceOf(row)) + QLatin1Char(' ') + run : run;
    };
    auto* dialog = new RunDiffDialog(ss::diff_runs(runs_->run(rows[0]), runs_->run(rows[1])), name(rows[0]), name(rows[1]), this);
    dialog->setObjectName(QStringLiteral("runDiffDialog"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->show();
    return true;
}

} // namespace ssui
