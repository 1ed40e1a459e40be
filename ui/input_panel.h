// input_panel.h - the preprocessing a model is evaluated with: x = (raw * scale - mean) / std.
// safetensors models bring their own; ONNX models carry none (default x = raw / 255), so the user
// sets it here. Values the user did not edit are kept exactly (no decimal rounding).
#pragma once

#include "model/model.h"

#include <QWidget>

class QLineEdit;

namespace ssui {

class InputPanel : public QWidget {
    Q_OBJECT
public:
    explicit InputPanel(QWidget* parent = nullptr);

    void setInput(const ss::InputSpec& spec);
    // The spec to use; false (and a message) when a field is not a valid number or std <= 0.
    bool input(ss::InputSpec* out, QString* error) const;

    QLineEdit* scaleEdit() const { return scale_; }
    QLineEdit* meanEdit() const { return mean_; }
    QLineEdit* stdEdit() const { return std_; }

private:
    QLineEdit* scale_;
    QLineEdit* mean_;
    QLineEdit* std_;
    ss::InputSpec shown_; // exact values behind the texts as set
};

} // namespace ssui
