// generation_panel.cpp
#include "generation_panel.h"

#include "compress/compression.h"

#include <QCoreApplication>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QSpinBox>
#include <QTextBrowser>
#include <QtConcurrent>
#include <QVBoxLayout>

#include <algorithm>

namespace ssui {

GenerationPanel::GenerationPanel(QWidget* parent) : QWidget(parent) {
    prompt_ = new QPlainTextEdit;
    prompt_->setPlaceholderText(tr("A prompt for both models, e.g. “And God said”"));
    prompt_->setMaximumHeight(70);
    max_tokens_ = new QSpinBox;
    max_tokens_->setRange(1, 4096);
    max_tokens_->setValue(48);
    temperature_ = new QDoubleSpinBox;
    temperature_->setRange(0.0, 5.0);
    temperature_->setSingleStep(0.1);
    temperature_->setToolTip(tr("0: greedy (the most likely token every step)"));
    top_p_ = new QDoubleSpinBox;
    top_p_->setRange(0.01, 1.0);
    top_p_->setSingleStep(0.05);
    top_p_->setValue(1.0);
    seed_ = new QSpinBox;
    seed_->setRange(0, 1 << 30);
    seed_->setToolTip(tr("The same seed gives the same samples: both models draw from one seeded sequence"));
    go_ = new QPushButton(tr("Generate"));
    stop_button_ = new QPushButton(tr("Cancel"));
    stop_button_->setEnabled(false);
    status_ = new QLabel;
    status_->setWordWrap(true);
    dense_label_ = new QLabel(tr("<b>Dense</b>"));
    compressed_label_ = new QLabel(tr("<b>Compressed</b>"));
    dense_view_ = new QTextBrowser;
    compressed_view_ = new QTextBrowser;

    // Two rows of settings, so the panel fits beside the detail tabs on a 1366-pixel screen.
    auto* settings = new QGridLayout;
    int at = 0;
    for (auto [label, w] : {std::pair{tr("New tokens"), static_cast<QWidget*>(max_tokens_)}, std::pair{tr("Temperature"), static_cast<QWidget*>(temperature_)},
                            std::pair{tr("Top-p"), static_cast<QWidget*>(top_p_)}, std::pair{tr("Seed"), static_cast<QWidget*>(seed_)}}) {
        settings->addWidget(new QLabel(label), at / 2, 2 * (at % 2));
        settings->addWidget(w, at / 2, 2 * (at % 2) + 1);
        ++at;
    }
    settings->setColumnStretch(4, 1);
    settings->addWidget(go_, 0, 5);
    settings->addWidget(stop_button_, 1, 5);
    auto* grid = new QGridLayout;
    grid->addWidget(dense_label_, 0, 0);
    grid->addWidget(compressed_label_, 0, 1);
    grid->addWidget(dense_view_, 1, 0);
    grid->addWidget(compressed_view_, 1, 1);
    grid->setColumnStretch(0, 1);
    grid->setColumnStretch(1, 1);
    auto* box = new QVBoxLayout(this);
    box->setContentsMargins(4, 4, 4, 4);
    box->addWidget(prompt_);
    box->addLayout(settings);
    box->addWidget(status_);
    box->addLayout(grid, 1);

    connect(go_, &QPushButton::clicked, this, [this] {
        QString err;
        if (!generate(&err)) status_->setText(err);
    });
    connect(stop_button_, &QPushButton::clicked, this, &GenerationPanel::cancel);
    setModel(nullptr);
}

GenerationPanel::~GenerationPanel() {
    if (stop_) *stop_ = true;
    task_.waitForFinished(); // it stops at its next token
}

void GenerationPanel::setModel(std::shared_ptr<const ss::Model> model) {
    cancel();
    model_ = model && model->task == ss::EvalTask::LanguageModeling ? std::move(model) : nullptr;
    tokenizer_.reset();
    if (model_ && !model_->lm.tokenizer_path.empty()) {
        try {
            tokenizer_ = ss::load_tokenizer(model_->lm.tokenizer_path);
        } catch (const std::exception& e) {
            status_->setText(tr("The model's tokenizer does not load: %1").arg(QString::fromStdString(e.what())));
        }
    }
    dense_.clear();
    compressed_.clear();
    render();
    go_->setEnabled(model_ && tokenizer_);
    if (!model_) status_->setText(tr("Open a language model to compare what the dense and the compressed model write."));
    else if (!tokenizer_) status_->setText(tr("%1 has no tokenizer file: prompts cannot be tokenized.").arg(QString::fromStdString(model_->name)));
    else status_->setText(tr("The compressed side uses %1.").arg(label_));
}

void GenerationPanel::setPlan(const ss::CompressionPlan& plan, const QString& label) {
    plan_ = plan;
    label_ = label;
    if (model_ && tokenizer_ && !running_) status_->setText(tr("The compressed side uses %1.").arg(label_));
}

int GenerationPanel::firstDifference() const {
    const size_t n = std::min(dense_.size(), compressed_.size());
    for (size_t i = 0; i < n; ++i)
        if (dense_[i] != compressed_[i]) return int(i);
    return dense_.size() == compressed_.size() ? -1 : int(n);
}

bool GenerationPanel::generate(QString* error) {
    auto fail = [&](const QString& m) {
        if (error) *error = m;
        return false;
    };
    if (running_) return fail(tr("Generation is running"));
    if (!model_ || !tokenizer_) return fail(tr("Open a language model with a tokenizer first"));
    const std::string text = prompt_->toPlainText().toStdString();
    std::vector<int32_t> prompt = tokenizer_->encode(text);
    if (tokenizer_->bos() >= 0) prompt.insert(prompt.begin(), tokenizer_->bos());
    if (prompt.empty() || text.empty()) return fail(tr("Write a prompt first"));
    if (plan_.needs_calibration() && !calib_) return fail(tr("%1 needs calibration text: File ▸ Open Calibration Text…").arg(label_));
    ss::SamplingOptions opt;
    opt.max_tokens = std::min(max_tokens_->value(), model_->lm.max_positions - int(prompt.size()));
    if (opt.max_tokens <= 0) return fail(tr("The prompt (%1 tokens) fills the model's %2 positions").arg(prompt.size()).arg(model_->lm.max_positions));
    opt.temperature = temperature_->value();
    opt.top_p = top_p_->value();
    opt.seed = uint64_t(seed_->value());
    prompt_ids_ = prompt;
    dense_.clear();
    compressed_.clear();
    dense_tps_ = compressed_tps_ = 0.0;
    running_ = true;
    go_->setEnabled(false);
    stop_button_->setEnabled(true);
    render();
    status_->setText(tr("Generating…"));
    stop_ = std::make_shared<std::atomic<bool>>(false);
    auto stop = stop_;
    auto model = model_;
    const ss::CompressionPlan plan = plan_;
    auto calib = plan.needs_calibration() ? calib_ : nullptr;
    const int calib_ctx = std::min(calib_ctx_, model_->lm.max_positions);
    QPointer<GenerationPanel> self(this);
    // Tokens are handed to the GUI thread as they come; `self` guards against a closed window.
    auto post = [self](auto fn) {
        QMetaObject::invokeMethod(QCoreApplication::instance(), [self, fn] {
            if (self) fn(*self);
        }, Qt::QueuedConnection);
    };
    task_ = QtConcurrent::run([model, plan, prompt, opt, stop, post, calib, calib_ctx]() mutable {
        QString message;
        try {
            const ss::CompressedModel cm = ss::compress(*model, plan, calib ? ss::CalibrationSet(calib.get(), calib_ctx) : ss::CalibrationSet());
            for (int side = 0; side < 2 && !*stop; ++side) {
                ss::SamplingOptions o = opt;
                o.on_token = [&](int32_t t) {
                    post([side, t](GenerationPanel& p) { (side == 0 ? p.dense_ : p.compressed_).push_back(t), p.render(); });
                    return !*stop;
                };
                ss::GenerationTiming timing;
                ss::generate(side == 0 ? *model : cm.model, prompt, o, &timing);
                const double tps = timing.tokens_per_second();
                post([side, tps](GenerationPanel& p) { (side == 0 ? p.dense_tps_ : p.compressed_tps_) = tps, p.render(); });
            }
        } catch (const std::exception& e) {
            message = QString::fromStdString(e.what());
        }
        const bool cancelled = *stop;
        post([message, cancelled](GenerationPanel& p) { p.done(!message.isEmpty() ? message : cancelled ? tr("Cancelled") : QString()); });
    });
    return true;
}

void GenerationPanel::cancel() {
    if (stop_) *stop_ = true;
}

void GenerationPanel::done(const QString& message) {
    running_ = false;
    go_->setEnabled(model_ && tokenizer_);
    stop_button_->setEnabled(false);
    render();
    const int d = firstDifference();
    QString s = d < 0 ? tr("Both models wrote the same %n token(s).", nullptr, int(dense_.size()))
                      : tr("The continuations part at new token %1 (marked).").arg(d + 1);
    if (!message.isEmpty()) s = message + QStringLiteral(" — ") + s;
    status_->setText(s + tr(" Compressed: %1.").arg(label_));
    emit finished();
}

void GenerationPanel::render() {
    const int d = firstDifference();
    auto html = [&](const std::vector<int32_t>& ids) {
        // Each token's text: how far it grows the decoded prompt + continuation (a token's leading
        // space only shows after what precedes it).
        std::vector<int32_t> prefix = prompt_ids_;
        QString out, before = tokenizer_ && !prefix.empty() ? QString::fromStdString(tokenizer_->decode(prefix)) : QString();
        for (size_t i = 0; i < ids.size(); ++i) {
            prefix.push_back(ids[i]);
            QString piece = QStringLiteral("⟨%1⟩").arg(ids[i]);
            if (tokenizer_) {
                const QString now = QString::fromStdString(tokenizer_->decode(prefix));
                piece = now.startsWith(before) ? now.mid(before.size()) : now;
                before = now;
            }
            piece = piece.toHtmlEscaped().replace(QLatin1Char('\n'), QStringLiteral("<br>"));
            out += int(i) == d ? QStringLiteral("<span style='background:#fdd49e;text-decoration:underline'>%1</span>").arg(piece)
                   : int(i) > d && d >= 0 ? QStringLiteral("<span style='color:#8c2d04'>%1</span>").arg(piece)
                                          : piece;
        }
        return QStringLiteral("<i>%1</i>%2").arg(prompt_->toPlainText().toHtmlEscaped(), out);
    };
    dense_view_->setHtml(html(dense_));
    compressed_view_->setHtml(html(compressed_));
    dense_label_->setText(dense_tps_ > 0 ? tr("<b>Dense</b> — %1 tokens/s").arg(dense_tps_, 0, 'f', 1) : tr("<b>Dense</b>"));
    compressed_label_->setText(compressed_tps_ > 0 ? tr("<b>Compressed</b> (%1) — %2 tokens/s").arg(label_).arg(compressed_tps_, 0, 'f', 1)
                                                   : tr("<b>Compressed</b> (%1)").arg(label_));
}

} // namespace ssui
