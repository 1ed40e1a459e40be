// lm_eval_panel.cpp
#include "lm_eval_panel.h"

#include <QFormLayout>
#include <QGroupBox>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>

namespace ssui {

LmEvalPanel::LmEvalPanel(QWidget* parent) : QWidget(parent), ctx_(new QSpinBox), chunks_(new QSpinBox), gen_(new QSpinBox) {
    auto* box = new QGroupBox(tr("Evaluation (language model)"), this);
    auto* form = new QFormLayout(box);
    ctx_->setRange(4, 1 << 20);
    ctx_->setValue(128);
    ctx_->setToolTip(tr("Tokens per chunk; each chunk starts from an empty cache and its second half is scored, as llama.cpp's perplexity"));
    chunks_->setRange(2, 1 << 20);
    chunks_->setValue(8);
    chunks_->setToolTip(tr("Chunks of the text scored per run (the first ones); more is slower but tighter"));
    gen_->setRange(0, 4096);
    gen_->setValue(16);
    gen_->setToolTip(tr("Tokens generated one at a time (batch 1, KV cache) to time decoding; 0: not timed"));
    form->addRow(tr("Context"), ctx_);
    form->addRow(tr("Chunks"), chunks_);
    form->addRow(tr("Generated"), gen_);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(box);
    for (QSpinBox* s : {ctx_, chunks_, gen_})
        connect(s, &QSpinBox::valueChanged, this, [this] {
            describe();
            emit changed();
        });
    describe();
}

void LmEvalPanel::setLimits(int max_ctx, int text_tokens) {
    ctx_->blockSignals(true);
    ctx_->setMaximum(std::max(4, max_ctx));
    ctx_->blockSignals(false);
    text_tokens_ = text_tokens;
    describe();
}

void LmEvalPanel::setValues(int ctx, int chunks, int gen_tokens) {
    for (QSpinBox* s : {ctx_, chunks_, gen_}) s->blockSignals(true);
    ctx_->setValue(ctx);
    chunks_->setValue(chunks);
    gen_->setValue(gen_tokens);
    for (QSpinBox* s : {ctx_, chunks_, gen_}) s->blockSignals(false);
    describe();
}

int LmEvalPanel::ctx() const { return ctx_->value(); }
int LmEvalPanel::chunks() const { return chunks_->value(); }
int LmEvalPanel::genTokens() const { return gen_->value(); }

void LmEvalPanel::describe() {
    const int available = text_tokens_ / std::max(1, ctx_->value());
    chunks_->setSuffix(text_tokens_ > 0 ? tr(" of %1").arg(available) : QString());
}

} // namespace ssui
