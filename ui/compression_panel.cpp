// compression_panel.cpp
#include "compression_panel.h"

#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QThread>
#include <QVBoxLayout>

namespace ssui {

CompressionPanel::CompressionPanel(QWidget* parent) : QWidget(parent) {
    auto* box = new QGroupBox(tr("Compression"), this);
    auto* form = new QFormLayout(box);

    sparsity_ = new QSlider(Qt::Horizontal, box);
    sparsity_->setRange(0, 95);
    sparsity_->setSingleStep(5);
    sparsity_->setPageStep(10);
    sparsity_->setTickInterval(10);
    sparsity_->setTickPosition(QSlider::TicksBelow);
    sparsity_->setToolTip(tr("Global magnitude pruning: this share of all linear and expert weights is set to zero "
                             "(router gates and biases are kept)."));
    sparsity_label_ = new QLabel(box);
    sparsity_label_->setMinimumWidth(QFontMetrics(font()).horizontalAdvance(QStringLiteral("100 %")));
    auto* srow = new QHBoxLayout;
    srow->addWidget(sparsity_, 1);
    srow->addWidget(sparsity_label_);
    form->addRow(tr("Sparsity"), srow);
    auto update_label = [this](int v) { sparsity_label_->setText(QStringLiteral("%1 %").arg(v)); };
    connect(sparsity_, &QSlider::valueChanged, this, update_label);
    update_label(0);

    quant_ = new QComboBox(box);
    quant_->addItem(tr("none (fp32)"), int(ss::QuantKind::None));
    quant_->addItem(tr("int8 per channel"), int(ss::QuantKind::Int8));
    quant_->setToolTip(tr("int8: symmetric round-to-nearest, one scale per output channel (max|w| / 127).\n"
                          "Accuracy is exactly that of the int8 weights; the dense kernels still compute in fp32,\n"
                          "so latency does not improve yet."));
    form->addRow(tr("Quantization"), quant_);

    top_k_ = new QSpinBox(box);
    top_k_->setToolTip(tr("Experts each sample is routed to in every MoE layer."));
    form->addRow(tr("MoE top-k"), top_k_);

    threads_ = new QSpinBox(box);
    threads_->setRange(1, std::max(1, QThread::idealThreadCount()));
    threads_->setValue(1);
    threads_->setToolTip(tr("OpenBLAS threads used for the evaluation."));
    form->addRow(tr("Threads"), threads_);

    evaluate_ = new QPushButton(tr("Evaluate"), box);
    evaluate_->setDefault(true);
    cancel_ = new QPushButton(tr("Cancel"), box);
    cancel_->setEnabled(false);
    auto* brow = new QHBoxLayout;
    brow->addWidget(evaluate_);
    brow->addWidget(cancel_);
    form->addRow(brow);
    progress_ = new QProgressBar(box);
    progress_->setRange(0, 1000);
    progress_->setValue(0);
    progress_->setFormat(tr("%p %"));
    progress_->setTextVisible(false);
    form->addRow(progress_);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(box);
    connect(evaluate_, &QPushButton::clicked, this, &CompressionPanel::evaluateRequested);
    connect(cancel_, &QPushButton::clicked, this, &CompressionPanel::cancelRequested);
    setMaxTopK(0, 0);
}

ss::CompressionSpec CompressionPanel::spec() const {
    ss::CompressionSpec s;
    s.sparsity = sparsity_->value() / 100.0;
    s.prune = s.sparsity > 0 ? ss::PruneMethod::Magnitude : ss::PruneMethod::None;
    s.quant = ss::QuantKind(quant_->currentData().toInt());
    s.top_k = top_k_->isEnabled() ? top_k_->value() : 0;
    return s;
}

int CompressionPanel::threads() const { return threads_->value(); }

void CompressionPanel::setMaxTopK(int experts, int model_top_k) {
    top_k_->setEnabled(experts > 0);
    top_k_->setRange(experts > 0 ? 1 : 0, std::max(experts, 0));
    top_k_->setValue(model_top_k);
    top_k_->setSpecialValueText(experts > 0 ? QString() : tr("no MoE layer"));
}

void CompressionPanel::setRunning(bool running) {
    evaluate_->setEnabled(!running);
    cancel_->setEnabled(running);
    progress_->setTextVisible(running);
    if (!running) progress_->setValue(0);
}

void CompressionPanel::setProgress(int permille) { progress_->setValue(permille); }

} // namespace ssui
