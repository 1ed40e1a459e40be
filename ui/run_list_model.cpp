// run_list_model.cpp
#include "run_list_model.h"

#include "eval/baseline_comparison.h"
#include "eval/machine_load.h"
#include "eval/run_delta.h"

#include <algorithm>
#include <cmath>

#include <QColor>
#include <QFont>
#include <QLocale>

namespace ssui {

RunListModel::RunListModel(QObject* parent) : QAbstractTableModel(parent) {}

int RunListModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(runs_.size()); }
int RunListModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

bool RunListModel::appliesTo(int column, ss::EvalTask task) {
    const bool lm = task == ss::EvalTask::LanguageModeling;
    switch (column) {
    case Perplexity:
    case KlMean:
    case PromptTps:
    case GenTps: return lm;
    case Delta:
    case Throughput: return !lm;
    default: return true;
    }
}

namespace {
bool noisy_latency(const ss::EvalResult& e) { return e.latency_p50_ms > 0 && e.latency_p95_ms > ss::kNoisySpread * e.latency_p50_ms; }
double metric(const ss::EvalResult& e, const char* name) {
    const auto it = e.metrics.find(name);
    return it == e.metrics.end() ? 0.0 : it->second;
}
} // namespace

QVariant RunListModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= int(runs_.size())) return {};
    const ss::RunRecord& r = runs_[size_t(index.row())];
    const ss::EvalResult& e = r.result;
    if (!appliesTo(index.column(), e.task)) return role == Qt::DisplayRole ? QVariant(QStringLiteral("—")) : QVariant();
    const bool compared = e.has_comparison; // against the dense model
    if (role == SortRole) {
        switch (index.column()) {
        case Id: return qlonglong(r.id);
        case Source: return sourceOf(index.row());
        case Prune: return QString::fromStdString(r.plan.prune_label());
        case Quant: return QString::fromStdString(r.plan.quant_label());
        case Delta: return e.has_comparison ? QVariant(e.comparison.accuracy_delta) : QVariant();
        case Agreement: return e.has_comparison ? QVariant(e.comparison.agreement) : QVariant();
        case Speed: return e.has_comparison ? QVariant(e.comparison.throughput_ratio) : QVariant();
        case VsBaseline: {
            const int b = baselineRow();
            if (b < 0) return {};
            if (e.task == ss::EvalTask::LanguageModeling && metric(runs_[size_t(b)].result, "perplexity") > 0)
                return metric(e, "perplexity") / metric(runs_[size_t(b)].result, "perplexity");
            return b == index.row() ? QVariant(0.0) : QVariant(ss::run_delta(r, runs_[size_t(b)]).accuracy_points);
        }
        case TopK: return e.top_k;
        case Accuracy: return e.accuracy;
        case Perplexity: return metric(e, "perplexity");
        case KlMean: return compared ? QVariant(metric(e, "kld_mean")) : QVariant();
        case PromptTps: return metric(e, "prompt_tps");
        case GenTps: return metric(e, "gen_tps");
        case LatencyP50: return e.latency_p50_ms;
        case LatencyP95: return e.latency_p95_ms;
        case Noise: return e.latency_p50_ms > 0 ? QVariant(e.latency_p95_ms / e.latency_p50_ms) : QVariant();
        case Throughput: return e.throughput_sps;
        case WeightBytes: return qlonglong(e.weight_bytes);
        case Sparsity: return e.sparsity;
        case Samples: return e.samples;
        case Tags: return tagsText(r);
        case Note: return QString::fromStdString(r.note);
        }
    }
    if (role == Qt::EditRole && index.column() == Note) return QString::fromStdString(r.note);
    if (role == Qt::EditRole && index.column() == Tags) return tagsText(r);
    if (role == Qt::TextAlignmentRole)
        return index.column() == Prune || index.column() == Quant || index.column() == Note || index.column() == Source || index.column() == Tags ? QVariant(Qt::AlignLeft | Qt::AlignVCenter)
                                                                  : QVariant(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ForegroundRole && index.column() == Speed && e.has_comparison) {
        const ss::SpeedVerdict v = ss::speed_verdict(e.comparison, e.latency_p50_ms, e.latency_p95_ms, e.others_cpus);
        if (v == ss::SpeedVerdict::NotFaster) return QColor(160, 60, 40); // the honest flag: compressed, but not faster here
        if (v == ss::SpeedVerdict::Inconclusive) return QColor(170, 110, 0);
    }
    if (role == Qt::ForegroundRole && index.column() == Noise && (noisy_latency(e) || ss::machine_was_busy(e.others_cpus)))
        return QColor(170, 110, 0);
    if (role == Qt::ForegroundRole && r.hidden) return QColor(140, 140, 140); // shown only while View > Show Hidden Runs is on
    if (role == Qt::FontRole && (index.row() == baseline_row_ || r.hidden)) {
        QFont f;
        f.setBold(index.row() == baseline_row_);
        f.setItalic(r.hidden);
        return f;
    }
    if (role == Qt::ToolTipRole && index.column() == Speed && e.has_comparison &&
        ss::speed_verdict(e.comparison, e.latency_p50_ms, e.latency_p95_ms, e.others_cpus) == ss::SpeedVerdict::Inconclusive)
        return tr("Withheld: only the batch-1 latency beats dense, and it was measured with %1")
            .arg(QString::fromStdString(ss::inconclusive_reason(e.latency_p50_ms, e.latency_p95_ms, e.others_cpus)));
    if (role == Qt::ToolTipRole && index.column() == Noise) {
        QString tip = tr("Batch-1 latency p95 / p50: %1 (over %2 is noisy)").arg(e.latency_p50_ms > 0 ? e.latency_p95_ms / e.latency_p50_ms : 0.0, 0, 'f', 2)
                          .arg(ss::kNoisySpread, 0, 'f', 0);
        if (std::isnan(e.others_cpus)) tip += tr("\nHow busy the machine was is not recorded for this run");
        else
            tip += tr("\nOther processes kept %1 CPUs busy during the run%2").arg(e.others_cpus, 0, 'f', 2)
                       .arg(ss::machine_was_busy(e.others_cpus) ? tr(": a busy machine, timings noisier than usual") : QString());
        return tip;
    }
    if (role == Qt::ToolTipRole && index.column() == VsBaseline && baselineRow() >= 0 && baselineRow() != index.row()) {
        const ss::RunDelta d = ss::run_delta(r, runs_[size_t(baselineRow())]);
        return d.via_dense ? tr("Against run %1. Speed: the quotient of both runs' ratios to the dense model, each timed side by side,\n"
                                "so drift of the machine between the runs cancels.").arg(baselineLabel())
                           : tr("Against run %1. Speed: the two runs' own timings, taken at different times;\n"
                                "differences within 15 % are noise on this machine.").arg(baselineLabel());
    }
    if (role == Qt::ToolTipRole) {
        QString tip = QStringLiteral("%1\n%2\n%3\nplan %4").arg(QString::fromStdString(r.model_path), QString::fromStdString(r.dataset_path),
                                                                QString::fromStdString(r.created_at), QString::fromStdString(r.plan.to_json()));
        if (!e.kernels.empty()) tip += QStringLiteral("\nkernels: ") + QString::fromStdString(e.kernels);
        if (!e.machine.empty()) tip += QStringLiteral("\nmachine: ") + QString::fromStdString(e.machine);
        if (r.recovery.present()) {
            tip += tr("\nrecovered by fine-tuning: %1").arg(QString::fromStdString(r.recovery.method));
            if (!r.recovery.curve.empty() && !std::isnan(r.recovery.curve.front().test_accuracy))
                tip += tr(" (from %1 % at the start)").arg(100.0 * r.recovery.curve.front().test_accuracy, 0, 'f', 2);
        }
        if (r.hidden) tip += tr("\nhidden: shown while View ▸ Show Hidden Runs is on");
        return tip;
    }
    if (role != Qt::DisplayRole) return {};
    const QLocale loc;
    switch (index.column()) {
    case Id: return qlonglong(r.id);
    case Source: return source_names_.value(sourceOf(index.row()));
    case Prune: // a fine-tuned run says so where its plan is read
        return QString::fromStdString(r.plan.prune_label()) + (r.recovery.present() ? tr(", fine-tuned") : QString());
    case Quant: return QString::fromStdString(r.plan.quant_label());
    case Delta:
        if (!e.has_comparison) return QStringLiteral("—");
        return QStringLiteral("%1 [%2, %3]")
            .arg(100.0 * e.comparison.accuracy_delta, 0, 'f', 2)
            .arg(100.0 * e.comparison.delta_ci_low, 0, 'f', 2)
            .arg(100.0 * e.comparison.delta_ci_high, 0, 'f', 2);
    case Agreement: return e.has_comparison ? QStringLiteral("%1 %").arg(100.0 * e.comparison.agreement, 0, 'f', 1) : QStringLiteral("—");
    case Speed:
        if (!e.has_comparison || e.comparison.throughput_ratio <= 0) return QStringLiteral("—");
        switch (ss::speed_verdict(e.comparison, e.latency_p50_ms, e.latency_p95_ms, e.others_cpus)) {
        case ss::SpeedVerdict::Inconclusive: // the latency that would make it faster was noisy
            return QStringLiteral("inconclusive (×%1 / ×%2; %3)") // the Noise column says how busy; the tooltip says all
                .arg(e.comparison.throughput_ratio, 0, 'f', 2)
                .arg(e.comparison.latency_ratio, 0, 'f', 2)
                .arg(ss::machine_was_busy(e.others_cpus) ? tr("busy machine")
                                                         : QString::fromStdString(ss::inconclusive_reason(e.latency_p50_ms, e.latency_p95_ms, e.others_cpus)));
        case ss::SpeedVerdict::NotFaster:
            return QStringLiteral("not faster (×%1 / ×%2)").arg(e.comparison.throughput_ratio, 0, 'f', 2).arg(e.comparison.latency_ratio, 0, 'f', 2);
        default: return QStringLiteral("×%1 / ×%2").arg(e.comparison.throughput_ratio, 0, 'f', 2).arg(e.comparison.latency_ratio, 0, 'f', 2);
        }
    case VsBaseline: {
        const int b = baselineRow();
        if (b < 0) return QStringLiteral("—");
        if (b == index.row()) return tr("baseline");
        const ss::RunRecord& base = runs_[size_t(b)];
        const ss::RunDelta d = ss::run_delta(r, base);
        QString s = QStringLiteral("%1%2").arg(d.accuracy_points >= 0 ? QStringLiteral("+") : QString()).arg(d.accuracy_points, 0, 'f', 2);
        if (e.task == ss::EvalTask::LanguageModeling && base.result.task == e.task && metric(base.result, "perplexity") > 0)
            s = tr("perplexity ×%1").arg(metric(e, "perplexity") / metric(base.result, "perplexity"), 0, 'f', 4); // the language-model measure
        else if (e.task != base.result.task)
            return tr("other task");
        if (d.throughput_ratio > 0 && d.latency_ratio > 0)
            s += QStringLiteral(", ×%1 / ×%2").arg(d.throughput_ratio, 0, 'f', 2).arg(d.latency_ratio, 0, 'f', 2);
        return s;
    }
    case TopK: return e.top_k ? QVariant(e.top_k) : QVariant(QStringLiteral("—"));
    case Accuracy: return QStringLiteral("%1 %").arg(100.0 * e.accuracy, 0, 'f', 2);
    case Perplexity:
        if (!compared) return QStringLiteral("%1").arg(metric(e, "perplexity"), 0, 'f', 3);
        return QStringLiteral("%1 (×%2)").arg(metric(e, "perplexity"), 0, 'f', 3).arg(metric(e, "ppl_ratio"), 0, 'f', 4);
    case KlMean: return compared ? QStringLiteral("%1").arg(metric(e, "kld_mean"), 0, 'f', 5) : QStringLiteral("—");
    case PromptTps: return loc.toString(qlonglong(metric(e, "prompt_tps") + 0.5));
    case GenTps: return QStringLiteral("%1").arg(metric(e, "gen_tps"), 0, 'f', 1);
    case LatencyP50: return QStringLiteral("%1").arg(e.latency_p50_ms, 0, 'f', 3);
    case LatencyP95: return QStringLiteral("%1").arg(e.latency_p95_ms, 0, 'f', 3);
    case Noise: {
        if (!(e.latency_p50_ms > 0)) return QStringLiteral("—");
        QString s = QStringLiteral("×%1").arg(e.latency_p95_ms / e.latency_p50_ms, 0, 'f', 1);
        if (ss::machine_was_busy(e.others_cpus)) s += tr(" · busy (%1 CPUs)").arg(e.others_cpus, 0, 'f', 1);
        return s;
    }
    case Throughput: return loc.toString(qlonglong(e.throughput_sps + 0.5));
    case WeightBytes: return loc.formattedDataSize(e.weight_bytes, 2, QLocale::DataSizeSIFormat);
    case Sparsity: return QStringLiteral("%1 %").arg(100.0 * e.sparsity, 0, 'f', 1);
    case Samples: return e.samples;
    case Tags: return tagsText(r);
    case Note: return QString::fromStdString(r.note);
    }
    return {};
}

