// token_inspector.h - the evaluation text token by token for one run: each token coloured by how
// much worse (red) or better (blue) the compressed model predicted it than the dense model, or by
// the expert a chosen MoE layer sent it to; hovering shows both NLLs, both models' top
// predictions and the token's experts with weights in every layer. Beside it, the tokens that got
// worst (click one to find it) and a search over the text.
//
// The run's plan is applied to the loaded model again and one chunk of the text is run through
// both models in the background (core/eval/token_inspection.h); the runs table keeps no per-token data.
#pragma once

#include "compress/compression_plan.h"
#include "eval/token_inspection.h"
#include "formats/tokenizer.h"
#include "model/model.h"
#include "data/token_data.h"

#include <QFutureWatcher>
#include <QWidget>

#include <memory>
#include <vector>

class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QSpinBox;
class QTextBrowser;

namespace ssui {

class TokenInspector : public QWidget {
    Q_OBJECT
public:
    explicit TokenInspector(QWidget* parent = nullptr);
    ~TokenInspector() override;

    // The loaded language model and its text (null: nothing to inspect). ctx: tokens per chunk.
    void setSource(std::shared_ptr<const ss::Model> model, std::shared_ptr<const ss::TokenData> tokens, int ctx);
    // Inspects `plan` (the selected run's) on the current chunk; `label` names it ("run 3").
    void setPlan(const ss::CompressionPlan& plan, const QString& label);
    // Text for plans that need calibration (null: such plans are not inspected).
    void setCalibration(std::shared_ptr<const ss::TokenData> text) { calib_ = std::move(text); }
    void clear(const QString& reason);

    enum class Colour { NllChange, TopExpert };
    void setColour(Colour c);
    void setExpertLayer(int layer);
    void setChunk(int chunk);
    bool busy() const { return watcher_.isRunning(); }

    // For tests and the window: what is shown.
    const ss::TokenInspection* inspection() const { return result_.get(); }
    QString pieceOf(int token) const;       // the token's text as displayed
    int tokenAtCharacter(int pos) const;    // the token drawn at a character position of the text view; -1 off text
    QString describe(int token) const;      // the hover text
    QColor colourOf(int token) const;       // its background now
    int search(const QString& text);        // tokens whose text contains `text` (case-insensitive) are marked; returns how many
    QListWidget* worstList() const { return worst_; }
    QTextBrowser* view() const { return view_; }

signals:
    void inspected(); // a new inspection is shown

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void start();
    void render();

    std::shared_ptr<const ss::Model> model_;
    std::shared_ptr<const ss::TokenData> tokens_;
    std::shared_ptr<const ss::TokenData> calib_;
    std::unique_ptr<ss::Tokenizer> tokenizer_;
    int ctx_ = 128;
    ss::CompressionPlan plan_;
    QString label_;
    bool have_plan_ = false;
    std::shared_ptr<const ss::TokenInspection> result_;
    std::vector<int> char_start_; // (tokens + 1): where each token's text starts in the view
    std::vector<char> matched_;   // (tokens): marked by the search
    QFutureWatcher<std::shared_ptr<const ss::TokenInspection>> watcher_;
    bool restart_ = false;

    QComboBox* colour_;
    QSpinBox* layer_;
    QSpinBox* chunk_;
    QLineEdit* search_;
    QLabel* status_;
    QTextBrowser* view_;
    QListWidget* worst_;
};

} // namespace ssui
