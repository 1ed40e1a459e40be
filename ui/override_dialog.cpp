// override_dialog.cpp
#include "override_dialog.h"

#include "formats/tensor_names.h"
#include "model/overloaded.h"

#include <QDialogButtonBox>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

namespace ssui {

namespace {
enum Col { Name, What, Prune, Quant, ColCount };
} // namespace

OverrideDialog::OverrideDialog(const ss::Model& model, const std::map<std::string, ss::LayerOverride>& current, QWidget* parent)
    : QDialog(parent), table_(new QTableWidget(0, ColCount)), status_(new QLabel),
      buttons_(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel)) {
    setWindowTitle(tr("Per-layer and per-expert settings"));
    table_->setHorizontalHeaderLabels({tr("Layer / expert"), tr("What"), tr("Pruning override"), tr("Quantization override")});
    auto add = [&](const std::string& name, const QString& what) {
        const int row = table_->rowCount();
        table_->insertRow(row);
        auto* n = new QTableWidgetItem(QString::fromStdString(name));
        n->setFlags(n->flags() & ~Qt::ItemIsEditable);
        auto* w = new QTableWidgetItem(what);
        w->setFlags(w->flags() & ~Qt::ItemIsEditable);
        table_->setItem(row, Name, n);
        table_->setItem(row, What, w);
        QString prune, quant;
        if (auto it = current.find(name); it != current.end()) {
            if (it->second.prune) prune = QString::fromStdString(it->second.prune->label());
            if (it->second.quant) quant = QString::fromStdString(it->second.quant->label());
        }
        table_->setItem(row, Prune, new QTableWidgetItem(prune));
        table_->setItem(row, Quant, new QTableWidgetItem(quant));
    };
    for (const auto& layer : model.layers)
        std::visit(ss::Overloaded{
                       [&](const ss::LinearWeights& lin) { add(lin.name, tr("linear %1 → %2").arg(lin.in).arg(lin.out)); },
                       [&](const ss::MoeLayer& moe) {
                           add(moe.name, tr("MoE layer: all %1 experts").arg(moe.experts.size()));
                           for (const auto& e : moe.experts)
                               add(ss::tensor_names::moe_expert(moe.name, e.id), tr("expert %1: %2 → %3 → %2").arg(e.id).arg(e.fc1.in).arg(e.fc1.out));
                       },
                       [&](const ss::DecoderBlock& b) {
                           add(b.name, tr("decoder block: attention and %1").arg(b.is_moe ? tr("%1 experts").arg(b.moe.experts.size()) : tr("MLP")));
                           if (b.is_moe)
                               for (const auto& e : b.moe.experts)
                                   add(ss::tensor_names::moe_expert(b.moe.name, e.id), tr("expert %1: %2 → %3 → %2").arg(e.id).arg(e.fc1.in).arg(e.fc1.out));
                       },
                       [](const ss::EmbeddingLayer&) {}, // compressed only when a plan file names it
                       [](const ss::RmsNormLayer&) {},
                       [](const ss::ActivationLayer&) {}, // nothing to compress
                       [](const ss::LayerNormLayer&) {},
                       [](const ss::DropoutLayer&) {},
                   },
                   layer);
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->verticalHeader()->setVisible(false);
    auto* help = new QLabel(tr("Pruning: magnitude-layer:S[:block4], nm:N:M, wanda:S (global magnitude and neurons apply to the whole model).\n"
                               "Quantization: int8, int4:g32, int3:g64:asym, fp16, … An expert's row applies to both its matrices;\n"
                               "an MoE layer's row to all its experts. Empty cells keep the global setting."));
    help->setWordWrap(true);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(help);
    layout->addWidget(table_, 1);
    layout->addWidget(status_);
    layout->addWidget(buttons_);
    connect(buttons_, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons_, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(table_, &QTableWidget::itemChanged, this, &OverrideDialog::validate);
    resize(760, 520);
    validate();
}

bool OverrideDialog::overrides(std::map<std::string, ss::LayerOverride>* out, QString* error) const {
    out->clear();
    for (int row = 0; row < table_->rowCount(); ++row) {
        const std::string name = table_->item(row, Name)->text().toStdString();
        const QString prune = table_->item(row, Prune)->text().trimmed(), quant = table_->item(row, Quant)->text().trimmed();
        ss::LayerOverride o;
        try {
            if (!prune.isEmpty()) {
                o.prune = ss::parse_prune_spec(prune.toStdString());
                if (o.prune->method == ss::PruneMethod::Magnitude || o.prune->method == ss::PruneMethod::Neurons)
                    throw std::runtime_error("'" + prune.toStdString() + "' applies to the whole model; use magnitude-layer:S for one layer");
            }
            if (!quant.isEmpty()) o.quant = ss::parse_quant_spec(quant.toStdString());
        } catch (const std::exception& e) {
            if (error) *error = tr("%1: %2").arg(QString::fromStdString(name), QString::fromStdString(e.what()));
            return false;
        }
        if (o.prune || o.quant) (*out)[name] = o;
    }
    return true;
}

void OverrideDialog::validate() {
    std::map<std::string, ss::LayerOverride> o;
    QString err;
    const bool ok = overrides(&o, &err);
    status_->setText(ok ? tr("%n override(s).", nullptr, int(o.size())) : err);
    status_->setStyleSheet(ok ? QString() : QStringLiteral("color: #b03020;"));
    buttons_->button(QDialogButtonBox::Ok)->setEnabled(ok);
}

} // namespace ssui
