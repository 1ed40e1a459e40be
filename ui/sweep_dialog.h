// sweep_dialog.h - choosing a grid of settings to evaluate one after another: pruning methods x
// sparsities x quantization schemes x top-k, typed as comma-separated lists, with the number of
// runs it makes shown as the user types.
#pragma once

#include "compress/compression_plan.h"

#include <QDialog>

#include <vector>

class QLabel;
class QLineEdit;
class QDialogButtonBox;

namespace ssui {

class SweepDialog : public QDialog {
    Q_OBJECT
public:
    explicit SweepDialog(QWidget* parent = nullptr);

    // The plans of the grid as typed; empty (with the reason in *error) when a list is invalid.
    std::vector<ss::CompressionPlan> plans(QString* error = nullptr) const;
    QLineEdit* methodsEdit() const { return methods_; }
    QLineEdit* sparsitiesEdit() const { return sparsities_; }
    QLineEdit* quantsEdit() const { return quants_; }
    QLineEdit* topKEdit() const { return top_k_; }

private:
    void update();

    QLineEdit* methods_;
    QLineEdit* sparsities_;
    QLineEdit* quants_;
    QLineEdit* top_k_;
    QLabel* summary_;
    QDialogButtonBox* buttons_;
};

} // namespace ssui
