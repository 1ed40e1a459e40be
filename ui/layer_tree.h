// layer_tree.h - the loaded model as a tree: each top-level layer (type, shape, parameters) with,
// for the selected run, its sparsity, precision and the kernels it ran with; an MoE layer opens to
// its router and experts.
#pragma once

#include "model/model.h"
#include "eval/run_record.h"

#include <QTreeWidget>

namespace ssui {

class LayerTree : public QTreeWidget {
    Q_OBJECT
public:
    enum Column { Name, Shape, Params, Sparsity, Precision, Kernels, Type, ColumnCount }; // narrow first: the panel is
    explicit LayerTree(QWidget* parent = nullptr);

    void setModel(const ss::Model* model); // null: empty
    // Fills the per-run columns from the run's per-layer record (matched by layer name); null clears them.
    void setRun(const ss::RunRecord* run);
    QTreeWidgetItem* layerItem(const QString& name) const; // top-level item of a layer, or null

private:
    QString run_title_;
};

} // namespace ssui
