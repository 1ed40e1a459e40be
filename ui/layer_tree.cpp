// layer_tree.cpp
#include "layer_tree.h"

#include "model/overloaded.h"

#include <QHeaderView>
#include <QLocale>

namespace ssui {

namespace {
QString shape_of(const ss::LinearWeights& l) { return QStringLiteral("%1 → %2").arg(l.in).arg(l.out); }
int64_t params_of(const ss::LinearWeights& l) { return l.weight_count() + l.out; } // weights + bias
} // namespace

LayerTree::LayerTree(QWidget* parent) : QTreeWidget(parent) {
    setColumnCount(ColumnCount);
    setHeaderLabels({tr("Layer"), tr("Shape"), tr("Params"), tr("Sparsity"), tr("Bits"), tr("Kernels (b1 / b256)"), tr("Type")});
    headerItem()->setToolTip(Sparsity, tr("Zeros among the layer's weights in the selected run"));
    headerItem()->setToolTip(Precision, tr("Weight format in the selected run (mixed: experts or router differ)"));
    headerItem()->setToolTip(Kernels, tr("The kernels the selected run's matrices ran with at batch 1 and batch 256 (MoE layers: counted)"));
    setRootIsDecorated(true);
    setUniformRowHeights(true);
    setAlternatingRowColors(true);
    header()->setStretchLastSection(true);
}

void LayerTree::setModel(const ss::Model* model) {
    clear();
    if (!model) return;
    const QLocale loc;
    for (const ss::Layer& layer : model->layers) {
        auto* item = new QTreeWidgetItem(this);
        std::visit(ss::Overloaded{
                       [&](const ss::LinearWeights& l) {
                           item->setText(Name, QString::fromStdString(l.name));
                           item->setText(Type, tr("linear"));
                           item->setText(Shape, shape_of(l));
                           item->setText(Params, loc.toString(qlonglong(params_of(l))));
                       },
                       [&](const ss::MoeLayer& moe) {
                           item->setText(Name, QString::fromStdString(moe.name));
                           item->setText(Type, tr("MoE, top-%1").arg(moe.top_k));
                           item->setText(Shape, tr("%1 experts").arg(moe.experts.size()));
                           int64_t params = moe.gate.weight_count();
                           auto* gate = new QTreeWidgetItem(item);
                           gate->setText(Name, tr("router"));
                           gate->setText(Type, tr("linear"));
                           gate->setText(Shape, shape_of(moe.gate));
                           gate->setText(Params, loc.toString(qlonglong(moe.gate.weight_count())));
                           for (const ss::MoeExpert& e : moe.experts) {
                               const int64_t p = params_of(e.fc1) + params_of(e.fc2);
                               params += p;
                               auto* x = new QTreeWidgetItem(item);
                               x->setText(Name, tr("expert %1").arg(e.id));
                               x->setText(Type, tr("2 × linear"));
                               x->setText(Shape, QStringLiteral("%1 → %2 → %3").arg(e.fc1.in).arg(e.fc1.out).arg(e.fc2.out));
                               x->setText(Params, loc.toString(qlonglong(p)));
                           }
                           item->setText(Params, loc.toString(qlonglong(params)));
                       },
                       [&](const ss::ActivationLayer& act) {
                           item->setText(Name, QString::fromLatin1(ss::activation_name(act.kind)));
                           item->setText(Type, tr("activation"));
                       },
                       [&](const ss::LayerNormLayer& ln) {
                           item->setText(Name, QString::fromStdString(ln.name));
                           item->setText(Type, tr("layer norm"));
                           item->setText(Params, loc.toString(qlonglong(ln.weight.size() + ln.bias.size())));
                       },
                       [&](const ss::DropoutLayer&) {
                           item->setText(Name, tr("dropout"));
                           item->setText(Type, tr("dropout"));
                       },
                       [&](const ss::EmbeddingLayer& e) {
                           item->setText(Name, QString::fromStdString(e.table.name));
                           item->setText(Type, tr("embedding"));
                           item->setText(Shape, QStringLiteral("%1 × %2").arg(e.table.out).arg(e.table.in));
                           item->setText(Params, loc.toString(qlonglong(e.table.weight_count())));
                       },
                       [&](const ss::RmsNormLayer& n) {
                           item->setText(Name, QString::fromStdString(n.name));
                           item->setText(Type, tr("RMS norm"));
                           item->setText(Params, loc.toString(qlonglong(n.dim)));
                       },
                       [&](const ss::DecoderBlock& b) {
                           item->setText(Name, QString::fromStdString(b.name));
                           item->setText(Type, b.is_moe ? tr("decoder, MoE top-%1 of %2").arg(b.moe.top_k).arg(b.moe.experts.size()) : tr("decoder"));
                           item->setText(Shape, tr("%1 heads (%2 kv) × %3").arg(b.attn.heads).arg(b.attn.kv_heads).arg(b.attn.head_dim));
                       },
                   },
                   layer);
        for (int c : {int(Params), int(Sparsity)}) item->setTextAlignment(c, Qt::AlignRight | Qt::AlignVCenter);
        item->setToolTip(Name, item->text(Type));
    }
    for (int c = 0; c < ColumnCount; ++c) resizeColumnToContents(c);
}

QTreeWidgetItem* LayerTree::layerItem(const QString& name) const {
    for (int i = 0; i < topLevelItemCount(); ++i)
        if (topLevelItem(i)->text(Name) == name) return topLevelItem(i);
    return nullptr;
}

void LayerTree::setRun(const ss::RunRecord* run) {
    for (int i = 0; i < topLevelItemCount(); ++i)
        for (int c : {int(Sparsity), int(Precision), int(Kernels)}) topLevelItem(i)->setText(c, {});
    for (int c : {int(Sparsity), int(Precision), int(Kernels)})
        headerItem()->setToolTip(c, run ? tr("Of run %1, the selected run").arg(run->id) : tr("Select a run to see its values"));
    if (!run) return;
    for (const ss::LayerCost& c : run->result.layers) {
        QTreeWidgetItem* item = layerItem(QString::fromStdString(c.name));
        if (!item || c.weights == 0) continue;
        item->setText(Sparsity, QStringLiteral("%1 %").arg(100.0 * double(c.zero_weights) / double(c.weights), 0, 'f', 1));
        item->setText(Precision, QString::fromStdString(c.precision));
        item->setText(Kernels, QString::fromStdString(c.kernels));
        const QString tip = tr("%1\nrun %2: %3 zeros, %4, kernels %5 (batch 1 / batch 256), %6 µs per batch-1 forward")
                                .arg(item->text(Type)).arg(run->id).arg(item->text(Sparsity), item->text(Precision), item->text(Kernels))
                                .arg(c.batch1_us, 0, 'f', 1);
        for (int col = 0; col < ColumnCount; ++col) item->setToolTip(col, tip);
    }
    for (int c : {int(Sparsity), int(Precision), int(Kernels)}) resizeColumnToContents(c);
}

} // namespace ssui
