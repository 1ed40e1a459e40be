// layer_tree.h - the loaded model as a tree: each top-level layer (type, shape, parameters) with,
// for the selected run, its sparsity, precision and the kernels it ran with; an MoE layer opens to
// its router and experts; a decoder block (language models) to its attention matrices, router,
// dense or shared MLP and experts, each matrix with the selected run's values when the run was
// evaluated in this window (runs read from a session file carry per-layer values only).
#pragma once

#include "model/model.h"
#include "eval/run_record.h"

#include <QTreeWidget>

#include <map>

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
    // The item of a matrix inside a decoder block, by its plan name (MatrixInfo::name), or null.
    QTreeWidgetItem* matrixItem(const QString& name) const { auto it = matrix_items_.find(name); return it == matrix_items_.end() ? nullptr : it->second; }

private:
    void addBlockMatrices(const ss::Model& model, int layer, QTreeWidgetItem* block);

    QString run_title_;
    std::map<QString, QTreeWidgetItem*> matrix_items_; // plan name -> item, for decoder blocks
};

} // namespace ssui
