// compression_panel.cpp
#include "compression_panel.h"

#include <algorithm>
#include <cmath>

#include <QCheckBox>
#include <QComboBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QSignalBlocker>
#include <QThread>
#include <QVBoxLayout>

namespace ssui {

namespace {
struct Choice {
    const char* label;
    const char* value; // flag form; "%" stands for the sparsity
};
constexpr Choice kPruneChoices[] = {
    {"none", "none"},
    {"magnitude, global", "magnitude:%"},
    {"magnitude, per layer", "magnitude-layer:%"},
    {"magnitude, 4x1 blocks", "magnitude:%:block4"},
    {"Wanda (activation-aware)", "wanda:%"},
    {"2:4 semi-structured", "nm:2:4"},
    {"4:8 semi-structured", "nm:4:8"},
    {"hidden units (structured)", "neurons:%"},
};
constexpr Choice kQuantChoices[] = {
    {"none (fp32)", "none"},   {"fp16", "fp16"},         {"bf16", "bf16"},
    {"int8 per channel", "int8"}, {"int4, groups of 32", "int4:g32"}, {"int4, groups of 128", "int4:g128"},
    {"int4 asym, groups of 32", "int4:g32:asym"}, {"int3, groups of 32", "int3:g32"}, {"int2, groups of 32", "int2:g32"},
};
} // namespace

CompressionPanel::CompressionPanel(QWidget* parent) : QWidget(parent) {
    auto* box = new QGroupBox(tr("Compression"), this);
    auto* form = new QFormLayout(box);

    prune_method_ = new QComboBox(box);
    for (const auto& c : kPruneChoices) prune_method_->addItem(tr(c.label), QString::fromLatin1(c.value));
    prune_method_->setCurrentIndex(1);
    prune_method_->setToolTip(tr("How weights are removed; router gates and biases are kept. Wanda and dropping experts use\n"
                                 "calibration samples from the dataset's train split. docs/compression.md has the definitions."));
    form->addRow(tr("&Pruning"), prune_method_); // Alt+letter: each control from the keyboard

    sparsity_ = new QSlider(Qt::Horizontal, box);
    sparsity_->setRange(0, 95);
    sparsity_->setSingleStep(5);
    sparsity_->setPageStep(10);
    sparsity_->setTickInterval(10);
    sparsity_->setTickPosition(QSlider::TicksBelow);
    sparsity_label_ = new QLabel(box);
    sparsity_label_->setMinimumWidth(QFontMetrics(font()).horizontalAdvance(QStringLiteral("100 %")));
    auto* srow = new QHBoxLayout;
    srow->addWidget(sparsity_, 1);
    srow->addWidget(sparsity_label_);
    form->addRow(tr("&Sparsity"), srow);
    if (auto* label = qobject_cast<QLabel*>(form->labelForField(srow))) label->setBuddy(sparsity_);
    auto update_label = [this](int v) { sparsity_label_->setText(QStringLiteral("%1 %").arg(v)); };
    connect(sparsity_, &QSlider::valueChanged, this, update_label);
    update_label(0);
    connect(prune_method_, &QComboBox::currentIndexChanged, this, &CompressionPanel::updateSparsityEnabled);

    quant_ = new QComboBox(box);
    for (const auto& c : kQuantChoices) quant_->addItem(tr(c.label), QString::fromLatin1(c.value));
    quant_->setToolTip(tr("Weights are stored at this precision (packed) and stay packed in memory.\n"
                          "Accuracy (batches of 256) is computed in fp32 on exactly the stored weights; batch-1 latency\n"
                          "uses the integer kernels, which also round each layer's input to 8 bits."));
    form->addRow(tr("&Quantization"), quant_);

    top_k_ = new QSpinBox(box);
    top_k_->setToolTip(tr("Experts each sample is routed to in every MoE layer."));
    form->addRow(tr("MoE &top-k"), top_k_);
    drop_experts_ = new QSpinBox(box);
    drop_experts_->setToolTip(tr("Remove this many of the least-used experts of every MoE layer (by calibration share)."));
    form->addRow(tr("Dr&op experts"), drop_experts_);

    threads_ = new QSpinBox(box);
    threads_->setRange(1, std::max(1, QThread::idealThreadCount()));
    threads_->setValue(std::max(1, QThread::idealThreadCount())); // every core, as a deployed model would
    threads_->setToolTip(tr("Threads for every kernel of the evaluation (the core's pool; OpenBLAS single-threaded inside it).\n"
                            "Speed ratios against dense are measured at this same thread count."));
    form->addRow(tr("Threa&ds"), threads_);

    plan_label_ = new QLabel(box);
    plan_label_->setWordWrap(true);
    auto* plan_button = new QPushButton(tr("Load Plan…"), box);
    plan_button->setToolTip(tr("A JSON compression plan with per-layer and per-expert settings; the controls above apply on top."));
    auto* overrides_button = new QPushButton(tr("Overrides…"), box);
    overrides_button->setToolTip(tr("Pruning and quantization per layer, per MoE layer or per expert."));
    form->addRow(tr("Plan"), plan_label_);
    baseline_ = new QPushButton(tr("Baseline"), box);
    baseline_->setToolTip(tr("Every control back to the uncompressed model, to measure it again or start over.\n"
                             "To compare runs with one of your own instead, select it and use Edit > Use Run as Baseline (Ctrl+B)."));
    auto* prow = new QHBoxLayout;
    prow->addWidget(overrides_button);
    prow->addWidget(plan_button);
    prow->addWidget(baseline_);
    connect(baseline_, &QPushButton::clicked, this, &CompressionPanel::resetToBaseline);
    connect(overrides_button, &QPushButton::clicked, this, &CompressionPanel::overridesRequested);
    form->addRow(prow);
    connect(plan_button, &QPushButton::clicked, this, &CompressionPanel::loadPlanRequested);
    setPlanFile({}, {});

    evaluate_ = new QPushButton(tr("Evaluate"), box);
    evaluate_->setDefault(true);
    cancel_ = new QPushButton(tr("Cancel"), box);
    cancel_->setEnabled(false);
    auto* brow = new QHBoxLayout;
    brow->addWidget(evaluate_);
    brow->addWidget(cancel_);
    form->addRow(brow);
    live_ = new QCheckBox(tr("&Live: re-evaluate as controls move"), box);
    live_->setToolTip(tr("Every change is evaluated in the background (a 1,000-sample estimate first, then the whole set);\n"
                         "a newer change cancels the older job. The live run is the last row until you press Evaluate,\n"
                         "which keeps it. Speed ratios then come from the dense baseline's own timing."));
    form->addRow(live_);
    beyond_ = new QCheckBox(tr("&Robustness and OOD (about 3× longer)"), box);
    beyond_->setToolTip(tr("Evaluate also measures what one accuracy figure hides, against the dense model:\n"
                           "accuracy under 12 corruptions (noise, blur, contrast, JPEG, rotation, ...) at severities 1, 3 and 5\n"
                           "on the first 2,000 samples, and how well the scores tell the data from rendered letters and digits\n"
                           "(out-of-distribution AUROC). Live previews never do. See the Robustness and OOD tabs."));
    form->addRow(beyond_);
    progress_ = new QProgressBar(box);
    progress_->setRange(0, 1000);
    progress_->setValue(0);
    progress_->setFormat(tr("%p %"));
    progress_->setTextVisible(false);
    QSizePolicy keep = progress_->sizePolicy();
    keep.setRetainSizeWhenHidden(true); // the controls do not move when it shows
    progress_->setSizePolicy(keep);
    progress_->hide(); // an empty bar says nothing: shown while an evaluation runs
    form->addRow(progress_);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(box);
    connect(evaluate_, &QPushButton::clicked, this, &CompressionPanel::evaluateRequested);
    connect(cancel_, &QPushButton::clicked, this, &CompressionPanel::cancelRequested);
    connect(sparsity_, &QSlider::valueChanged, this, &CompressionPanel::settingsChanged);
    connect(prune_method_, &QComboBox::currentIndexChanged, this, &CompressionPanel::settingsChanged);
    connect(quant_, &QComboBox::currentIndexChanged, this, &CompressionPanel::settingsChanged);
    connect(top_k_, &QSpinBox::valueChanged, this, &CompressionPanel::settingsChanged);
    connect(drop_experts_, &QSpinBox::valueChanged, this, &CompressionPanel::settingsChanged);
    setMoe(0, 0);
    updateSparsityEnabled();
}

bool CompressionPanel::live() const { return live_->isChecked(); }
bool CompressionPanel::beyondAccuracy() const { return beyond_->isChecked(); }

void CompressionPanel::updateSparsityEnabled() {
    const bool uses = prune_method_->currentData().toString().contains(QLatin1Char('%'));
    sparsity_->setEnabled(uses);
    sparsity_label_->setEnabled(uses);
}

ss::CompressionPlan CompressionPanel::plan() const {
    // A loaded plan is the base; controls left at "none" / 0 keep what it says.
    ss::CompressionPlan p = file_plan_ ? *file_plan_ : ss::CompressionPlan{};
    QString method = prune_method_->currentData().toString();
    const bool uses_sparsity = method.contains(QLatin1Char('%'));
    if (method != QLatin1String("none") && !(uses_sparsity && sparsity_->value() == 0)) {
        method.replace(QLatin1Char('%'), QString::number(sparsity_->value() / 100.0, 'f', 2));
        p.prune = ss::parse_prune_spec(method.toStdString());
    }
    const std::string quant = quant_->currentData().toString().toStdString();
    if (quant != "none") p.quant = ss::parse_quant_spec(quant);
    if (top_k_->isEnabled()) p.top_k = top_k_->value();
    if (drop_experts_->value() > 0) p.drop_experts = drop_experts_->value();
    for (const auto& [name, o] : overrides_) p.layers[name] = o;
    return p;
}

int CompressionPanel::threads() const { return threads_->value(); }

void CompressionPanel::resetToBaseline() {
    prune_method_->setCurrentIndex(std::max(0, prune_method_->findData(QStringLiteral("none"))));
    sparsity_->setValue(0);
    quant_->setCurrentIndex(std::max(0, quant_->findData(QStringLiteral("none"))));
    top_k_->setValue(model_top_k_);
    drop_experts_->setValue(0);
    setPlanFile({}, {});
    setOverrides({});
}

bool CompressionPanel::setPlan(const ss::CompressionPlan& plan, const QString& source, int threads) {
    // The pruning choice whose flag form, with the slider's whole percent, is the plan's.
    int prune_index = -1, percent = 0;
    for (int i = 0; i < prune_method_->count() && prune_index < 0; ++i) {
        const QString value = prune_method_->itemData(i).toString();
        if (!value.contains(QLatin1Char('%'))) {
            if (ss::parse_prune_spec(value.toStdString()) == plan.prune) prune_index = i;
            continue;
        }
        const int p = int(std::lround(plan.prune.sparsity * 100.0));
        if (p < 1 || p > sparsity_->maximum()) continue;
        QString flag = value;
        flag.replace(QLatin1Char('%'), QString::number(p / 100.0, 'f', 2));
        if (ss::parse_prune_spec(flag.toStdString()) == plan.prune) prune_index = i, percent = p;
    }
    const int quant_index = quant_->findData(QString::fromStdString(plan.quant.label()));
    ss::CompressionPlan rest = plan; // what the controls cannot say stays a plan
    const bool controls_hold_prune = prune_index >= 0, controls_hold_quant = quant_index >= 0;
    const bool top_k_fits = plan.top_k == 0 || (top_k_->isEnabled() && plan.top_k >= top_k_->minimum() && plan.top_k <= top_k_->maximum());
    const bool drop_fits = plan.drop_experts == 0 || (drop_experts_->isEnabled() && plan.drop_experts <= drop_experts_->maximum());
    if (!top_k_fits && plan.top_k != 0 && !top_k_->isEnabled()) return false; // a top-k for a model without MoE layers
    const QSignalBlocker b1(prune_method_), b2(sparsity_), b3(quant_), b4(top_k_), b5(drop_experts_);
    prune_method_->setCurrentIndex(controls_hold_prune ? prune_index : std::max(0, prune_method_->findData(QStringLiteral("none"))));
    sparsity_->setValue(controls_hold_prune ? percent : 0);
    quant_->setCurrentIndex(controls_hold_quant ? quant_index : std::max(0, quant_->findData(QStringLiteral("none"))));
    top_k_->setValue(plan.top_k > 0 && top_k_fits ? plan.top_k : model_top_k_);
    drop_experts_->setValue(drop_fits ? plan.drop_experts : 0);
    if (threads > 0) threads_->setValue(std::clamp(threads, threads_->minimum(), threads_->maximum()));
    if (controls_hold_prune) rest.prune = {};
    if (controls_hold_quant) rest.quant = {};
    if (top_k_fits) rest.top_k = 0;
    if (drop_fits) rest.drop_experts = 0;
    overrides_ = plan.layers; // the Overrides… dialog edits them
    rest.layers.clear();
    const bool need_plan = rest.to_json() != ss::CompressionPlan{}.to_json();
    file_plan_ = need_plan ? std::optional<ss::CompressionPlan>(rest) : std::nullopt;
    plan_file_name_ = need_plan ? tr("the plan of %1").arg(source) : QString();
    updateSparsityEnabled();
    updatePlanLabel();
    emit settingsChanged();
    return true;
}

void CompressionPanel::setMoe(int experts, int model_top_k) {
    model_top_k_ = model_top_k;
    top_k_->setEnabled(experts > 0);
    top_k_->setRange(experts > 0 ? 1 : 0, std::max(experts, 0));
    top_k_->setValue(model_top_k);
    top_k_->setSpecialValueText(experts > 0 ? QString() : tr("no MoE layer"));
    drop_experts_->setEnabled(experts > 1);
    drop_experts_->setRange(0, std::max(0, experts - 1));
    drop_experts_->setValue(0);
}

void CompressionPanel::setPlanFile(const QString& path, const ss::CompressionPlan& plan) {
    if (path.isEmpty()) file_plan_.reset();
    else file_plan_ = plan;
    plan_file_name_ = path.isEmpty() ? QString() : QFileInfo(path).fileName();
    updatePlanLabel();
}

void CompressionPanel::setOverrides(std::map<std::string, ss::LayerOverride> overrides) {
    overrides_ = std::move(overrides);
    updatePlanLabel();
    emit settingsChanged();
}

void CompressionPanel::updatePlanLabel() {
    QString text = plan_file_name_.isEmpty() ? tr("the controls above") : plan_file_name_;
    if (!overrides_.empty()) text += tr(" + %n override(s)", nullptr, int(overrides_.size()));
    plan_label_->setText(text);
    plan_label_->setToolTip(file_plan_ ? QString::fromStdString(file_plan_->to_json()) : QString());
}

void CompressionPanel::setRunning(bool running) {
    evaluate_->setEnabled(!running);
    cancel_->setEnabled(running);
    progress_->setTextVisible(running);
    progress_->setVisible(running);
    if (!running) progress_->setValue(0);
}

void CompressionPanel::setProgress(int permille) { progress_->setValue(permille); }

} // namespace ssui
