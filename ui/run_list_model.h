// run_list_model.h - the runs of a session as a table (one row per run).
#pragma once

#include "eval/run_record.h"

#include <QAbstractTableModel>
#include <QStringList>

#include <vector>

namespace ssui {

class RunListModel : public QAbstractTableModel {
    Q_OBJECT
public:
    // Perplexity, KlMean, PromptTps and GenTps are language-model columns; Delta and Throughput
    // classifier columns ("—" for runs of the other task; the window hides a column no run has).
    enum Column { Id, Source, Prune, Quant, TopK, Accuracy, Perplexity, Delta, KlMean, Agreement, Speed, VsBaseline, LatencyP50, LatencyP95, Noise, Throughput, PromptTps, GenTps, WeightBytes, Sparsity, Samples, Tags, Note, ColumnCount };
    // Whether `column` means something for runs of `task`.
    static bool appliesTo(int column, ss::EvalTask task);
    enum Role { SortRole = Qt::UserRole + 1 }; // raw numbers for sorting

    explicit RunListModel(QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;              // Tags and Note are editable (own runs)
    bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;

    // Rows are the session's own runs (source 0), then runs of other sessions added to compare
    // (sources 1..; read-only here: not saved, notes not editable).
    void addRun(ss::RunRecord run); // an own run; assigns the next id when run.id == 0
    void replaceRun(int row, ss::RunRecord run); // keeps the row's id
    void setRunId(int row, int64_t id);           // the id the session stored it under
    void setRuns(std::vector<ss::RunRecord> runs, const QString& source_name = {}); // own runs; others dropped
    // Runs of another session, side by side with the own ones; returns their source index.
    int addSource(const QString& name, std::vector<ss::RunRecord> runs);
    const std::vector<ss::RunRecord>& runs() const { return runs_; }
    const ss::RunRecord& run(int row) const { return runs_.at(size_t(row)); }
    int sourceOf(int row) const { return source_.at(size_t(row)); }
    bool isOwn(int row) const { return sourceOf(row) == 0; }
    int sourceCount() const { return int(source_names_.size()); }
    QString sourceName(int source) const { return source_names_.value(source); }
    void setSourceName(int source, const QString& name);
    std::vector<ss::RunRecord> ownRuns() const;
    static QString tagsText(const ss::RunRecord& r); // "a, b"
    // The run the "vs baseline" column compares every other run with; -1 for none, when the
    // dense model (the Δ and Speed columns) is the only baseline.
    void setBaselineRow(int row);

    // Runs the user hid or deleted stay rows here (so undo is a flag, and row numbers hold); the
    // table's proxy and the plots leave out every row not shown: deleted ones always, hidden ones
    // unless "show hidden" is on (then they are drawn grey and in italics).
    static bool shown(const ss::RunRecord& r, bool show_hidden) { return !r.deleted() && (!r.hidden || show_hidden); }
    bool isShown(int row) const { return shown(runs_.at(size_t(row)), show_hidden_); }
    void setShowHidden(bool show);
    bool showHidden() const { return show_hidden_; }
    void setHidden(int row, bool hidden);
    void setDeletedAt(int row, const std::string& deleted_at); // empty: restored
    int hiddenCount() const;  // hidden and not deleted
    int deletedCount() const;
    void eraseRows(std::vector<int> rows); // for good (a purge); the baseline row follows its run
    int baselineRow() const { return baseline_row_; }
    int64_t baselineRun() const { return baseline_row_ < 0 ? 0 : runs_[size_t(baseline_row_)].id; } // its id; 0 for none

signals:
    void runsChanged(); // added, replaced, removed, hidden, deleted or restored
    void noteEdited(int row);
    void tagsEdited(int row);
    void baselineChanged();

private:
    QString baselineLabel() const; // "run 3", or "s2 run 3" for another session's run

    std::vector<ss::RunRecord> runs_;
    std::vector<int> source_;      // (rows) 0 = this session
    QStringList source_names_{QString()};
    int baseline_row_ = -1;
    bool show_hidden_ = false;
};

} // namespace ssui
