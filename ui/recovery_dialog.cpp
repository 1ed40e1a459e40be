// recovery_dialog.cpp
#include "recovery_dialog.h"

#include "eval/run_evaluation.h"
#include "formats/model_export.h"
#include "plot_theme.h"
#include "error.h"
#include "train/finetune.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTimer>
#include <QVBoxLayout>
#include <QtConcurrent>

#include <cmath>

namespace ssui {

namespace {
bool prunes_by_sparsity(const ss::CompressionPlan& p) {
    return p.prune.method == ss::PruneMethod::Magnitude || p.prune.method == ss::PruneMethod::MagnitudeLayer ||
           p.prune.method == ss::PruneMethod::Wanda;
}
} // namespace

RecoveryDialog::RecoveryDialog(RecoveryRequest request, QWidget* parent)
    : QDialog(parent), req_(std::move(request)), epochs_(new QSpinBox), lr_(new QDoubleSpinBox), distill_(new QCheckBox(tr("Distil from the dense model"))),
      temperature_(new QDoubleSpinBox), gradual_(new QCheckBox(tr("Prune gradually instead (cubic schedule, from dense)"))),
      gmp_start_(new QDoubleSpinBox), gmp_end_(new QDoubleSpinBox), plot_(new QCustomPlot), progress_(new QProgressBar), status_(new QLabel),
      start_(new QPushButton(tr("Start"))), close_(new QPushButton(tr("Close"))), save_(new QPushButton(tr("Save Model…"))) {
    setWindowTitle(tr("Recover Accuracy — %1").arg(req_.from));
    setObjectName(QStringLiteral("recoveryDialog"));
    epochs_->setRange(1, 100);
    epochs_->setValue(5);
    epochs_->setSuffix(tr(" epochs"));
    lr_->setDecimals(5);
    lr_->setRange(1e-5, 1e-1);
    lr_->setSingleStep(1e-4);
    lr_->setValue(5e-4);
    lr_->setToolTip(tr("Peak learning rate (Adam), decayed to 0 by a cosine over all steps"));
    temperature_->setRange(0.5, 20.0);
    temperature_->setValue(2.0);
    temperature_->setPrefix(tr("T = "));
    temperature_->setToolTip(tr("Softmax temperature of the dense model's logits; half the loss is theirs, half the labels'"));
    distill_->setToolTip(tr("Learn the dense model's softened outputs as well as the labels (knowledge distillation)"));
    gmp_start_->setRange(0.0, 100.0);
    gmp_end_->setRange(0.0, 100.0);
    gmp_start_->setPrefix(tr("from epoch "));
    gmp_end_->setPrefix(tr("to epoch "));
    gmp_start_->setValue(0.0);
    gmp_end_->setValue(3.0);
    gradual_->setToolTip(tr("Start from the dense model and raise the sparsity to the run's along Zhu & Gupta's cubic schedule, "
                            "then train on with the mask fixed"));
    can_schedule_ = prunes_by_sparsity(req_.plan) && req_.plan.drop_experts == 0 && req_.plan.drop_expert_names.empty();
    gradual_->setEnabled(can_schedule_);
    if (!can_schedule_) gradual_->setToolTip(tr("Only magnitude, magnitude-layer and Wanda pruning have a sparsity to reach gradually"));

    auto* form = new QFormLayout;
    auto* what = new QLabel(tr("Fine-tunes the run's model on the train split (%1 samples) with its pruning mask held fixed%2; "
                               "test accuracy after every epoch on %3 samples. The recovered run is added beside this one.")
                                .arg(req_.train ? req_.train->count : 0)
                                .arg(req_.plan.quant.scheme != ss::QuantScheme::None || req_.plan.quant_by_use.enabled
                                         ? tr(", quantization-aware (straight-through)")
                                         : QString())
                                .arg(req_.test ? req_.test->count : 0));
    what->setWordWrap(true);
    form->addRow(tr("Plan"), new QLabel(QString::fromStdString(req_.plan.summary())));
    form->addRow(tr("Length"), epochs_);
    form->addRow(tr("Learning rate"), lr_);
    auto* d = new QHBoxLayout;
    d->addWidget(distill_);
    d->addWidget(temperature_);
    d->addStretch();
    form->addRow(tr("Distillation"), d);
    auto* g = new QHBoxLayout;
    g->addWidget(gradual_);
    g->addWidget(gmp_start_);
    g->addWidget(gmp_end_);
    form->addRow(tr("Schedule"), g);

    plot_->setMinimumSize(520, 260);
    plot_->xAxis->setLabel(tr("epoch"));
    plot_->yAxis->setLabel(tr("test accuracy (%)"));
    plot_->yAxis2->setLabel(tr("training loss"));
    plot_->yAxis2->setVisible(true);
    QCPGraph* acc = plot_->addGraph(plot_->xAxis, plot_->yAxis);
    acc->setName(tr("test accuracy"));
    acc->setPen(QPen(QColor(0x1f, 0x77, 0xb4), 2));
    acc->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 7));
    QCPGraph* loss = plot_->addGraph(plot_->xAxis, plot_->yAxis2);
    loss->setName(tr("training loss"));
    loss->setPen(QPen(QColor(0xd6, 0x27, 0x28), 2, Qt::DashLine));
    loss->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssSquare, 6));
    plot_->legend->setVisible(true);
    plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
    plot_->xAxis->setRange(-0.1, epochs_->value() + 0.1);
    plot_->yAxis->setRange(0, 100);
    plot_->yAxis2->setRange(0, 1);
    follow_palette(plot_);

    progress_->setRange(0, 1000);
    progress_->setValue(0);
    status_->setWordWrap(true);
    status_->setText(tr("Set the length and press Start. Training runs on %n thread(s); Cancel stops after the current step.", nullptr, req_.threads));
    auto* buttons = new QDialogButtonBox;
    buttons->addButton(start_, QDialogButtonBox::ActionRole);
    buttons->addButton(save_, QDialogButtonBox::ActionRole);
    buttons->addButton(close_, QDialogButtonBox::RejectRole);
    save_->setEnabled(false);
    save_->setToolTip(tr("Write the recovered model (safetensors, compressed as planned): sessions keep its measurements, not its weights"));
    connect(save_, &QPushButton::clicked, this, [this] {
        const QString p = QFileDialog::getSaveFileName(this, tr("Save the recovered model"), QStringLiteral("recovered.safetensors"),
                                                       tr("safetensors (*.safetensors)"));
        QString err;
        if (!p.isEmpty() && !saveModel(p, &err)) status_->setText(tr("Cannot save: %1").arg(err));
        else if (!p.isEmpty()) status_->setText(tr("Saved %1").arg(p));
    });
    start_->setDefault(true);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(what);
    layout->addLayout(form);
    layout->addWidget(plot_, 1);
    layout->addWidget(progress_);
    layout->addWidget(status_);
    layout->addWidget(buttons);

    connect(start_, &QPushButton::clicked, this, [this] { isRunning() ? cancel() : start(); });
    connect(close_, &QPushButton::clicked, this, &QDialog::reject);
    connect(gradual_, &QCheckBox::toggled, this, &RecoveryDialog::updateGradualRange);
    connect(distill_, &QCheckBox::toggled, temperature_, &QWidget::setEnabled);
    connect(epochs_, qOverload<int>(&QSpinBox::valueChanged), this, &RecoveryDialog::updateGradualRange);
    connect(&watcher_, &QFutureWatcher<Outcome>::finished, this, &RecoveryDialog::finish);
    auto* timer = new QTimer(this); // the bar follows the worker's step count
    connect(timer, &QTimer::timeout, this, [this] {
        if (isRunning()) progress_->setValue(permille_.load());
    });
    timer->start(100);
    temperature_->setEnabled(false);
    updateGradualRange();
    resize(640, 560);
}