Qt::ItemFlags RunListModel::flags(const QModelIndex& index) const {
    Qt::ItemFlags f = QAbstractTableModel::flags(index);
    if (index.isValid() && (index.column() == Note || index.column() == Tags) && isOwn(index.row())) f |= Qt::ItemIsEditable;
    return f;
}

bool RunListModel::setData(const QModelIndex& index, const QVariant& value, int role) {
    if (!index.isValid() || role != Qt::EditRole || index.row() >= int(runs_.size()) || !isOwn(index.row())) return false;
    ss::RunRecord& r = runs_[size_t(index.row())];
    if (index.column() == Note) {
        r.note = value.toString().toStdString();
    } else if (index.column() == Tags) { // "a, b c" -> {"a", "b c"}: commas separate, spaces are trimmed
        r.tags.clear();
        for (const QString& t : value.toString().split(QLatin1Char(','), Qt::SkipEmptyParts))
            if (!t.trimmed().isEmpty()) r.tags.push_back(t.trimmed().toStdString());
    } else {
        return false;
    }
    emit dataChanged(index, index, {Qt::DisplayRole, Qt::EditRole});
    if (index.column() == Note) emit noteEdited(index.row());
    else emit tagsEdited(index.row());
    return true;
}

QString RunListModel::tagsText(const ss::RunRecord& r) {
    QStringList t;
    for (const auto& s : r.tags) t << QString::fromStdString(s);
    return t.join(QStringLiteral(", "));
}

