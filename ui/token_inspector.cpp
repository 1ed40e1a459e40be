// token_inspector.cpp
#include "token_inspector.h"

#include "compress/compression.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHelpEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QSpinBox>
#include <QSplitter>
#include <QTextBrowser>
#include <QTextCursor>
#include <QToolTip>
#include <QVBoxLayout>
#include <QtConcurrent>

#include <algorithm>
#include <cmath>

namespace ssui {

namespace {
// Diverging: blue (better than dense) - white - red (worse), saturating at 2 nats.
QColor nll_colour(double delta) {
    if (std::isnan(delta)) return QColor(235, 235, 235);
    const double t = std::clamp(delta / 2.0, -1.0, 1.0);
    const QColor lo(33, 102, 172), mid(255, 255, 255), hi(214, 47, 39);
    const QColor& end = t < 0 ? lo : hi;
    const double a = std::fabs(t);
    return QColor(int(mid.red() + a * (end.red() - mid.red())), int(mid.green() + a * (end.green() - mid.green())),
                  int(mid.blue() + a * (end.blue() - mid.blue())));
}

QColor expert_colour(int id) { // a light categorical palette (text stays readable on it)
    static const QColor palette[] = {QColor(166, 206, 227), QColor(178, 223, 138), QColor(251, 154, 153), QColor(253, 191, 111),
                                     QColor(202, 178, 214), QColor(255, 255, 153), QColor(141, 211, 199), QColor(252, 205, 229),
                                     QColor(217, 217, 217), QColor(204, 235, 197), QColor(255, 237, 111), QColor(188, 128, 189)};
    return id < 0 ? QColor(235, 235, 235) : palette[size_t(id) % (sizeof palette / sizeof palette[0])];
}
} // namespace

TokenInspector::TokenInspector(QWidget* parent) : QWidget(parent) {
    colour_ = new QComboBox;
    colour_->addItem(tr("Change in NLL against dense (red: worse)"));
    colour_->addItem(tr("Top-1 expert in layer"));
    layer_ = new QSpinBox;
    layer_->setPrefix(tr("MoE layer "));
    layer_->setEnabled(false);
    chunk_ = new QSpinBox;
    chunk_->setPrefix(tr("chunk "));
    chunk_->setToolTip(tr("Which chunk of the text (of the evaluation's context length) is inspected"));
    search_ = new QLineEdit;
    search_->setPlaceholderText(tr("Find in the text…"));
    search_->setClearButtonEnabled(true);
    status_ = new QLabel;
    status_->setWordWrap(true);
    view_ = new QTextBrowser;
    view_->setOpenLinks(false);
    view_->viewport()->installEventFilter(this);
    view_->viewport()->setMouseTracking(true);
    worst_ = new QListWidget;
    worst_->setToolTip(tr("The tokens the compressed model predicted worst against dense (largest NLL increase); click to find one"));

    auto* bar = new QHBoxLayout;
    bar->addWidget(colour_);
    bar->addWidget(layer_);
    bar->addWidget(chunk_);
    bar->addStretch(1);
    auto* left = new QWidget;
    auto* lv = new QVBoxLayout(left);
    lv->setContentsMargins(0, 0, 0, 0);
    lv->addLayout(bar);
    lv->addWidget(search_); // a row of its own: the tab fits a 1366-pixel screen
    lv->addWidget(status_);
    lv->addWidget(view_, 1);
    auto* right = new QWidget;
    auto* rv = new QVBoxLayout(right);
    rv->setContentsMargins(0, 0, 0, 0);
    rv->addWidget(new QLabel(tr("<b>Got worst</b> (Δ NLL, nats)")));
    rv->addWidget(worst_, 1);
    auto* split = new QSplitter;
    split->addWidget(left);
    split->addWidget(right);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    auto* box = new QVBoxLayout(this);
    box->setContentsMargins(4, 4, 4, 4);
    box->addWidget(split);

    connect(colour_, &QComboBox::currentIndexChanged, this, [this](int i) {
        layer_->setEnabled(i == 1 && result_ && result_->moe_layers > 0);
        render();
    });
    connect(layer_, &QSpinBox::valueChanged, this, [this] { render(); });
    connect(chunk_, &QSpinBox::valueChanged, this, [this] { start(); });
    connect(search_, &QLineEdit::textChanged, this, [this](const QString& t) { search(t); });
    connect(worst_, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row < 0 || !result_ || row >= worst_->count()) return;
        const int tok = worst_->item(row)->data(Qt::UserRole).toInt();
        if (tok < 0 || tok + 1 >= int(char_start_.size())) return;
        QTextCursor c(view_->document());
        c.setPosition(char_start_[size_t(tok)]);
        c.setPosition(char_start_[size_t(tok) + 1], QTextCursor::KeepAnchor);
        view_->setTextCursor(c);
        view_->ensureCursorVisible();
    });
    connect(&watcher_, &QFutureWatcherBase::finished, this, [this] {
        if (restart_) {
            restart_ = false;
            return start();
        }
        try {
            result_ = watcher_.result();
        } catch (const std::exception& e) {
            result_.reset();
            return clear(QString::fromStdString(e.what()));
        }
        if (!result_) return;
        layer_->setRange(0, std::max(0, result_->moe_layers - 1));
        layer_->setEnabled(colour_->currentIndex() == 1 && result_->moe_layers > 0);
        render();
        emit inspected();
    });
    clear(tr("Open a language model and its text, evaluate, and select a run."));
}

