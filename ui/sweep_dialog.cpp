// sweep_dialog.cpp
#include "sweep_dialog.h"

#include "eval/sweep_grid.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace ssui {

SweepDialog::SweepDialog(QWidget* parent)
    : QDialog(parent), methods_(new QLineEdit(QStringLiteral("magnitude"))), sparsities_(new QLineEdit(QStringLiteral("0, 0.3, 0.5, 0.7, 0.9"))),
      quants_(new QLineEdit(QStringLiteral("none, int8, int4:g32"))), top_k_(new QLineEdit(QStringLiteral("0"))), summary_(new QLabel),
      buttons_(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel)) {
    setWindowTitle(tr("Sweep"));
    methods_->setToolTip(tr("magnitude, magnitude-layer, magnitude:block4, wanda, neurons, nm:2:4, none"));
    sparsities_->setToolTip(tr("Fractions in [0, 1); methods without a sparsity (nm:N:M, none) ignore them."));
    quants_->setToolTip(tr("none, int8, int8:gG, int4:gG, int3:gG, int2:gG (G = 32, 64, 128), :asym, fp16, bf16"));
    top_k_->setToolTip(tr("Experts per sample in every MoE layer; 0 keeps the model's own."));
    auto* form = new QFormLayout;
    form->addRow(tr("Pruning methods"), methods_);
    form->addRow(tr("Sparsities"), sparsities_);
    form->addRow(tr("Quantization"), quants_);
    form->addRow(tr("MoE top-k"), top_k_);
    summary_->setWordWrap(true);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(new QLabel(tr("Every combination is evaluated, one after another; finished runs are kept if you cancel.")));
    layout->addWidget(summary_);
    layout->addWidget(buttons_);
    buttons_->button(QDialogButtonBox::Ok)->setText(tr("Run Sweep"));
    connect(buttons_, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons_, &QDialogButtonBox::rejected, this, &QDialog::reject);
    for (QLineEdit* e : {methods_, sparsities_, quants_, top_k_}) connect(e, &QLineEdit::textChanged, this, &SweepDialog::update);
    resize(520, height());
    update();
}

std::vector<ss::CompressionPlan> SweepDialog::plans(QString* error) const {
    try {
        return ss::expand_sweep(ss::parse_sweep_grid(methods_->text().toStdString(), sparsities_->text().toStdString(),
                                                     quants_->text().toStdString(), top_k_->text().toStdString()));
    } catch (const std::exception& e) {
        if (error) *error = QString::fromStdString(e.what());
        return {};
    }
}

void SweepDialog::update() {
    QString err;
    const size_t n = plans(&err).size();
    summary_->setText(n ? tr("%n run(s).", nullptr, int(n)) : err);
    summary_->setStyleSheet(n ? QString() : QStringLiteral("color: #b03020;"));
    buttons_->button(QDialogButtonBox::Ok)->setEnabled(n > 0);
}

} // namespace ssui
