// override_dialog.cpp
#include "override_dialog.h"

#include "formats/tensor_names.h"
#include "model/matrices.h"
#include "model/overloaded.h"

#include <QDialogButtonBox>
#include <QHeaderView>
#include <QLineEdit>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include <map>

namespace ssui {

namespace {
enum Col { Name, What, Prune, Quant, ColCount };
} // namespace

OverrideDialog::OverrideDialog(const ss::Model& model, const std::map<std::string, ss::LayerOverride>& current, QWidget* parent)
    : QDialog(parent), table_(new QTableWidget(0, ColCount)), status_(new QLabel),
      buttons_(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel)) {
    setWindowTitle(tr("Per-layer and per-expert settings"));
    table_->setHorizontalHeaderLabels({tr("Layer / expert"), tr("What"), tr("Pruning override"), tr("Quantization override")});
    std::map<std::string, std::vector<int>> kinds; // "q_proj" -> its matrices' rows (language models)
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
                           // Every matrix of the block on its own row, and its kind for the group rows.
                           const int li = int(&layer - model.layers.data());
                           ss::for_each_layer_matrix(const_cast<ss::Model&>(model), li, ss::MatrixScope::Compressible,
                                                     [&](ss::LinearWeights& l, const ss::MatrixInfo& info) {
                               add(info.name, tr("%1 → %2").arg(l.in).arg(l.out));
                               const std::string kind = info.name.substr(info.name.rfind('.') + 1);
                               kinds[kind].push_back(table_->rowCount() - 1);
                           });
                       },
                       [](const ss::EmbeddingLayer&) {}, // compressed only when a plan file names it
                       [](const ss::RmsNormLayer&) {},
                       [](const ss::ActivationLayer&) {}, // nothing to compress
                       [](const ss::LayerNormLayer&) {},
                       [](const ss::DropoutLayer&) {},
                       [&](const ss::Conv2dLayer& c) {
                           add(c.w.name, tr("conv %1×%2, %3 → %4 channels").arg(c.shape.kernel_h).arg(c.shape.kernel_w).arg(c.shape.in_channels).arg(c.shape.out_channels));
                       },
                       [&](const ss::ResidualLayer& r) {
                           if (r.has_projection)
                               add(r.projection.w.name, tr("shortcut conv %1×%2, %3 → %4 channels").arg(r.projection.shape.kernel_h).arg(r.projection.shape.kernel_w)
                                                            .arg(r.projection.shape.in_channels).arg(r.projection.shape.out_channels));
                       },
                       [](const ss::BatchNorm2dLayer&) {},
                       [](const ss::SpatialLayer&) {},
                   },
                   layer);
    // Group rows first: one per kind of matrix (q/k/v/o, gate/up/down, ...). Typing in one fills
    // that column of every matrix of the kind; the group row itself is not part of the plan.
    int at = 0;
    for (const auto& [kind, rows] : kinds) {
        if (rows.size() < 2) continue;
        table_->insertRow(at);
        auto* n = new QTableWidgetItem(tr("every %1").arg(QString::fromStdString(kind)));
        QFont bold = n->font();
        bold.setBold(true);
        n->setFont(bold);
        n->setFlags(n->flags() & ~Qt::ItemIsEditable);
        n->setData(Qt::UserRole, QString::fromStdString("." + kind)); // marks a group row: the suffix it fills
        auto* w = new QTableWidgetItem(tr("group: sets the %n %1 matrices below", nullptr, int(rows.size())).arg(QString::fromStdString(kind)));
        w->setFlags(w->flags() & ~Qt::ItemIsEditable);
        table_->setItem(at, Name, n);
        table_->setItem(at, What, w);
        table_->setItem(at, Prune, new QTableWidgetItem);
        table_->setItem(at, Quant, new QTableWidgetItem);
        ++at;
    }
    connect(table_, &QTableWidget::itemChanged, this, [this](QTableWidgetItem* item) {
        const QString suffix = table_->item(item->row(), Name)->data(Qt::UserRole).toString();
        if (suffix.isEmpty() || (item->column() != Prune && item->column() != Quant)) return;
        for (int row = 0; row < table_->rowCount(); ++row)
            if (row != item->row() && table_->item(row, Name)->data(Qt::UserRole).toString().isEmpty() &&
                table_->item(row, Name)->text().endsWith(suffix))
                table_->item(row, item->column())->setText(item->text());
    });
    filter_ = new QLineEdit;
    filter_->setPlaceholderText(tr("Filter rows (e.g. layers.3, experts.5, v_proj)…"));
    filter_->setClearButtonEnabled(true);
    connect(filter_, &QLineEdit::textChanged, this, [this](const QString& text) {
        for (int row = 0; row < table_->rowCount(); ++row)
            table_->setRowHidden(row, !text.isEmpty() && !table_->item(row, Name)->text().contains(text, Qt::CaseInsensitive) &&
                                          !table_->item(row, What)->text().contains(text, Qt::CaseInsensitive));
    });
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->verticalHeader()->setVisible(false);
    auto* help = new QLabel(tr("Pruning: magnitude-layer:S[:block4], nm:N:M, wanda:S (global magnitude and neurons apply to the whole model).\n"
                               "Quantization: int8, int4:g32, int3:g64:asym, fp16, … An expert's row applies to both its matrices;\n"
                               "an MoE layer's row to all its experts. Empty cells keep the global setting."));
    help->setWordWrap(true);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(help);
    layout->addWidget(filter_);
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
        if (!table_->item(row, Name)->data(Qt::UserRole).toString().isEmpty()) continue; // a group row: its members carry it
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
