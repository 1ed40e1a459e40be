// recovery_dialog.h - "Recover Accuracy…" on a run: fine-tunes the run's compressed model with its
// mask held fixed (or pruned gradually), quantization-aware, optionally distilled (train/finetune.h),
// off the GUI thread, with the loss and test accuracy drawn epoch by epoch as they come. When it
// ends, the recovered model is evaluated like any run and handed to the window (recovered()).
#pragma once

#include "compress/compression.h"
#include "compress/compression_plan.h"
#include "data/dataset.h"
#include "eval/recovery.h"
#include "eval/run_record.h"
#include "model/model.h"

#include <QDialog>
#include <QFutureWatcher>

#include <atomic>
#include <memory>

class QCheckBox;
class QCustomPlot;
class QDoubleSpinBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace ssui {

struct RecoveryRequest {
    std::shared_ptr<const ss::Model> dense;  // the model as loaded
    std::shared_ptr<const ss::Dataset> train; // fine-tuned on (and calibration, when the plan needs it)
    std::shared_ptr<const ss::Dataset> test;  // the curve's test accuracy and the final evaluation
    ss::CompressionPlan plan;                 // the run's
    ss::InputSpec input;                      // the run's preprocessing
    int threads = 1;
    QString from;                             // "run 12 (magnitude:0.90, 65.93 %)" for the title
};

class RecoveryDialog : public QDialog {
    Q_OBJECT
public:
    RecoveryDialog(RecoveryRequest request, QWidget* parent = nullptr);
    ~RecoveryDialog() override;

    QSpinBox* epochsBox() const { return epochs_; }
    QDoubleSpinBox* learningRateBox() const { return lr_; }
    QCheckBox* distillBox() const { return distill_; }
    QCheckBox* gradualBox() const { return gradual_; }
    QPushButton* startButton() const { return start_; }
    QPushButton* saveButton() const { return save_; }
    // Writes the recovered model (after recovered()) like File > Export Compressed Model.
    bool saveModel(const QString& path, QString* error);
    QCustomPlot* curvePlot() const { return plot_; }
    bool isRunning() const;
    const std::vector<ss::RecoveryEpoch>& curve() const;

public slots:
    void start();
    void cancel();

signals:
    void recovered(const ss::RunRecord& run); // the recovered model's run, measured like any other
    void epochDone(const ss::RecoveryEpoch& e);

private:
    void addEpoch(const ss::RecoveryEpoch& e);
    void updateGradualRange();
    void finish();
    void setRunning(bool running);

    RecoveryRequest req_;
    bool can_schedule_ = false; // the plan prunes to a sparsity a schedule can ramp up to
    QSpinBox* epochs_;
    QDoubleSpinBox* lr_;
    QCheckBox* distill_;
    QDoubleSpinBox* temperature_;
    QCheckBox* gradual_;
    QDoubleSpinBox* gmp_start_;
    QDoubleSpinBox* gmp_end_;
    QCustomPlot* plot_;
    QProgressBar* progress_;
    QLabel* status_;
    QPushButton* start_;
    QPushButton* close_;
    QPushButton* save_;
    std::shared_ptr<const ss::CompressedModel> model_; // the recovered model, once done
    std::vector<ss::RecoveryEpoch> curve_; // the points drawn so far
    std::atomic<bool> cancel_{false};
    std::atomic<int> permille_{0};
    struct Outcome {
        bool ok = false;
        bool cancelled = false;
        QString error;
        ss::RunRecord run;
        std::shared_ptr<const ss::CompressedModel> model;
    };
    QFutureWatcher<Outcome> watcher_;
};

} // namespace ssui