TokenInspector::~TokenInspector() { watcher_.waitForFinished(); }

void TokenInspector::setSource(std::shared_ptr<const ss::Model> model, std::shared_ptr<const ss::TokenData> tokens, int ctx) {
    const bool new_model = model != model_;
    model_ = std::move(model);
    tokens_ = std::move(tokens);
    ctx_ = std::max(2, ctx);
    if (new_model) {
        tokenizer_.reset();
        if (model_ && !model_->lm.tokenizer_path.empty()) {
            try {
                tokenizer_ = ss::load_tokenizer(model_->lm.tokenizer_path);
            } catch (const std::exception&) { // pieces shown as ids
            }
        }
    }
    const int chunks = tokens_ && model_ ? int(tokens_->tokens.size() / size_t(ctx_)) : 0;
    chunk_->blockSignals(true);
    chunk_->setRange(0, std::max(0, chunks - 1));
    chunk_->setSuffix(tr(" of %1").arg(chunks));
    chunk_->blockSignals(false);
    have_plan_ = false;
    result_.reset();
    clear(model_ && tokens_ ? tr("Select a run to see its tokens.") : tr("Open a language model and its text, evaluate, and select a run."));
}

void TokenInspector::setPlan(const ss::CompressionPlan& plan, const QString& label) {
    plan_ = plan;
    label_ = label;
    have_plan_ = true;
    start();
}

void TokenInspector::setChunk(int chunk) { chunk_->setValue(chunk); }
void TokenInspector::setColour(Colour c) { colour_->setCurrentIndex(c == Colour::TopExpert ? 1 : 0); }
void TokenInspector::setExpertLayer(int layer) { layer_->setValue(layer); }

void TokenInspector::clear(const QString& reason) {
    view_->clear();
    worst_->clear();
    char_start_.clear();
    status_->setText(reason);
}

void TokenInspector::start() {
    if (!model_ || !tokens_ || !have_plan_) return;
    if (model_->task != ss::EvalTask::LanguageModeling) return clear(tr("The token inspector shows language models."));
    if (plan_.needs_calibration() && !calib_) return clear(tr("%1 needs calibration text: File ▸ Open Calibration Text…").arg(label_));
    if (int64_t(tokens_->tokens.size()) < ctx_) return clear(tr("The text is shorter than one chunk of %1 tokens.").arg(ctx_));
    if (watcher_.isRunning()) {
        restart_ = true;
        return;
    }
    status_->setText(tr("Inspecting %1 on chunk %2…").arg(label_).arg(chunk_->value()));
    auto model = model_;
    auto tokens = tokens_;
    const ss::CompressionPlan plan = plan_;
    const int ctx = std::min(ctx_, model_->lm.max_positions), chunk = chunk_->value();
    auto calib = plan.needs_calibration() ? calib_ : nullptr;
    watcher_.setFuture(QtConcurrent::run([model, tokens, plan, ctx, chunk, calib] {
        const ss::CompressedModel cm = ss::compress(*model, plan, calib ? ss::CalibrationSet(calib.get(), ctx) : ss::CalibrationSet());
        return std::make_shared<const ss::TokenInspection>(ss::inspect_tokens(*model, cm.model, tokens->tokens, ctx, chunk));
    }));
}

