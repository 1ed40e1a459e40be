// layer_tree.cpp
#include "layer_tree.h"

#include "model/conv_net.h"

#include "model/matrices.h"
#include "model/overloaded.h"

#include <QHeaderView>
#include <QTreeWidgetItemIterator>
#include <QLocale>

namespace ssui {

namespace {
QString shape_of(const ss::LinearWeights& l) { return QStringLiteral("%1 → %2").arg(l.in).arg(l.out); }
int64_t params_of(const ss::LinearWeights& l) { return l.weight_count() + l.out; } // weights + bias
} // namespace

LayerTree::LayerTree(QWidget* parent) : QTreeWidget(parent) {
    setColumnCount(ColumnCount);
    setHeaderLabels({tr("Layer"), tr("Shape"), tr("Params"), tr("Sparsity"), tr("Bits"), tr("Kernels"), tr("Type")});
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
    matrix_items_.clear();
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
                       [&](const ss::Conv2dLayer& c) {
                           item->setText(Name, QString::fromStdString(c.w.name));
                           item->setText(Type, c.shape.groups == c.shape.in_channels && c.shape.groups > 1 ? tr("conv %1×%2, depthwise").arg(c.shape.kernel_h).arg(c.shape.kernel_w)
                                               : c.shape.groups > 1 ? tr("conv %1×%2, %3 groups").arg(c.shape.kernel_h).arg(c.shape.kernel_w).arg(c.shape.groups)
                                                                    : tr("conv %1×%2").arg(c.shape.kernel_h).arg(c.shape.kernel_w));
                           item->setText(Shape, c.shape.stride_h > 1 ? tr("%1 → %2 ch, stride %3").arg(c.shape.in_channels).arg(c.shape.out_channels).arg(c.shape.stride_h)
                                                                     : tr("%1 → %2 ch").arg(c.shape.in_channels).arg(c.shape.out_channels));
                           item->setText(Params, loc.toString(qlonglong(params_of(c.w))));
                       },
                       [&](const ss::BatchNorm2dLayer& bn) {
                           item->setText(Name, QString::fromStdString(bn.name));
                           item->setText(Type, tr("batch norm"));
                           item->setText(Params, loc.toString(qlonglong(2 * bn.channels)));
                       },
                       [&](const ss::SpatialLayer& s) {
                           item->setText(Name, QString::fromStdString(ss::layer_kind_name(s)));
                           item->setText(Type, s.op == ss::SpatialOp::Flatten ? tr("flatten") : tr("pooling"));
                           if (s.op == ss::SpatialOp::MaxPool || s.op == ss::SpatialOp::AvgPool)
                               item->setText(Shape, tr("%1×%2, stride %3").arg(s.pool.kernel_h).arg(s.pool.kernel_w).arg(s.pool.stride_h));
                       },
                       [&](const ss::ResidualLayer& r) {
                           // A projection's name, so the run's layer costs (named by it) find the row.
                           item->setText(Name, r.has_projection ? QString::fromStdString(r.projection.w.name) : r.add ? tr("residual add") : tr("residual save"));
                           item->setText(Type, r.add ? (r.has_projection ? tr("add, 1×1 projection") : tr("add")) : tr("shortcut start"));
                           if (r.has_projection) {
                               item->setText(Shape, tr("%1 → %2 ch").arg(r.projection.shape.in_channels).arg(r.projection.shape.out_channels));
                               item->setText(Params, loc.toString(qlonglong(params_of(r.projection.w))));
                           }
                       },
                       [&](const ss::DecoderBlock& b) {
                           item->setText(Name, QString::fromStdString(b.name));
                           item->setText(Type, b.is_moe ? tr("decoder, MoE top-%1 of %2").arg(b.moe.top_k).arg(b.moe.experts.size()) : tr("decoder"));
                           item->setText(Shape, tr("%1 heads (%2 kv) × %3").arg(b.attn.heads).arg(b.attn.kv_heads).arg(b.attn.head_dim));
                       },
                   },
                   layer);
        if (std::holds_alternative<ss::DecoderBlock>(layer)) addBlockMatrices(*model, int(&layer - model->layers.data()), item);
        for (int c : {int(Params), int(Sparsity)}) item->setTextAlignment(c, Qt::AlignRight | Qt::AlignVCenter);
        item->setToolTip(Name, item->text(Type));
    }
    for (int c = 0; c < ColumnCount; ++c) resizeColumnToContents(c);
}

