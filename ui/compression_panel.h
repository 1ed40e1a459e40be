// compression_panel.h - the controls a user moves: sparsity, quantization, MoE top-k, threads.
#pragma once

#include "compression.h"

#include <QWidget>

class QSlider;
class QLabel;
class QComboBox;
class QSpinBox;
class QPushButton;
class QProgressBar;

namespace ssui {

class CompressionPanel : public QWidget {
    Q_OBJECT
public:
    explicit CompressionPanel(QWidget* parent = nullptr);

    ss::CompressionSpec spec() const;
    int threads() const;
    void setMaxTopK(int experts, int model_top_k); // experts == 0: model has no MoE layer
    void setRunning(bool running);
    void setProgress(int permille);

    QSlider* sparsitySlider() const { return sparsity_; }
    QComboBox* quantCombo() const { return quant_; }
    QSpinBox* topKSpin() const { return top_k_; }
    QPushButton* evaluateButton() const { return evaluate_; }
    QPushButton* cancelButton() const { return cancel_; }

signals:
    void evaluateRequested();
    void cancelRequested();

private:
    QSlider* sparsity_;
    QLabel* sparsity_label_;
    QComboBox* quant_;
    QSpinBox* top_k_;
    QSpinBox* threads_;
    QPushButton* evaluate_;
    QPushButton* cancel_;
    QProgressBar* progress_;
};

} // namespace ssui
