// lm_eval_panel.h - what one language-model evaluation in the window covers: tokens per chunk
// (ctx, at most the model's context), how many chunks of the text are scored, and how many tokens
// are generated one at a time to time decoding. Shown instead of the input preprocessing while a
// language model is loaded.
#pragma once

#include <QWidget>

class QSpinBox;

namespace ssui {

class LmEvalPanel : public QWidget {
    Q_OBJECT
public:
    explicit LmEvalPanel(QWidget* parent = nullptr);

    // The model's limit on ctx and the text's chunk count at that ctx (0: no text yet).
    void setLimits(int max_ctx, int text_tokens);
    void setValues(int ctx, int chunks, int gen_tokens); // without emitting changed
    int ctx() const;
    int chunks() const;
    int genTokens() const;
    QSpinBox* ctxSpin() const { return ctx_; }
    QSpinBox* chunksSpin() const { return chunks_; }
    QSpinBox* genSpin() const { return gen_; }

signals:
    void changed();

private:
    void describe();
    QSpinBox* ctx_;
    QSpinBox* chunks_;
    QSpinBox* gen_;
    int text_tokens_ = 0;
};

} // namespace ssui