RecoveryDialog::~RecoveryDialog() {
    cancel_ = true; // the worker stops at its next step; waitForFinished keeps `this` alive until then
    watcher_.waitForFinished();
}

const std::vector<ss::RecoveryEpoch>& RecoveryDialog::curve() const { return curve_; }

bool RecoveryDialog::isRunning() const { return watcher_.isRunning(); }

void RecoveryDialog::updateGradualRange() {
    gmp_start_->setEnabled(gradual_->isChecked());
    gmp_end_->setEnabled(gradual_->isChecked());
    gmp_start_->setMaximum(std::max(0, epochs_->value() - 1));
    gmp_end_->setMaximum(epochs_->value());
    if (!isRunning()) plot_->xAxis->setRange(-0.1, epochs_->value() + 0.1), plot_->replot();
}

void RecoveryDialog::setRunning(bool running) {
    start_->setText(running ? tr("Cancel") : tr("Start"));
    for (QWidget* w : {static_cast<QWidget*>(epochs_), static_cast<QWidget*>(lr_), static_cast<QWidget*>(distill_),
                       static_cast<QWidget*>(gradual_)})
        w->setEnabled(!running && (w != gradual_ || can_schedule_));
    temperature_->setEnabled(!running && distill_->isChecked());
    gmp_start_->setEnabled(!running && gradual_->isChecked());
    gmp_end_->setEnabled(!running && gradual_->isChecked());
    close_->setEnabled(!running);
    if (running) save_->setEnabled(false);
}

