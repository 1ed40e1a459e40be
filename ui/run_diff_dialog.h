// run_diff_dialog.h - two runs side by side, field by field (core/eval/run_diff.h): setup, plan, kernel
// plan, per-layer sparsity / precision / time, every metric with its delta, per-class accuracy;
// warnings first when the two are not like for like.
#pragma once

#include "eval/run_diff.h"

#include <QDialog>

class QCheckBox;
class QLabel;
class QTableWidget;

namespace ssui {

class RunDiffDialog : public QDialog {
    Q_OBJECT
public:
    RunDiffDialog(const ss::RunDiff& diff, const QString& name_a, const QString& name_b, QWidget* parent = nullptr);
    QTableWidget* table() const { return table_; }
    QCheckBox* onlyDifferences() const { return only_diff_; }
    QLabel* warnings() const { return warnings_; }
    int visibleRows() const;

private:
    void filter();

    ss::RunDiff diff_;
    QTableWidget* table_;
    QCheckBox* only_diff_;
    QLabel* warnings_;
};

} // namespace ssui