QVariant RunListModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation == Qt::Horizontal && role == Qt::ToolTipRole) {
        if (section == Delta) return tr("Top-1 accuracy minus the dense model's, in points, with a 95 % interval for the paired difference");
        if (section == Agreement)
            return tr("Share of samples whose top-1 class equals the dense model's\n(language models: positions whose top next token equals the dense model's)");
        if (section == Accuracy) return tr("Top-1 accuracy (language models: next-token top-1 on the scored positions)");
        if (section == Perplexity)
            return tr("Perplexity on the scored positions (as llama.cpp's perplexity), with its ratio to the dense model's");
        if (section == KlMean) return tr("Mean KL divergence of the next-token distribution from the dense model's, nats per position");
        if (section == PromptTps) return tr("Prompt tokens per second: whole chunks through the model (median over chunks)");
        if (section == GenTps) return tr("Generation tokens per second: one token at a time with the KV cache, batch 1 (from the median step)");
        if (section == LatencyP50) return tr("Batch-1 latency, median (language models: ms per generated token)");
        if (section == LatencyP95) return tr("Batch-1 latency, 95th percentile (language models: ms per generated token)");
        if (section == Noise)
            return tr("How far to trust the timings: p95 / p50 of the batch-1 latency (over %1: noisy),\n"
                      "and 'busy' when other processes kept %2 CPUs or more busy during the run")
                .arg(ss::kNoisySpread, 0, 'f', 0)
                .arg(ss::kBusyOthersCpus, 0, 'f', 1);
        if (section == VsBaseline)
            return tr("Against the run chosen as baseline (Edit > Use Run as Baseline): top-1 change in points\n"
                      "(language models: perplexity ratio), then throughput and batch-1 latency ratios (> 1: faster than the baseline run)");
        if (section == Source) return tr("The session a run belongs to; runs of other sessions are shown to compare, not saved here");
        if (section == Tags) return tr("Your tags for the run, separated by commas (double-click to edit); saved with the session");
        if (section == Note) return tr("Your note on the run (double-click to edit); saved with the session");
        if (section == Speed)
            return tr("Throughput and batch-1 latency against the dense model, measured in the same run;\n"
                      "'not faster' when neither beats it by more than the 15 % noise margin;\n"
                      "'inconclusive' when only the latency beats it and that latency was noisy (p95 over 3x p50: a busy machine)");
    }
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Id: return tr("Run");
    case Source: return tr("Session");
    case Prune: return tr("Pruning");
    case Quant: return tr("Quant");
    case TopK: return tr("Top-k");
    case Accuracy: return tr("Accuracy");
    case Perplexity: return tr("Perplexity");
    case KlMean: return tr("KL mean");
    case PromptTps: return tr("Prompt tok/s");
    case GenTps: return tr("Gen tok/s");
    case Delta: return tr("Δ points [95 % CI]");
    case Agreement: return tr("Agrees");
    case Speed: return tr("Speed ×");
    case VsBaseline: return baselineRow() >= 0 ? tr("vs %1").arg(baselineLabel()) : tr("vs baseline");
    case LatencyP50: return tr("p50 ms");
    case LatencyP95: return tr("p95 ms");
    case Noise: return tr("Noise");
    case Throughput: return tr("Samples/s");
    case WeightBytes: return tr("Weights");
    case Sparsity: return tr("Sparsity");
    case Samples: return tr("Samples");
    case Tags: return tr("Tags");
    case Note: return tr("Note");
    }
    return {};
}

