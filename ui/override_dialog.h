// override_dialog.h - per-layer and per-expert settings: one row per linear layer, MoE layer and
// expert of the model, with a pruning and a quantization override typed in the flag grammar
// (empty: the panel's global setting applies). What it returns becomes the plan's "layers".
// A language model lists every matrix of each decoder block, under group rows ("every q_proj")
// that fill a column for all matrices of their kind; a filter narrows the rows.
#pragma once

#include "compress/compression_plan.h"
#include "model/model.h"

#include <QDialog>

#include <map>
#include <string>

class QLabel;
class QLineEdit;
class QTableWidget;
class QDialogButtonBox;

namespace ssui {

class OverrideDialog : public QDialog {
    Q_OBJECT
public:
    OverrideDialog(const ss::Model& model, const std::map<std::string, ss::LayerOverride>& current, QWidget* parent = nullptr);

    // The overrides as typed; false (with the row, the column and the rule in *error) if a cell
    // does not parse.
    bool overrides(std::map<std::string, ss::LayerOverride>* out, QString* error) const;
    QTableWidget* table() const { return table_; }
    QLineEdit* filter() const { return filter_; }

private:
    void validate();

    QTableWidget* table_;
    QLabel* status_;
    QLineEdit* filter_ = nullptr;
    QDialogButtonBox* buttons_;
};

} // namespace ssui