QString TokenInspector::pieceOf(int token) const {
    if (!result_ || token < 0 || token >= int(result_->tokens.size())) return {};
    const int32_t id = result_->tokens[size_t(token)].id;
    if (!tokenizer_) return QStringLiteral("⟨%1⟩").arg(id);
    QString p = QString::fromStdString(tokenizer_->piece(id));
    p.replace(QChar(0x2581), QLatin1Char(' ')); // SentencePiece's word boundary
    p.replace(QChar(0x0120), QLatin1Char(' ')); // byte-level BPE's space
    p.replace(QChar(0x010A), QLatin1Char('\n'));
    if (p == QLatin1String("<0x0A>")) p = QStringLiteral("\n");
    return p.isEmpty() ? QStringLiteral("⟨%1⟩").arg(id) : p;
}

QColor TokenInspector::colourOf(int token) const {
    if (!result_ || token < 0 || token >= int(result_->tokens.size())) return {};
    const ss::InspectedToken& t = result_->tokens[size_t(token)];
    if (colour_->currentIndex() == 1 && result_->moe_layers > 0 && result_->top_k > 0) {
        const int l = std::clamp(layer_->value(), 0, result_->moe_layers - 1);
        const int pos = result_->route_idx[(size_t(token) * result_->moe_layers + l) * result_->top_k];
        const auto& ids = result_->expert_ids[size_t(l)];
        return expert_colour(pos >= 0 && pos < int(ids.size()) ? ids[size_t(pos)] : -1);
    }
    return nll_colour(t.nll - t.dense_nll);
}

void TokenInspector::render() {
    view_->clear();
    worst_->clear();
    char_start_.clear();
    if (!result_) return;
    const ss::TokenInspection& r = *result_;
    QTextCursor c(view_->document());
    QTextCharFormat plain;
    for (size_t i = 0; i < r.tokens.size(); ++i) {
        char_start_.push_back(c.position());
        QTextCharFormat f = plain;
        f.setBackground(colourOf(int(i)));
        if (i < matched_.size() && matched_[i]) {
            f.setFontWeight(QFont::Bold);
            f.setFontUnderline(true);
        }
        c.insertText(pieceOf(int(i)), f);
    }
    char_start_.push_back(c.position());
    double sum = 0, dsum = 0;
    int n = 0;
    for (const auto& t : r.tokens)
        if (!std::isnan(t.nll)) sum += t.nll, dsum += t.dense_nll, ++n;
    status_->setText(tr("%1, chunk %2 (tokens %3–%4): mean NLL %5 nats against dense %6 (Δ %7). Hover a token for its predictions and experts.")
                         .arg(label_).arg(chunk_->value()).arg(r.first).arg(r.first + int(r.tokens.size()) - 1)
                         .arg(n ? sum / n : 0.0, 0, 'f', 3).arg(n ? dsum / n : 0.0, 0, 'f', 3).arg(n ? (sum - dsum) / n : 0.0, 0, 'f', 3));
    for (int i : r.worst(30)) {
        const ss::InspectedToken& t = r.tokens[size_t(i)];
        auto* item = new QListWidgetItem(tr("%1  “%2”  #%3").arg(t.nll - t.dense_nll, 0, 'f', 2).arg(pieceOf(i).trimmed()).arg(r.first + i));
        item->setData(Qt::UserRole, i);
        item->setBackground(nll_colour(t.nll - t.dense_nll));
        worst_->addItem(item);
    }
}