void RunListModel::addRun(ss::RunRecord run) {
    if (run.id == 0) {
        int64_t last = 0;
        for (size_t i = 0; i < runs_.size(); ++i)
            if (source_[i] == 0) last = std::max(last, runs_[i].id);
        run.id = last + 1;
    }
    beginInsertRows({}, int(runs_.size()), int(runs_.size()));
    runs_.push_back(std::move(run));
    source_.push_back(0);
    endInsertRows();
    emit runsChanged();
}

void RunListModel::replaceRun(int row, ss::RunRecord run) {
    if (row < 0 || row >= int(runs_.size())) return addRun(std::move(run));
    run.id = runs_[size_t(row)].id;
    runs_[size_t(row)] = std::move(run);
    // Every row's "vs baseline" cell depends on the baseline run.
    if (row == baseline_row_) emit dataChanged(index(0, 0), index(rowCount() - 1, columnCount() - 1));
    else emit dataChanged(index(row, 0), index(row, columnCount() - 1));
    emit runsChanged();
}

void RunListModel::setRunId(int row, int64_t id) {
    if (row < 0 || row >= int(runs_.size()) || runs_[size_t(row)].id == id) return;
    runs_[size_t(row)].id = id;
    emit dataChanged(index(row, Id), index(row, Id));
}

