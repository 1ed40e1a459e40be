// run_list_model.h - the runs of a session as a table (one row per run).
#pragma once

#include "run_record.h"

#include <QAbstractTableModel>

#include <vector>

namespace ssui {

class RunListModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Id, Prune, Quant, TopK, Accuracy, Delta, Agreement, Speed, VsBaseline, LatencyP50, LatencyP95, Throughput, WeightBytes, Sparsity, Samples, Note, ColumnCount };
    enum Role { SortRole = Qt::UserRole + 1 }; // raw numbers for sorting

    explicit RunListModel(QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;              // the Note column is editable
    bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;

    void addRun(ss::RunRecord run); // assigns the next id when run.id == 0
    void replaceRun(int row, ss::RunRecord run); // keeps the row's id
    void setRuns(std::vector<ss::RunRecord> runs);
    const std::vector<ss::RunRecord>& runs() const { return runs_; }
    const ss::RunRecord& run(int row) const { return runs_.at(size_t(row)); }
    // The run the "vs baseline" column compares every other run with (by id); 0 for none, when
    // the dense model (the Δ and Speed columns) is the only baseline.
    void setBaselineRun(int64_t id);
    int64_t baselineRun() const { return baseline_id_; }
    int baselineRow() const; // -1 when none

signals:
    void runsChanged();
    void noteEdited(int row);
    void baselineChanged();

private:
    std::vector<ss::RunRecord> runs_;
    int64_t baseline_id_ = 0;
};

} // namespace ssui