void LayerTree::addBlockMatrices(const ss::Model& model, int layer, QTreeWidgetItem* block) {
    // Attention, the router, the dense or shared MLP, and each expert with its matrices below it.
    const QLocale loc;
    std::map<int, QTreeWidgetItem*> experts;
    QTreeWidgetItem* shared = nullptr;
    int64_t params = 0;
    ss::for_each_layer_matrix(const_cast<ss::Model&>(model), layer, ss::MatrixScope::All, [&](ss::LinearWeights& l, const ss::MatrixInfo& info) {
        QTreeWidgetItem* parent = block;
        if (info.expert >= 0) {
            QTreeWidgetItem*& e = experts[info.expert];
            if (!e) {
                e = new QTreeWidgetItem(block);
                const auto& b = std::get<ss::DecoderBlock>(model.layers[size_t(layer)]);
                e->setText(Name, tr("expert %1").arg(b.is_moe && info.expert < int(b.moe.experts.size()) ? b.moe.experts[size_t(info.expert)].id : info.expert));
                e->setText(Type, tr("expert"));
            }
            parent = e;
        } else if (info.role == ss::MatrixRole::SharedExpert || info.role == ss::MatrixRole::SharedGate) {
            if (!shared) {
                shared = new QTreeWidgetItem(block);
                shared->setText(Name, tr("shared expert"));
                shared->setText(Type, tr("shared expert"));
            }
            parent = shared;
        }
        auto* m = new QTreeWidgetItem(parent);
        const QString full = QString::fromStdString(info.name);
        m->setText(Name, full.section(QLatin1Char('.'), -1));
        m->setData(Name, Qt::UserRole, full); // the plan's name for it (Overrides…)
        m->setToolTip(Name, full);
        m->setText(Type, info.role == ss::MatrixRole::Router ? tr("router") : info.role == ss::MatrixRole::Attention ? tr("attention") : tr("linear"));
        m->setText(Shape, shape_of(l));
        m->setText(Params, loc.toString(qlonglong(l.weight_count())));
        m->setTextAlignment(Params, Qt::AlignRight | Qt::AlignVCenter);
        matrix_items_[full] = m;
        params += l.weight_count();
        if (parent != block) {
            const qlonglong sum = parent->data(Params, Qt::UserRole).toLongLong() + l.weight_count();
            parent->setData(Params, Qt::UserRole, sum);
            parent->setText(Params, loc.toString(sum));
            parent->setTextAlignment(Params, Qt::AlignRight | Qt::AlignVCenter);
        }
    });
    block->setText(Params, loc.toString(qlonglong(params)));
}

QTreeWidgetItem* LayerTree::layerItem(const QString& name) const {
    for (int i = 0; i < topLevelItemCount(); ++i)
        if (topLevelItem(i)->text(Name) == name) return topLevelItem(i);
    return nullptr;
}

namespace {
// "17 sgemv / 17 sgemm" -> "sgemv / sgemm": a count is dropped where one kernel ran every matrix
// (the tooltip keeps the whole text); mixed sides ("9 csr-rows, 8 sgemv") stay as they are.
QString compactKernels(const QString& kernels) {
    QStringList sides = kernels.split(QStringLiteral(" / "));
    for (QString& side : sides) {
        const QStringList words = side.split(QLatin1Char(' '), Qt::SkipEmptyParts);
        bool count = false;
        if (words.size() == 2 && !side.contains(QLatin1Char(','))) words.front().toInt(&count);
        if (count) side = words.back();
    }
    return sides.join(QStringLiteral(" / "));
}
} // namespace

void LayerTree::setRun(const ss::RunRecord* run) {
    for (QTreeWidgetItemIterator it(this); *it; ++it)
        for (int c : {int(Sparsity), int(Precision), int(Kernels)}) (*it)->setText(c, {});
    for (int c : {int(Sparsity), int(Precision), int(Kernels)})
        headerItem()->setToolTip(c, (run ? tr("Of run %1, the selected run").arg(run->id) : tr("Select a run to see its values")) +
                                        (c == Kernels ? tr("\nbatch 1 / batch 256; counts where the matrices of a layer differ") : QString()));
    if (!run) return;
    for (const ss::LayerCost& c : run->result.layers) {
        QTreeWidgetItem* item = layerItem(QString::fromStdString(c.name));
        if (!item || c.weights == 0) continue;
        item->setText(Sparsity, QStringLiteral("%1 %").arg(100.0 * double(c.zero_weights) / double(c.weights), 0, 'f', 1));
        item->setText(Precision, QString::fromStdString(c.precision));
        item->setText(Kernels, compactKernels(QString::fromStdString(c.kernels)));
        const QString tip = tr("%1\nrun %2: %3 zeros, %4, kernels %5 (batch 1 / batch 256), %6 µs per batch-1 forward (mean, timed layer by layer)")
                                .arg(item->text(Type)).arg(run->id).arg(item->text(Sparsity), item->text(Precision), QString::fromStdString(c.kernels))
                                .arg(c.batch1_us, 0, 'f', 1);
        for (int col = 0; col < ColumnCount; ++col) item->setToolTip(col, tip);
    }
    // Per matrix (runs evaluated in this window carry them; a block shows its matrices' totals).
    std::map<QTreeWidgetItem*, std::pair<int64_t, int64_t>> totals; // block -> (zeros, weights)
    std::map<QTreeWidgetItem*, QString> precision;
    for (const ss::MatrixCost& m : run->result.matrices) {
        auto it = matrix_items_.find(QString::fromStdString(m.name));
        if (it == matrix_items_.end() || m.weights == 0) continue;
        QTreeWidgetItem* item = it->second;
        item->setText(Sparsity, QStringLiteral("%1 %").arg(100.0 * double(m.zero_weights) / double(m.weights), 0, 'f', 1));
        item->setText(Precision, QString::fromStdString(m.precision));
        item->setText(Kernels, compactKernels(QString::fromStdString(m.kernels)));
        for (QTreeWidgetItem* up = item->parent(); up; up = up->parent()) {
            totals[up].first += m.zero_weights;
            totals[up].second += m.weights;
            QString& p = precision[up];
            p = p.isEmpty() || p == item->text(Precision) ? item->text(Precision) : tr("mixed");
        }
    }
    for (auto& [item, zw] : totals) {
        if (!item->text(Sparsity).isEmpty() || zw.second == 0) continue; // a top-level layer with its own cost
        item->setText(Sparsity, QStringLiteral("%1 %").arg(100.0 * double(zw.first) / double(zw.second), 0, 'f', 1));
        item->setText(Precision, precision[item]);
    }
    for (int c : {int(Sparsity), int(Precision), int(Kernels)}) resizeColumnToContents(c);
}

} // namespace ssui