void RunListModel::setRuns(std::vector<ss::RunRecord> runs, const QString& source_name) {
    beginResetModel();
    runs_ = std::move(runs);
    source_.assign(runs_.size(), 0);
    source_names_ = QStringList{source_name};
    baseline_row_ = -1;
    endResetModel();
    emit runsChanged();
    emit baselineChanged();
}

int RunListModel::addSource(const QString& name, std::vector<ss::RunRecord> runs) {
    const int source = int(source_names_.size());
    source_names_ << name;
    emit headerDataChanged(Qt::Horizontal, Source, Source);
    if (!runs.empty()) {
        beginInsertRows({}, int(runs_.size()), int(runs_.size() + runs.size() - 1));
        for (auto& r : runs) {
            runs_.push_back(std::move(r));
            source_.push_back(source);
        }
        endInsertRows();
    }
    emit runsChanged();
    return source;
}

void RunListModel::setSourceName(int source, const QString& name) {
    if (source < 0 || source >= source_names_.size()) return;
    source_names_[source] = name;
    if (!runs_.empty()) emit dataChanged(index(0, Source), index(rowCount() - 1, Source));
}

std::vector<ss::RunRecord> RunListModel::ownRuns() const {
    std::vector<ss::RunRecord> own;
    for (size_t i = 0; i < runs_.size(); ++i)
        if (source_[i] == 0) own.push_back(runs_[i]);
    return own;
}

