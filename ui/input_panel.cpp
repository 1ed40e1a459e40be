// input_panel.cpp
#include "input_panel.h"

#include <QFormLayout>
#include <QGroupBox>
#include <QLineEdit>
#include <QVBoxLayout>

#include <cmath>

namespace ssui {

namespace {
QString text_of(double v) { return QString::number(v, 'g', 10); }

// The exact value when the text is unchanged, else the parsed text.
bool value_of(const QLineEdit* e, double shown, double* out) {
    if (e->text() == text_of(shown)) {
        *out = shown;
        return true;
    }
    bool ok = false;
    const double v = e->text().trimmed().toDouble(&ok);
    if (!ok || !std::isfinite(v)) return false;
    *out = v;
    return true;
}
} // namespace

InputPanel::InputPanel(QWidget* parent) : QWidget(parent) {
    auto* box = new QGroupBox(tr("Input preprocessing"), this);
    box->setToolTip(tr("x = (raw × scale − mean) / std, applied to every stored value of the dataset."));
    auto* form = new QFormLayout(box);
    scale_ = new QLineEdit(box);
    mean_ = new QLineEdit(box);
    std_ = new QLineEdit(box);
    form->addRow(tr("Scale"), scale_);
    form->addRow(tr("Mean"), mean_);
    form->addRow(tr("Std"), std_);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(box);
    setInput({});
}

void InputPanel::setInput(const ss::InputSpec& spec) {
    shown_ = spec;
    scale_->setText(text_of(spec.scale));
    mean_->setText(text_of(spec.mean));
    std_->setText(text_of(spec.std));
}

bool InputPanel::input(ss::InputSpec* out, QString* error) const {
    ss::InputSpec s = shown_;
    if (!value_of(scale_, shown_.scale, &s.scale)) {
        *error = tr("Input scale '%1' is not a number").arg(scale_->text());
        return false;
    }
    if (!value_of(mean_, shown_.mean, &s.mean)) {
        *error = tr("Input mean '%1' is not a number").arg(mean_->text());
        return false;
    }
    if (!value_of(std_, shown_.std, &s.std) || !(s.std > 0)) {
        *error = tr("Input std '%1' must be a number > 0").arg(std_->text());
        return false;
    }
    *out = s;
    return true;
}

} // namespace ssui
