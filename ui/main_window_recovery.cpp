// main_window_recovery.cpp - Run > Recover Accuracy: the fine-tuning dialog for one run, and its
// recovered run added to the session beside the one it started from.
#include "main_window.h"

#include "compression_panel.h"
#include "recovery_dialog.h"
#include "run_list_model.h"

#include <QStatusBar>

namespace ssui {

RecoveryDialog* MainWindow::recoverAccuracy(int row, QString* error) {
    if (row < 0 || row >= runs_->rowCount()) return (*error = tr("Select the run to recover in the runs table.")), nullptr;
    const ss::RunRecord& r = runs_->run(row);
    if (!model_ || isLanguageModel() || r.result.task != ss::EvalTask::Classification)
        return (*error = tr("Recovery fine-tunes classifiers (MLP and MoE layers); open the classifier run %1 measured.").arg(r.id)), nullptr;
    const bool same = model_->name == r.model_name && (r.model_sha256.empty() || model_->sha256().empty() || model_->sha256() == r.model_sha256);
    if (!same)
        return (*error = tr("Run %1 measured the model %2 (%3); open that model first (File ▸ Open Model).")
                             .arg(r.id)
                             .arg(QString::fromStdString(r.model_name), QString::fromStdString(r.model_path))),
               nullptr;
    if (r.plan.is_identity()) return (*error = tr("Run %1 is the dense model: there is nothing to recover.").arg(r.id)), nullptr;
    if (r.recovery.present())
        return (*error = tr("Run %1 is already a recovered run; choose the one-shot run it started from.").arg(r.id)), nullptr;
    if (!dataset_) return (*error = tr("Open the dataset the run was measured on first.")), nullptr;
    std::shared_ptr<const ss::Dataset> train;
    QString why;
    if (!trainSplit(&train, &why)) return (*error = tr("Recovery trains on the dataset's train split, and %1").arg(why)), nullptr;
    RecoveryRequest req;
    req.dense = model_;
    req.train = train;
    req.test = dataset_;
    req.plan = r.plan;
    const bool has_input = std::isfinite(r.input.scale) && std::isfinite(r.input.mean) && std::isfinite(r.input.std) && r.input.std != 0.0;
    req.input = has_input ? r.input : model_->input;
    req.input.shape = model_->input.shape;
    req.threads = panel_->threads();
    req.from = tr("run %1 (%2, %3 %)").arg(r.id).arg(QString::fromStdString(r.plan.summary())).arg(100.0 * r.result.accuracy, 0, 'f', 2);
    auto* dialog = new RecoveryDialog(std::move(req), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &RecoveryDialog::recovered, this, [this](const ss::RunRecord& run) {
        runs_->addRun(run);
        const int added = runs_->rowCount() - 1;
        persistRun(added); // committed the moment it is measured
        selectRun(added);
        showSelectedRun(added);
        statusBar()->showMessage(tr("Run %1: recovered to %2 % top-1 (%3)")
                                     .arg(runs_->run(added).id)
                                     .arg(100.0 * run.result.accuracy, 0, 'f', 2)
                                     .arg(QString::fromStdString(run.recovery.method)),
                                 10000);
        refreshStatus();
    });
    dialog->show();
    return dialog;
}

} // namespace ssui