void RecoveryDialog::start() {
    if (isRunning()) return;
    ss::FinetuneOptions opt;
    opt.plan = req_.plan;
    opt.epochs = epochs_->value();
    opt.learning_rate = float(lr_->value());
    opt.distill = distill_->isChecked();
    opt.temperature = float(temperature_->value());
    opt.threads = req_.threads;
    if (gradual_->isChecked()) {
        opt.schedule.enabled = true;
        opt.schedule.start = gmp_start_->value();
        opt.schedule.end = gmp_end_->value();
    }
    try {
        if (opt.schedule.enabled && !(opt.schedule.end > opt.schedule.start))
            throw ss::Error(tr("The schedule must end after it starts (epoch %1 to %2)").arg(opt.schedule.start).arg(opt.schedule.end).toStdString());
        ss::check_finetune_options(opt);
    } catch (const std::exception& e) {
        status_->setText(QString::fromStdString(e.what()));
        return;
    }
    curve_.clear();
    for (int i = 0; i < plot_->graphCount(); ++i) plot_->graph(i)->data()->clear();
    plot_->xAxis->setRange(-0.1, opt.epochs + 0.1);
    plot_->replot();
    cancel_ = false;
    permille_ = 0;
    opt.cancel = &cancel_;
    status_->setText(tr("Measuring the starting point…"));
    setRunning(true);
    const RecoveryRequest req = req_;
    watcher_.setFuture(QtConcurrent::run([this, req, opt]() -> Outcome {
        Outcome out;
        try {
            ss::Model dense = *req.dense;
            dense.input = req.input;
            const ss::FinetuneResult r = ss::finetune(
                dense, *req.train, req.test.get(), opt, ss::CalibrationSet(req.train.get()),
                [this](const ss::RecoveryEpoch& e) {
                    QMetaObject::invokeMethod(this, [this, e] { addEpoch(e); }, Qt::QueuedConnection);
                    return true;
                },
                [this](float f) { permille_ = int(std::lround(f * 1000.0f)); });
            if (r.cancelled) {
                out.cancelled = true;
                return out;
            }
            ss::RunRequest rr;
            rr.dense = &dense;
            rr.data = req.test.get();
            rr.plan = opt.plan;
            rr.compressed = &r.model;
            rr.calibration = ss::CalibrationSet(req.train.get());
            rr.options.threads = opt.threads;
            out.run = ss::run_evaluation(rr);
            out.run.recovery.method = ss::finetune_method(opt);
            out.run.recovery.curve = r.curve;
            out.run.tags = {"recovered"};
            out.model = std::make_shared<const ss::CompressedModel>(r.model);
            out.ok = true;
        } catch (const std::exception& e) {
            out.error = QString::fromStdString(e.what());
        }
        return out;
    }));
}

bool RecoveryDialog::saveModel(const QString& path, QString* error) {
    if (!model_) return (*error = tr("nothing recovered yet")), false;
    try {
        ss::export_compressed_model(*model_, *req_.dense, path.toStdString());
        return true;
    } catch (const std::exception& e) {
        *error = QString::fromStdString(e.what());
        return false;
    }
}

void RecoveryDialog::cancel() {
    if (!isRunning()) return;
    cancel_ = true;
    status_->setText(tr("Cancelling after the current step…"));
}

void RecoveryDialog::addEpoch(const ss::RecoveryEpoch& e) {
    curve_.push_back(e);
    if (!std::isnan(e.test_accuracy)) plot_->graph(0)->addData(e.epoch, 100.0 * e.test_accuracy);
    if (!std::isnan(e.loss)) plot_->graph(1)->addData(e.epoch, e.loss);
    double lo = 100.0, hi = 0.0, loss_hi = 0.0;
    for (const ss::RecoveryEpoch& p : curve_) {
        if (!std::isnan(p.test_accuracy)) lo = std::min(lo, 100.0 * p.test_accuracy), hi = std::max(hi, 100.0 * p.test_accuracy);
        if (!std::isnan(p.loss)) loss_hi = std::max(loss_hi, p.loss);
    }
    if (hi >= lo) plot_->yAxis->setRange(std::max(0.0, lo - 3.0), std::min(100.0, hi + 2.0));
    if (loss_hi > 0) plot_->yAxis2->setRange(0, loss_hi * 1.15);
    plot_->replot();
    const double acc = 100.0 * e.test_accuracy;
    status_->setText(e.epoch == 0 ? tr("Start: %1 % test accuracy at sparsity %2 %. Training…").arg(acc, 0, 'f', 2).arg(100.0 * e.sparsity, 0, 'f', 1)
                                  : tr("Epoch %1 of %2: loss %3, test accuracy %4 % (%5 s)")
                                        .arg(e.epoch)
                                        .arg(epochs_->value())
                                        .arg(e.loss, 0, 'f', 4)
                                        .arg(acc, 0, 'f', 2)
                                        .arg(e.seconds, 0, 'f', 1));
    emit epochDone(e);
}

void RecoveryDialog::finish() {
    const Outcome out = watcher_.result();
    setRunning(false);
    if (out.cancelled) {
        status_->setText(tr("Cancelled: nothing was added to the session."));
        progress_->setValue(0);
        return;
    }
    if (!out.ok) {
        status_->setText(tr("Fine-tuning failed: %1").arg(out.error));
        status_->setStyleSheet(QStringLiteral("color: #b03020;"));
        return;
    }
    progress_->setValue(1000);
    model_ = out.model;
    save_->setEnabled(model_ != nullptr);
    const double start = curve_.empty() ? std::nan("") : 100.0 * curve_.front().test_accuracy;
    status_->setText(tr("Recovered: %1 % test accuracy (from %2 %). The run is added to the session.")
                         .arg(100.0 * out.run.result.accuracy, 0, 'f', 2)
                         .arg(start, 0, 'f', 2));
    emit recovered(out.run);
}

} // namespace ssui