int TokenInspector::tokenAtCharacter(int pos) const {
    if (char_start_.size() < 2 || pos < char_start_.front() || pos >= char_start_.back()) return -1;
    return int(std::upper_bound(char_start_.begin(), char_start_.end(), pos) - char_start_.begin()) - 1;
}

QString TokenInspector::describe(int token) const {
    if (!result_ || token < 0 || token >= int(result_->tokens.size())) return {};
    const ss::TokenInspection& r = *result_;
    const ss::InspectedToken& t = r.tokens[size_t(token)];
    auto piece = [this](int32_t id) {
        if (id < 0) return QStringLiteral("—");
        if (!tokenizer_) return QStringLiteral("⟨%1⟩").arg(id);
        return QStringLiteral("“%1”").arg(QString::fromStdString(tokenizer_->piece(id)).replace(QChar(0x2581), QLatin1Char(' ')));
    };
    QString s = tr("Token %1 “%2” (id %3)").arg(r.first + token).arg(pieceOf(token).toHtmlEscaped()).arg(t.id);
    if (std::isnan(t.nll)) {
        s += tr("\nthe chunk's first token: nothing predicts it");
    } else {
        s += tr("\nNLL %1 compressed vs %2 dense (Δ %3%4 nats)").arg(t.nll, 0, 'f', 3).arg(t.dense_nll, 0, 'f', 3).arg(t.nll >= t.dense_nll ? "+" : "")
                 .arg(t.nll - t.dense_nll, 0, 'f', 3);
        s += tr("\npredicted, compressed:");
        for (int k = 0; k < ss::kInspectTop && t.top[size_t(k)] >= 0; ++k)
            s += QStringLiteral(" %1 %2 %;").arg(piece(t.top[size_t(k)])).arg(100.0 * t.top_p[size_t(k)], 0, 'f', 1);
        s += tr("\npredicted, dense:");
        for (int k = 0; k < ss::kInspectTop && t.dense_top[size_t(k)] >= 0; ++k)
            s += QStringLiteral(" %1 %2 %;").arg(piece(t.dense_top[size_t(k)])).arg(100.0 * t.dense_top_p[size_t(k)], 0, 'f', 1);
    }
    for (int l = 0; l < r.moe_layers; ++l) {
        s += tr("\n%1:").arg(QString::fromStdString(r.moe_layer_names[size_t(l)]));
        for (int k = 0; k < r.top_k; ++k) {
            const size_t at = (size_t(token) * r.moe_layers + l) * r.top_k + k;
            const int pos = r.route_idx[at];
            const auto& ids = r.expert_ids[size_t(l)];
            s += tr(" expert %1 (%2)").arg(pos >= 0 && pos < int(ids.size()) ? ids[size_t(pos)] : pos).arg(r.route_w[at], 0, 'f', 3);
        }
    }
    return s;
}

int TokenInspector::search(const QString& text) {
    matched_.assign(result_ ? result_->tokens.size() : 0, 0);
    int n = 0;
    if (result_ && !text.isEmpty()) {
        // Matches in the text as shown, marked on every token they touch.
        QString all;
        for (size_t i = 0; i < result_->tokens.size(); ++i) all += pieceOf(int(i));
        for (int at = all.indexOf(text, 0, Qt::CaseInsensitive); at >= 0; at = all.indexOf(text, at + 1, Qt::CaseInsensitive)) {
            ++n;
            for (int p = at; p < at + text.size(); ++p) {
                const int tok = tokenAtCharacter(p);
                if (tok >= 0) matched_[size_t(tok)] = 1;
            }
        }
    }
    render();
    if (!text.isEmpty()) status_->setText(status_->text() + tr("  “%1”: %n match(es).", nullptr, n).arg(text));
    return n;
}

bool TokenInspector::eventFilter(QObject* watched, QEvent* event) {
    if (watched == view_->viewport() && event->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(event);
        const int tok = tokenAtCharacter(view_->cursorForPosition(help->pos()).position());
        if (tok >= 0) QToolTip::showText(help->globalPos(), describe(tok), view_);
        else QToolTip::hideText();
        return true;
    }
    return QWidget::eventFilter(watched, event);
}

} // namespace ssui