void RunListModel::setShowHidden(bool show) {
    if (show == show_hidden_) return;
    show_hidden_ = show;
    emit runsChanged();
}

void RunListModel::setHidden(int row, bool hidden) {
    if (row < 0 || row >= int(runs_.size()) || runs_[size_t(row)].hidden == hidden) return;
    runs_[size_t(row)].hidden = hidden;
    emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
    emit runsChanged();
}

void RunListModel::setDeletedAt(int row, const std::string& deleted_at) {
    if (row < 0 || row >= int(runs_.size()) || runs_[size_t(row)].deleted_at == deleted_at) return;
    runs_[size_t(row)].deleted_at = deleted_at;
    emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
    emit runsChanged();
}

int RunListModel::hiddenCount() const {
    return int(std::count_if(runs_.begin(), runs_.end(), [](const ss::RunRecord& r) { return r.hidden && !r.deleted(); }));
}

int RunListModel::deletedCount() const {
    return int(std::count_if(runs_.begin(), runs_.end(), [](const ss::RunRecord& r) { return r.deleted(); }));
}

void RunListModel::eraseRows(std::vector<int> rows) {
    std::sort(rows.begin(), rows.end(), std::greater<>());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    for (int row : rows) {
        if (row < 0 || row >= int(runs_.size())) continue;
        beginRemoveRows({}, row, row);
        runs_.erase(runs_.begin() + row);
        source_.erase(source_.begin() + row);
        if (baseline_row_ == row) baseline_row_ = -1;
        else if (baseline_row_ > row) --baseline_row_;
        endRemoveRows();
    }
    emit runsChanged();
    emit baselineChanged();
}

QString RunListModel::baselineLabel() const {
    if (baseline_row_ < 0) return {};
    const int src = sourceOf(baseline_row_);
    return src == 0 ? tr("run %1").arg(runs_[size_t(baseline_row_)].id)
                    : tr("%1 run %2").arg(source_names_.value(src)).arg(runs_[size_t(baseline_row_)].id);
}

void RunListModel::setBaselineRow(int row) {
    baseline_row_ = row >= 0 && row < int(runs_.size()) ? row : -1;
    if (!runs_.empty()) emit dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
    emit headerDataChanged(Qt::Horizontal, VsBaseline, VsBaseline);
    emit baselineChanged();
}

} // namespace ssui
