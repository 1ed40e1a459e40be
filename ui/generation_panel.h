// generation_panel.h - a prompt continued by the dense and the compressed model side by side
// (greedy by default; temperature, top-p and seed for sampling), each model's generation tokens/s,
// and the first token where the two continuations part, marked in both. Runs in the background
// and can be cancelled; tokens appear as they are generated.
#pragma once

#include "compress/compression_plan.h"
#include "eval/generate.h"
#include "formats/tokenizer.h"
#include "data/token_data.h"
#include "model/model.h"

#include <QFuture>
#include <QWidget>

#include <atomic>
#include <memory>
#include <vector>

class QDoubleSpinBox;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTextBrowser;

namespace ssui {

class GenerationPanel : public QWidget {
    Q_OBJECT
public:
    explicit GenerationPanel(QWidget* parent = nullptr);
    ~GenerationPanel() override;

    void setModel(std::shared_ptr<const ss::Model> model); // a language model, or null
    void setPlan(const ss::CompressionPlan& plan, const QString& label); // the compressed side
    // Text for plans that need calibration (null: such plans are refused), cut into chunks of ctx
    // as the evaluation cuts it, so the compressed side is the run's model.
    void setCalibration(std::shared_ptr<const ss::TokenData> text, int ctx) { calib_ = std::move(text), calib_ctx_ = ctx; }

    // Starts (false with a message when there is no model, no tokenizer or an empty prompt).
    bool generate(QString* error = nullptr);
    void cancel();
    bool running() const { return running_; }

    QPlainTextEdit* promptEdit() const { return prompt_; }
    QSpinBox* maxTokensSpin() const { return max_tokens_; }
    QDoubleSpinBox* temperatureSpin() const { return temperature_; }
    QDoubleSpinBox* topPSpin() const { return top_p_; }
    QSpinBox* seedSpin() const { return seed_; }
    const std::vector<int32_t>& denseTokens() const { return dense_; }
    const std::vector<int32_t>& compressedTokens() const { return compressed_; }
    int firstDifference() const; // index of the first new token where the two differ; -1 if none
    double denseTokensPerSecond() const { return dense_tps_; }
    double compressedTokensPerSecond() const { return compressed_tps_; }

signals:
    void finished(); // both continuations done, or cancelled

private:
    void render();
    void done(const QString& message);

    std::shared_ptr<const ss::Model> model_;
    std::unique_ptr<ss::Tokenizer> tokenizer_;
    ss::CompressionPlan plan_;
    std::shared_ptr<const ss::TokenData> calib_;
    int calib_ctx_ = 128;
    QString label_ = QStringLiteral("the controls' settings");
    std::vector<int32_t> prompt_ids_, dense_, compressed_;
    double dense_tps_ = 0.0, compressed_tps_ = 0.0;
    bool running_ = false;
    std::shared_ptr<std::atomic<bool>> stop_;
    QFuture<void> task_;

    QPlainTextEdit* prompt_;
    QSpinBox* max_tokens_;
    QDoubleSpinBox* temperature_;
    QDoubleSpinBox* top_p_;
    QSpinBox* seed_;
    QPushButton* go_;
    QPushButton* stop_button_;
    QLabel* status_;
    QLabel* dense_label_;
    QLabel* compressed_label_;
    QTextBrowser* dense_view_;
    QTextBrowser* compressed_view_;
};

} // namespace ssui
