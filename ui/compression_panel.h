// compression_panel.h - the controls a user moves: pruning, quantization, MoE top-k and experts,
// threads; or a whole plan loaded from JSON.
#pragma once

#include "compress/compression_plan.h"

#include <QWidget>

#include <map>
#include <optional>
#include <string>

class QSlider;
class QLabel;
class QComboBox;
class QSpinBox;
class QPushButton;
class QProgressBar;
class QCheckBox;

namespace ssui {

class CompressionPanel : public QWidget {
    Q_OBJECT
public:
    explicit CompressionPanel(QWidget* parent = nullptr);

    ss::CompressionPlan plan() const; // the loaded plan file, with the controls applied on top
    int threads() const;
    void setMoe(int experts, int model_top_k); // experts == 0: the model has no MoE layer
    void setRunning(bool running);
    // The Baseline button: every control back to the uncompressed model (no pruning, fp32, the
    // model's own top-k, no dropped experts, no plan file, no overrides).
    void resetToBaseline();
    QPushButton* baselineButton() const { return baseline_; }
    void setProgress(int permille);
    void setPlanFile(const QString& path, const ss::CompressionPlan& plan); // empty path: none
    // Every control set so that plan() gives `plan` again (a run's settings loaded back): the
    // controls where they can say it, overrides for its layers, and the whole plan as the plan
    // (named `source`, e.g. "run 5") where they cannot. `threads` > 0 sets the thread count too.
    // One settingsChanged at the end. Returns false, changing nothing, when `plan` is not one the
    // controls and a plan together can hold (never for plans this program wrote).
    bool setPlan(const ss::CompressionPlan& plan, const QString& source, int threads = 0);
    // Per-layer / per-expert overrides from the Overrides… dialog; they win over a plan file's.
    void setOverrides(std::map<std::string, ss::LayerOverride> overrides);
    const std::map<std::string, ss::LayerOverride>& overrides() const { return overrides_; }

    QComboBox* pruneMethodCombo() const { return prune_method_; }
    QSlider* sparsitySlider() const { return sparsity_; }
    QComboBox* quantCombo() const { return quant_; }
    QSpinBox* topKSpin() const { return top_k_; }
    QSpinBox* dropExpertsSpin() const { return drop_experts_; }
    QSpinBox* threadsSpin() const { return threads_; }
    QPushButton* evaluateButton() const { return evaluate_; }
    QPushButton* cancelButton() const { return cancel_; }
    QCheckBox* liveCheck() const { return live_; }
    bool live() const;
    // "Beyond accuracy": explicit evaluations also measure accuracy under 12 corruptions at
    // severities 1, 3, 5 (2,000 samples) and OOD separation against rendered glyphs (live ones never).
    QCheckBox* beyondAccuracyCheck() const { return beyond_; }
    bool beyondAccuracy() const;

signals:
    void evaluateRequested();
    // Any control that changes the plan moved (pruning, sparsity, quantization, top-k, experts).
    void settingsChanged();
    void cancelRequested();
    void loadPlanRequested();
    void overridesRequested();

private:
    void updateSparsityEnabled();

    QComboBox* prune_method_;
    QSlider* sparsity_;
    QLabel* sparsity_label_;
    QComboBox* quant_;
    QSpinBox* top_k_;
    QSpinBox* drop_experts_;
    QSpinBox* threads_;
    QLabel* plan_label_;
    QPushButton* evaluate_;
    QPushButton* cancel_;
    QPushButton* baseline_;
    int model_top_k_ = 0;
    QCheckBox* live_;
    QCheckBox* beyond_;
    QProgressBar* progress_;
    std::optional<ss::CompressionPlan> file_plan_;
    std::map<std::string, ss::LayerOverride> overrides_;
    QString plan_file_name_;
    void updatePlanLabel();
};

} // namespace ssui
