// session_runs.cpp - SessionDb's runs: one run written across the session's tables, and every run
// read back with its per-class, per-expert, per-layer and routing rows (session_db.h).
#include "session/session_db.h"

#include "eval/baseline_comparison.h"
#include "eval/eval_task.h"
#include "session/sqlite_util.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <tuple>

namespace ss {

using namespace sqlite;

namespace {

std::string join_tags(const std::vector<std::string>& tags) {
    std::string s;
    for (const auto& t : tags) s += (s.empty() ? "" : ",") + t;
    return s;
}

std::vector<std::string> split_tags(const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start < s.size()) {
        size_t end = s.find(',', start);
        if (end == std::string::npos) end = s.size();
        if (end > start) out.push_back(s.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

constexpr int64_t kMaxLatencyBlob = int64_t(4) << 20; // 1 M samples of 4 bytes
constexpr int64_t kMaxDatasetCard = int64_t(1) << 20;   // bytes of a dataset card's JSON

// The runs columns, in the order runs() reads them and write_run binds them (?1..?46).
constexpr const char* kRunColumns =
    "id, created_at, model_name, model_path, dataset_path, prune_method, sparsity_target, quant, top_k_override, top_k, "
    "threads, samples, accuracy, latency_p50_ms, latency_p95_ms, throughput_sps, weight_bytes, sparsity, input_scale, "
    "input_mean, input_std, dataset_sha256, plan_json, flops_per_sample, baseline_accuracy, agreement, mean_kl, delta_ci_low, "
    "delta_ci_high, gained, lost, throughput_ratio, latency_ratio, kernels, machine, note, model_id, dataset_id, app_version, "
    "tags, grid_key, latency_samples, task, hidden, deleted_at, others_cpus";

// The id of the row of `table` (e.g. "models (name, path, sha256)") holding `values`, inserted
// when missing.
int64_t registered_id(sqlite3* db, const std::string& path, const std::string& table, const std::string& where,
                      const std::vector<std::string>& values) {
    std::string params;
    for (size_t i = 1; i <= values.size(); ++i) params += (i > 1 ? ",?" : "?") + std::to_string(i);
    Stmt add = prepare(db, path, "INSERT OR IGNORE INTO " + table + " VALUES (" + params + ")");
    for (size_t i = 0; i < values.size(); ++i) bind_text(add.get(), int(i + 1), values[i]);
    step_done(db, path, add.get());
    Stmt find = prepare(db, path, "SELECT id FROM " + table.substr(0, table.find(' ')) + " WHERE " + where);
    for (size_t i = 0; i < values.size(); ++i) bind_text(find.get(), int(i + 1), values[i]);
    if (sqlite3_step(find.get()) != SQLITE_ROW) fail(path, db, SQLITE_ERROR, "cannot register " + table.substr(0, table.find(' ')));
    return sqlite3_column_int64(find.get(), 0);
}

// ECE and the rest from stored reliability bins (the samples are not kept).
void summarize_calibration_bins(CalibrationResult& cal) {
    int64_t n = 0;
    double conf = 0.0, right = 0.0;
    for (const ReliabilityBin& b : cal.bins) n += b.count, conf += b.count * b.mean_confidence, right += b.count * b.accuracy;
    if (n == 0) return;
    for (const ReliabilityBin& b : cal.bins) {
        const double gap = std::fabs(b.accuracy - b.mean_confidence);
        cal.ece += b.count ? gap * double(b.count) / double(n) : 0.0;
        if (b.count) cal.mce = std::max(cal.mce, gap);
    }
    cal.mean_confidence = conf / double(n);
    cal.accuracy = right / double(n);
}

// The robustness result from its stored cells: corruptions and severities in the order measured.
void restore_robustness(RunRecord& r, const std::vector<std::tuple<std::string, int, double, double>>& rows, int samples) {
    RobustnessOptions o;
    o.corruptions.clear();
    o.severities.clear();
    std::vector<double> acc, dense;
    bool all_dense = true;
    for (const auto& [name, severity, a, d] : rows) {
        Corruption c;
        if (!parse_corruption(name, &c)) return; // a corruption this version does not know: left out, not guessed
        if (std::find(o.corruptions.begin(), o.corruptions.end(), c) == o.corruptions.end()) o.corruptions.push_back(c);
        if (o.corruptions.size() == 1) o.severities.push_back(severity);
        acc.push_back(a);
        dense.push_back(d);
        all_dense = all_dense && !std::isnan(d);
    }
    if (acc.size() != o.corruptions.size() * o.severities.size()) return; // not a full grid
    try {
        r.result.robustness = robustness_from_accuracies(o, samples, acc, all_dense ? &dense : nullptr);
        r.result.has_robustness = true;
    } catch (const Error&) {
    }
}

} // namespace

void SessionDb::set_tags(int64_t id, const std::vector<std::string>& tags) {
    if (read_only_) throw Error(path_ + ": opened read-only");
    Stmt s = prepare(db_, path_, "UPDATE runs SET tags = ?2 WHERE id = ?1");
    sqlite3_bind_int64(s.get(), 1, id);
    bind_text(s.get(), 2, join_tags(tags));
    step_done(db_, path_, s.get());
}

void SessionDb::write_run(const RunRecord& r, int64_t id) {
    sqlite3* db = db_;
    const std::string& path = path_;
    // The model and dataset this run used, registered once per (path, hash).
    const int64_t mid = registered_id(db, path, "models (name, path, sha256)", "name = ?1 AND path = ?2 AND sha256 = ?3",
                                      {r.model_name, r.model_path, r.model_sha256});
    const int64_t did = registered_id(db, path, "datasets (path, sha256)", "path = ?1 AND sha256 = ?2", {r.dataset_path, r.dataset_sha256});
    if (!r.dataset_card.empty()) { // the newest card of the dataset: provenance entered later, leakage checked later
        Stmt card = prepare(db, path, "UPDATE datasets SET card = ?2 WHERE id = ?1");
        sqlite3_bind_int64(card.get(), 1, did);
        bind_text(card.get(), 2, r.dataset_card);
        step_done(db, path, card.get());
    }

    std::string values;
    for (int i = 1; i <= 46; ++i) values += (i > 1 ? ",?" : "?") + std::to_string(i);
    Stmt run = prepare(db, path, std::string("INSERT INTO runs (") + kRunColumns + ") VALUES (" + values + ")");
    sqlite3_stmt* s = run.get();
    const EvalResult& e = r.result;
    sqlite3_bind_int64(s, 1, id);
    bind_text(s, 2, r.created_at);
    bind_text(s, 3, r.model_name);
    bind_text(s, 4, r.model_path);
    bind_text(s, 5, r.dataset_path);
    const std::string prune = r.plan.prune.label();
    bind_text(s, 6, prune.substr(0, prune.find(':')));
    sqlite3_bind_double(s, 7, r.plan.prune.sparsity);
    bind_text(s, 8, r.plan.quant.label());
    sqlite3_bind_int(s, 9, r.plan.top_k);
    sqlite3_bind_int(s, 10, e.top_k);
    sqlite3_bind_int(s, 11, e.threads);
    sqlite3_bind_int(s, 12, e.samples);
    sqlite3_bind_double(s, 13, e.accuracy);
    sqlite3_bind_double(s, 14, e.latency_p50_ms);
    sqlite3_bind_double(s, 15, e.latency_p95_ms);
    sqlite3_bind_double(s, 16, e.throughput_sps);
    sqlite3_bind_int64(s, 17, e.weight_bytes);
    sqlite3_bind_double(s, 18, e.sparsity);
    bind_real_or_null(s, 19, r.input.scale);
    bind_real_or_null(s, 20, r.input.mean);
    bind_real_or_null(s, 21, r.input.std);
    bind_text(s, 22, r.dataset_sha256);
    bind_text(s, 23, r.plan.to_json());
    sqlite3_bind_double(s, 24, e.flops_per_sample);
    if (e.has_comparison) {
        const Comparison& c = e.comparison;
        sqlite3_bind_double(s, 25, c.baseline_accuracy);
        sqlite3_bind_double(s, 26, c.agreement);
        sqlite3_bind_double(s, 27, c.mean_kl);
        sqlite3_bind_double(s, 28, c.delta_ci_low);
        sqlite3_bind_double(s, 29, c.delta_ci_high);
        sqlite3_bind_int(s, 30, c.gained);
        sqlite3_bind_int(s, 31, c.lost);
        sqlite3_bind_double(s, 32, c.throughput_ratio);
        sqlite3_bind_double(s, 33, c.latency_ratio);
    } // else NULL: no comparison
    bind_text(s, 34, e.kernels);
    bind_text(s, 35, e.machine);
    bind_text(s, 36, r.note);
    sqlite3_bind_int64(s, 37, mid);
    sqlite3_bind_int64(s, 38, did);
    bind_text(s, 39, r.app_version);
    bind_text(s, 40, join_tags(r.tags));
    if (!r.grid_key.empty()) bind_text(s, 41, r.grid_key);
    if (!e.latency_samples_ms.empty()) { // float32, little-endian (this machine's order; x86 and ARM Linux are little-endian)
        static_assert(sizeof(float) == 4);
        sqlite3_bind_blob(s, 42, e.latency_samples_ms.data(), int(e.latency_samples_ms.size() * sizeof(float)), SQLITE_TRANSIENT);
    }
    bind_text(s, 43, eval_task_name(e.task));
    sqlite3_bind_int(s, 44, r.hidden ? 1 : 0);
    if (r.deleted()) bind_text(s, 45, r.deleted_at);
    bind_real_or_null(s, 46, e.others_cpus);
    step_done(db, path, s);

    Stmt met = prepare(db, path, "INSERT INTO run_metric (run_id, name, value) VALUES (?1,?2,?3)");
    for (const auto& [name, value] : e.metrics) {
        sqlite3_bind_int64(met.get(), 1, id);
        bind_text(met.get(), 2, name);
        bind_real_or_null(met.get(), 3, value);
        step_done(db, path, met.get());
    }
    Stmt cls = prepare(db, path,
                       "INSERT INTO run_class_accuracy (run_id, class_index, samples, accuracy, delta, lost, gained, p_mcnemar, p_holm) "
                       "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)");
    const Comparison& cmp = e.comparison;
    for (size_t c = 0; c < e.per_class_accuracy.size(); ++c) {
        sqlite3_bind_int64(cls.get(), 1, id);
        sqlite3_bind_int(cls.get(), 2, int(c));
        sqlite3_bind_int(cls.get(), 3, c < e.per_class_count.size() ? e.per_class_count[c] : 0);
        bind_real_or_null(cls.get(), 4, e.per_class_accuracy[c]);
        bind_real_or_null(cls.get(), 5, e.has_comparison && c < cmp.per_class_delta.size() ? cmp.per_class_delta[c] : std::nan(""));
        if (e.has_comparison && c < cmp.class_lost.size() && c < cmp.class_gained.size()) { // else NULL: not measured
            sqlite3_bind_int(cls.get(), 6, cmp.class_lost[c]);
            sqlite3_bind_int(cls.get(), 7, cmp.class_gained[c]);
            bind_real_or_null(cls.get(), 8, c < cmp.class_p.size() ? cmp.class_p[c] : std::nan(""));
            bind_real_or_null(cls.get(), 9, c < cmp.class_p_holm.size() ? cmp.class_p_holm[c] : std::nan(""));
        }
        step_done(db, path, cls.get());
    }
    if (e.has_comparison) {
        Stmt fl = prepare(db, path, "INSERT INTO run_flipped (run_id, sample, label, dense_pred, pred, dense_p_true, p_true) VALUES (?1,?2,?3,?4,?5,?6,?7)");
        for (const FlippedSample& f : cmp.flipped) { // in rank order: rowid keeps it
            sqlite3_bind_int64(fl.get(), 1, id);
            sqlite3_bind_int(fl.get(), 2, f.sample);
            sqlite3_bind_int(fl.get(), 3, f.label);
            sqlite3_bind_int(fl.get(), 4, f.dense_pred);
            sqlite3_bind_int(fl.get(), 5, f.pred);
            sqlite3_bind_double(fl.get(), 6, f.dense_p_true);
            sqlite3_bind_double(fl.get(), 7, f.p_true);
            step_done(db, path, fl.get());
        }
        Stmt rel = prepare(db, path, "INSERT INTO run_reliability (run_id, model, bin, bins, count, mean_confidence, accuracy) VALUES (?1,?2,?3,?4,?5,?6,?7)");
        for (const auto& [which, cal] : {std::pair{"compressed", &cmp.calibration}, std::pair{"dense", &cmp.dense_calibration}})
            for (size_t b = 0; b < cal->bins.size(); ++b) {
                sqlite3_bind_int64(rel.get(), 1, id);
                bind_text(rel.get(), 2, which);
                sqlite3_bind_int(rel.get(), 3, int(b));
                sqlite3_bind_int(rel.get(), 4, int(cal->bins.size()));
                sqlite3_bind_int(rel.get(), 5, cal->bins[b].count);
                sqlite3_bind_double(rel.get(), 6, cal->bins[b].mean_confidence);
                sqlite3_bind_double(rel.get(), 7, cal->bins[b].accuracy);
                step_done(db, path, rel.get());
            }
    }
    if (e.has_ood) {
        Stmt oo = prepare(db, path, "INSERT INTO run_ood (run_id, model, score, set_name, in_count, out_count, auroc, aupr_in, aupr_out, fpr95, curves) "
                                    "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)");
        const OodEvaluation& o = e.ood;
        const std::tuple<const char*, const char*, const OodResult*> rows[] = {
            {"compressed", "msp", &o.msp}, {"compressed", "energy", &o.energy}, {"dense", "msp", &o.dense_msp}, {"dense", "energy", &o.dense_energy}};
        for (const auto& [model, score, res] : rows) {
            if (std::string(model) == "dense" && !o.has_dense) continue;
            sqlite3_bind_int64(oo.get(), 1, id);
            bind_text(oo.get(), 2, model);
            bind_text(oo.get(), 3, score);
            bind_text(oo.get(), 4, o.set);
            sqlite3_bind_int(oo.get(), 5, res->in_count);
            sqlite3_bind_int(oo.get(), 6, res->out_count);
            sqlite3_bind_double(oo.get(), 7, res->auroc);
            sqlite3_bind_double(oo.get(), 8, res->aupr_in);
            sqlite3_bind_double(oo.get(), 9, res->aupr_out);
            sqlite3_bind_double(oo.get(), 10, res->fpr95);
            const nlohmann::json curves = {{"roc_fpr", res->roc_fpr}, {"roc_tpr", res->roc_tpr}, {"hist_lo", res->hist_lo},
                                           {"hist_hi", res->hist_hi}, {"in_hist", res->in_hist}, {"out_hist", res->out_hist}};
            bind_text(oo.get(), 11, curves.dump());
            step_done(db, path, oo.get());
        }
    }
    if (!e.slices.empty()) {
        Stmt sl = prepare(db, path, "INSERT INTO run_slice (run_id, position, name, count, lost, gained, p_mcnemar, p_holm) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)");
        for (size_t i = 0; i < e.slices.size(); ++i) {
            const SliceResult& c = e.slices[i];
            sqlite3_bind_int64(sl.get(), 1, id);
            sqlite3_bind_int(sl.get(), 2, int(i));
            bind_text(sl.get(), 3, c.name);
            sqlite3_bind_int(sl.get(), 4, c.count);
            sqlite3_bind_int(sl.get(), 5, c.lost);
            sqlite3_bind_int(sl.get(), 6, c.gained);
            bind_real_or_null(sl.get(), 7, c.p);
            bind_real_or_null(sl.get(), 8, c.p_holm);
            step_done(db, path, sl.get());
        }
    }
    if (r.recovery.present()) {
        Stmt rec = prepare(db, path, "INSERT INTO run_recovery (run_id, method) VALUES (?1,?2)");
        sqlite3_bind_int64(rec.get(), 1, id);
        bind_text(rec.get(), 2, r.recovery.method);
        step_done(db, path, rec.get());
        Stmt ep = prepare(db, path, "INSERT INTO run_recovery_epoch (run_id, epoch, loss, train_accuracy, test_accuracy, sparsity, seconds) "
                                    "VALUES (?1,?2,?3,?4,?5,?6,?7)");
        for (const RecoveryEpoch& p : r.recovery.curve) {
            sqlite3_bind_int64(ep.get(), 1, id);
            sqlite3_bind_int(ep.get(), 2, p.epoch);
            bind_real_or_null(ep.get(), 3, p.loss);
            bind_real_or_null(ep.get(), 4, p.train_accuracy);
            bind_real_or_null(ep.get(), 5, p.test_accuracy);
            sqlite3_bind_double(ep.get(), 6, p.sparsity);
            sqlite3_bind_double(ep.get(), 7, p.seconds);
            step_done(db, path, ep.get());
        }
    }
    if (e.has_robustness) {
        Stmt co = prepare(db, path, "INSERT INTO run_corruption (run_id, position, corruption, severity, accuracy, dense_accuracy, samples) VALUES (?1,?2,?3,?4,?5,?6,?7)");
        for (size_t i = 0; i < e.robustness.cells.size(); ++i) {
            const CorruptionCell& c = e.robustness.cells[i];
            sqlite3_bind_int64(co.get(), 1, id);
            sqlite3_bind_int(co.get(), 2, int(i));
            bind_text(co.get(), 3, corruption_name(c.corruption));
            sqlite3_bind_int(co.get(), 4, c.severity);
            sqlite3_bind_double(co.get(), 5, c.accuracy);
            bind_real_or_null(co.get(), 6, c.dense_accuracy);
            sqlite3_bind_int(co.get(), 7, e.robustness.samples);
            step_done(db, path, co.get());
        }
    }
    Stmt exp = prepare(db, path, "INSERT INTO run_expert_share (run_id, layer_index, layer_name, expert, share) VALUES (?1,?2,?3,?4,?5)");
    for (size_t l = 0; l < e.expert_share.size(); ++l)
        for (size_t x = 0; x < e.expert_share[l].size(); ++x) {
            sqlite3_bind_int64(exp.get(), 1, id);
            sqlite3_bind_int(exp.get(), 2, int(l));
            bind_text(exp.get(), 3, l < e.moe_layers.size() ? e.moe_layers[l] : std::string());
            sqlite3_bind_int(exp.get(), 4, int(x));
            sqlite3_bind_double(exp.get(), 5, e.expert_share[l][x]);
            step_done(db, path, exp.get());
        }
    Stmt lay = prepare(db, path,
                       "INSERT INTO run_layer (run_id, layer_index, name, kind, batch1_us, resident_bytes, weights, zero_weights, precision, "
                       "kernels) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)");
    for (size_t l = 0; l < e.layers.size(); ++l) {
        const LayerCost& c = e.layers[l];
        sqlite3_bind_int64(lay.get(), 1, id);
        sqlite3_bind_int(lay.get(), 2, int(l));
        bind_text(lay.get(), 3, c.name);
        bind_text(lay.get(), 4, c.kind);
        sqlite3_bind_double(lay.get(), 5, c.batch1_us);
        sqlite3_bind_int64(lay.get(), 6, c.resident_bytes);
        sqlite3_bind_int64(lay.get(), 7, c.weights);
        sqlite3_bind_int64(lay.get(), 8, c.zero_weights);
        bind_text(lay.get(), 9, c.precision);
        bind_text(lay.get(), 10, c.kernels);
        step_done(db, path, lay.get());
    }
    Stmt ce = prepare(db, path, "INSERT INTO run_class_expert (run_id, layer_index, classes, experts, routed) VALUES (?1,?2,?3,?4,?5)");
    for (size_t l = 0; l < e.expert_stats.size(); ++l) {
        const auto& counts = e.expert_stats[l].class_expert; // (classes, experts)
        const size_t experts = l < e.expert_share.size() ? e.expert_share[l].size() : 0;
        if (experts == 0 || counts.empty() || counts.size() % experts) continue;
        sqlite3_bind_int64(ce.get(), 1, id);
        sqlite3_bind_int(ce.get(), 2, int(l));
        sqlite3_bind_int64(ce.get(), 3, int64_t(counts.size() / experts));
        sqlite3_bind_int64(ce.get(), 4, int64_t(experts));
        sqlite3_bind_blob(ce.get(), 5, counts.data(), int(counts.size() * sizeof(int64_t)), SQLITE_TRANSIENT); // little-endian hosts
        step_done(db, path, ce.get());
    }
    Stmt co = prepare(db, path, "INSERT INTO run_coactivation (run_id, layer_index, experts, rows_both) VALUES (?1,?2,?3,?4)");
    for (size_t l = 0; l < e.expert_stats.size(); ++l) {
        const auto& pairs = e.expert_stats[l].coactivation; // (experts, experts)
        const size_t experts = l < e.expert_share.size() ? e.expert_share[l].size() : 0;
        if (experts == 0 || pairs.size() != experts * experts) continue;
        sqlite3_bind_int64(co.get(), 1, id);
        sqlite3_bind_int(co.get(), 2, int(l));
        sqlite3_bind_int64(co.get(), 3, int64_t(experts));
        sqlite3_bind_blob(co.get(), 4, pairs.data(), int(pairs.size() * sizeof(int64_t)), SQLITE_TRANSIENT);
        step_done(db, path, co.get());
    }
}

std::vector<RunRecord> SessionDb::runs(std::vector<std::string>* damaged, DeletedRuns deleted) const {
    sqlite3* db = db_;
    const std::string& path = path_;
    std::vector<RunRecord> runs;
    std::set<int64_t> bad; // runs found damaged by the per-run tables, left out at the end
    auto damage = [&](int64_t id, const Error& e) {
        if (!damaged) throw e;
        damaged->push_back(e.what());
        bad.insert(id);
    };
    std::string cols = kRunColumns;
    cols.replace(0, 2, "runs.id"); // "id" alone is ambiguous with the join
    // Latency samples are read with a bound: a blob larger than kMaxLatencyBlob bytes (a damaged or
    // hostile file) is not loaded at all; the run keeps its p50 and p95.
    const std::string blob = "latency_samples";
    cols.replace(cols.find(blob), blob.size(), "CASE WHEN length(latency_samples) <= " + std::to_string(kMaxLatencyBlob) + " THEN latency_samples END");
    // Dataset cards are bounded like the latency samples: a larger one (damaged or hostile) is not read.
    Stmt s = prepare(db, path, "SELECT " + cols + ", IFNULL(m.sha256, ''), CASE WHEN length(dd.card) <= " + std::to_string(kMaxDatasetCard) +
                                   " THEN dd.card ELSE '' END FROM runs LEFT JOIN models m ON m.id = runs.model_id" +
                                   " LEFT JOIN datasets dd ON dd.id = runs.dataset_id" +
                                   (deleted == DeletedRuns::Include ? "" : " WHERE runs.deleted_at IS NULL") + " ORDER BY runs.id");
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
        RunRecord r;
        sqlite3_stmt* q = s.get();
        r.id = sqlite3_column_int64(q, 0);
        try {
        r.created_at = text_col(q, 1);
        r.model_name = text_col(q, 2);
        r.model_path = text_col(q, 3);
        r.dataset_path = text_col(q, 4);
        if (sqlite3_column_type(q, 22) != SQLITE_NULL) {
            r.plan = parse_compression_plan(text_col(q, 22), path + ": run " + std::to_string(r.id) + " plan_json");
        } else { // schemas 1-2: global magnitude pruning, none/int8 and a top-k override
            if (text_col(q, 5) == "magnitude") r.plan.prune = {PruneMethod::Magnitude, sqlite3_column_double(q, 6), 0, 0};
            r.plan.quant = parse_quant_spec(text_col(q, 7));
            r.plan.top_k = sqlite3_column_int(q, 8);
        }
        EvalResult& e = r.result;
        e.top_k = sqlite3_column_int(q, 9);
        e.threads = sqlite3_column_int(q, 10);
        e.samples = sqlite3_column_int(q, 11);
        e.accuracy = sqlite3_column_double(q, 12);
        e.latency_p50_ms = sqlite3_column_double(q, 13);
        e.latency_p95_ms = sqlite3_column_double(q, 14);
        e.throughput_sps = sqlite3_column_double(q, 15);
        e.weight_bytes = sqlite3_column_int64(q, 16);
        e.sparsity = sqlite3_column_double(q, 17);
        r.input.scale = real_or_nan(q, 18);
        r.input.mean = real_or_nan(q, 19);
        r.input.std = real_or_nan(q, 20);
        r.dataset_sha256 = text_col(q, 21);
        e.flops_per_sample = sqlite3_column_double(q, 23);
        if (sqlite3_column_type(q, 24) != SQLITE_NULL) {
            e.has_comparison = true;
            Comparison& c = e.comparison;
            c.baseline_accuracy = sqlite3_column_double(q, 24);
            c.accuracy_delta = e.accuracy - c.baseline_accuracy;
            c.agreement = sqlite3_column_double(q, 25);
            c.mean_kl = sqlite3_column_double(q, 26);
            c.delta_ci_low = sqlite3_column_double(q, 27);
            c.delta_ci_high = sqlite3_column_double(q, 28);
            c.gained = sqlite3_column_int(q, 29);
            c.lost = sqlite3_column_int(q, 30);
            if (sqlite3_column_type(q, 31) != SQLITE_NULL) { // schema 4
                c.throughput_ratio = sqlite3_column_double(q, 31);
                c.latency_ratio = sqlite3_column_double(q, 32);
                c.faster_than_dense = beats_dense(c.throughput_ratio, c.latency_ratio);
            }
        }
        e.kernels = text_col(q, 33);
        e.machine = text_col(q, 34);
        r.note = text_col(q, 35);
        r.app_version = text_col(q, 38);
        r.tags = split_tags(text_col(q, 39));
        r.grid_key = text_col(q, 40);
        if (const int bytes = sqlite3_column_bytes(q, 41); bytes > 0 && bytes % 4 == 0) {
            e.latency_samples_ms.resize(size_t(bytes) / 4);
            std::memcpy(e.latency_samples_ms.data(), sqlite3_column_blob(q, 41), size_t(bytes));
        }
        if (!parse_eval_task(text_col(q, 42), &e.task))
            throw Error(path + ": run " + std::to_string(r.id) + ": task '" + text_col(q, 42) + "' is not one this version knows (" +
                        eval_task_name(EvalTask::Classification) + ", " + eval_task_name(EvalTask::LanguageModeling) + ")");
        r.hidden = sqlite3_column_int(q, 43) != 0;
        r.deleted_at = text_col(q, 44);
        e.others_cpus = real_or_nan(q, 45);
        r.model_sha256 = text_col(q, 46);
        r.dataset_card = text_col(q, 47);
        } catch (const Error& e) {
            damage(r.id, e);
            continue;
        }
        runs.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) fail(path, db, rc, "cannot read the runs");

    // The per-run tables, each read in one pass ordered by run (runs are sorted by id too).
    auto for_each_row = [&](const char* sql, auto&& row) {
        Stmt t = prepare(db, path, sql);
        size_t at = 0;
        int trc;
        while ((trc = sqlite3_step(t.get())) == SQLITE_ROW) {
            const int64_t id = sqlite3_column_int64(t.get(), 0);
            while (at < runs.size() && runs[at].id < id) ++at;
            if (at < runs.size() && runs[at].id == id) row(runs[at], t.get());
        }
        if (trc != SQLITE_DONE) fail(path, db, trc, "cannot read the runs");
    };
    for_each_row("SELECT run_id, name, value FROM run_metric ORDER BY run_id", [](RunRecord& r, sqlite3_stmt* t) {
        r.result.metrics[text_col(t, 1)] = real_or_nan(t, 2);
    });
    for_each_row("SELECT run_id, samples, accuracy, delta, lost, gained, p_mcnemar, p_holm FROM run_class_accuracy ORDER BY run_id, class_index",
                 [](RunRecord& r, sqlite3_stmt* t) {
                     r.result.per_class_count.push_back(sqlite3_column_int(t, 1));
                     r.result.per_class_accuracy.push_back(real_or_nan(t, 2));
                     if (!r.result.has_comparison) return;
                     Comparison& c = r.result.comparison;
                     c.per_class_delta.push_back(real_or_nan(t, 3));
                     if (sqlite3_column_type(t, 4) == SQLITE_NULL) return; // before schema 10
                     c.class_lost.push_back(sqlite3_column_int(t, 4));
                     c.class_gained.push_back(sqlite3_column_int(t, 5));
                     c.class_p.push_back(real_or_nan(t, 6));
                     c.class_p_holm.push_back(real_or_nan(t, 7));
                 });
    for_each_row("SELECT run_id, sample, label, dense_pred, pred, dense_p_true, p_true FROM run_flipped ORDER BY run_id, rowid",
                 [](RunRecord& r, sqlite3_stmt* t) {
                     r.result.comparison.flipped.push_back({sqlite3_column_int(t, 1), sqlite3_column_int(t, 2), sqlite3_column_int(t, 3),
                                                            sqlite3_column_int(t, 4), float(sqlite3_column_double(t, 5)),
                                                            float(sqlite3_column_double(t, 6))});
                 });
    for_each_row("SELECT run_id, model, bin, bins, count, mean_confidence, accuracy FROM run_reliability ORDER BY run_id, model, bin",
                 [](RunRecord& r, sqlite3_stmt* t) {
                     CalibrationResult& cal = text_col(t, 1) == "dense" ? r.result.comparison.dense_calibration : r.result.comparison.calibration;
                     const int bin = sqlite3_column_int(t, 2), bins = sqlite3_column_int(t, 3);
                     if (bins < 1 || bins > 1000 || bin != int(cal.bins.size())) return; // ignored, not guessed
                     ReliabilityBin b;
                     b.lower = double(bin) / bins;
                     b.upper = double(bin + 1) / bins;
                     b.count = sqlite3_column_int(t, 4);
                     b.mean_confidence = sqlite3_column_double(t, 5);
                     b.accuracy = sqlite3_column_double(t, 6);
                     cal.bins.push_back(b);
                 });
    // Curves are bounded like the latency samples; ones that do not parse, or do not match, are left out.
    for_each_row("SELECT run_id, model, score, set_name, in_count, out_count, auroc, aupr_in, aupr_out, fpr95, "
                 "CASE WHEN length(curves) <= 1048576 THEN curves ELSE '' END FROM run_ood ORDER BY run_id, model, score",
                 [](RunRecord& r, sqlite3_stmt* t) {
                     OodEvaluation& o = r.result.ood;
                     const std::string model = text_col(t, 1), score = text_col(t, 2);
                     OodResult* res = model == "dense" ? (score == "energy" ? &o.dense_energy : &o.dense_msp) : (score == "energy" ? &o.energy : &o.msp);
                     res->in_count = sqlite3_column_int(t, 4);
                     res->out_count = sqlite3_column_int(t, 5);
                     res->auroc = sqlite3_column_double(t, 6);
                     res->aupr_in = sqlite3_column_double(t, 7);
                     res->aupr_out = sqlite3_column_double(t, 8);
                     res->fpr95 = sqlite3_column_double(t, 9);
                     const nlohmann::json c = nlohmann::json::parse(text_col(t, 10), nullptr, false);
                     try {
                         if (c.is_object()) {
                             std::vector<float> fpr = c.at("roc_fpr").get<std::vector<float>>(), tpr = c.at("roc_tpr").get<std::vector<float>>();
                             std::vector<int> in = c.at("in_hist").get<std::vector<int>>(), out = c.at("out_hist").get<std::vector<int>>();
                             if (fpr.size() == tpr.size() && in.size() == out.size()) {
                                 res->roc_fpr = std::move(fpr);
                                 res->roc_tpr = std::move(tpr);
                                 res->in_hist = std::move(in);
                                 res->out_hist = std::move(out);
                                 res->hist_lo = c.at("hist_lo").get<double>();
                                 res->hist_hi = c.at("hist_hi").get<double>();
                             }
                         }
                     } catch (const nlohmann::json::exception&) {
                     }
                     o.set = text_col(t, 3);
                     o.in_count = res->in_count;
                     o.out_count = res->out_count;
                     o.has_dense = o.has_dense || model == "dense";
                     r.result.has_ood = true;
                 });
    for_each_row("SELECT run_id, name, count, lost, gained, p_mcnemar, p_holm FROM run_slice ORDER BY run_id, position",
                 [](RunRecord& r, sqlite3_stmt* t) {
                     SliceResult c;
                     c.name = text_col(t, 1);
                     c.count = sqlite3_column_int(t, 2);
                     c.lost = sqlite3_column_int(t, 3);
                     c.gained = sqlite3_column_int(t, 4);
                     c.delta_points = c.count > 0 ? 100.0 * double(c.gained - c.lost) / c.count : 0.0;
                     c.p = real_or_nan(t, 5);
                     c.p_holm = real_or_nan(t, 6);
                     r.result.slices.push_back(c);
                 });
    for_each_row("SELECT run_id, method FROM run_recovery ORDER BY run_id", [](RunRecord& r, sqlite3_stmt* t) { r.recovery.method = text_col(t, 1); });
    for_each_row("SELECT run_id, epoch, loss, train_accuracy, test_accuracy, sparsity, seconds FROM run_recovery_epoch ORDER BY run_id, epoch",
                 [](RunRecord& r, sqlite3_stmt* t) {
                     RecoveryEpoch p;
                     p.epoch = sqlite3_column_int(t, 1);
                     if (p.epoch != int(r.recovery.curve.size())) return; // epochs come 0, 1, 2, ...: a gap is ignored, not guessed
                     p.loss = real_or_nan(t, 2);
                     p.train_accuracy = real_or_nan(t, 3);
                     p.test_accuracy = real_or_nan(t, 4);
                     p.sparsity = sqlite3_column_double(t, 5);
                     p.seconds = sqlite3_column_double(t, 6);
                     r.recovery.curve.push_back(p);
                 });
    std::map<int64_t, std::vector<std::tuple<std::string, int, double, double>>> corruption_rows;
    std::map<int64_t, int> corruption_samples;
    for_each_row("SELECT run_id, corruption, severity, accuracy, dense_accuracy, samples FROM run_corruption ORDER BY run_id, position",
                 [&](RunRecord& r, sqlite3_stmt* t) {
                     corruption_rows[r.id].emplace_back(text_col(t, 1), sqlite3_column_int(t, 2), sqlite3_column_double(t, 3), real_or_nan(t, 4));
                     if (sqlite3_column_type(t, 5) != SQLITE_NULL) corruption_samples[r.id] = sqlite3_column_int(t, 5);
                 });
    for (RunRecord& r : runs) {
        Comparison& c = r.result.comparison;
        for (CalibrationResult* cal : {&c.calibration, &c.dense_calibration}) summarize_calibration_bins(*cal);
        if (auto it = corruption_rows.find(r.id); it != corruption_rows.end()) {
            const auto n = corruption_samples.find(r.id);
            restore_robustness(r, it->second, n == corruption_samples.end() ? r.result.samples : n->second);
        }
    }
    for_each_row("SELECT run_id, layer_index, layer_name, share FROM run_expert_share ORDER BY run_id, layer_index, expert",
                 [&](RunRecord& r, sqlite3_stmt* t) {
                     const int64_t index = sqlite3_column_int64(t, 1);
                     EvalResult& e = r.result;
                     // Layers come in order from 0 (checked before anything is allocated for them).
                     if (index < 0 || index > int64_t(e.expert_share.size())) {
                         if (!bad.count(r.id))
                             damage(r.id, Error(path + ": run " + std::to_string(r.id) + ": run_expert_share layer_index " + std::to_string(index) +
                                                ": expected 0.." + std::to_string(e.expert_share.size()) +
                                                " (MoE layers are numbered from 0 without gaps)"));
                         return;
                     }
                     const size_t layer = size_t(index);
                     if (layer == e.expert_share.size()) {
                         e.expert_share.emplace_back();
                         e.moe_layers.emplace_back();
                     }
                     e.moe_layers[layer] = text_col(t, 2);
                     e.expert_share[layer].push_back(sqlite3_column_double(t, 3));
                 });
    for_each_row("SELECT run_id, name, kind, batch1_us, resident_bytes, weights, zero_weights, precision, kernels FROM run_layer "
                 "ORDER BY run_id, layer_index",
                 [](RunRecord& r, sqlite3_stmt* t) {
                     LayerCost c;
                     c.name = text_col(t, 1);
                     c.kind = text_col(t, 2);
                     c.batch1_us = sqlite3_column_double(t, 3);
                     c.resident_bytes = sqlite3_column_int64(t, 4);
                     c.weights = sqlite3_column_int64(t, 5);
                     c.zero_weights = sqlite3_column_int64(t, 6);
                     c.precision = text_col(t, 7);
                     c.kernels = text_col(t, 8);
                     r.result.layers.push_back(std::move(c));
                 });
    // Routing summaries from the shares; per-class counts where the session has them.
    for (RunRecord& r : runs) {
        EvalResult& e = r.result;
        e.expert_stats.resize(e.expert_share.size());
        for (size_t l = 0; l < e.expert_share.size(); ++l) summarize_shares(e.expert_share[l], e.expert_stats[l]);
    }
    for_each_row("SELECT run_id, layer_index, classes, experts, routed FROM run_class_expert ORDER BY run_id, layer_index",
                 [](RunRecord& r, sqlite3_stmt* t) {
                     EvalResult& e = r.result;
                     const size_t l = size_t(sqlite3_column_int(t, 1));
                     const int64_t classes = sqlite3_column_int64(t, 2), experts = sqlite3_column_int64(t, 3);
                     const int bytes = sqlite3_column_bytes(t, 4);
                     constexpr int64_t kMax = 1 << 20; // bounds the product below
                     if (l >= e.expert_stats.size() || classes < 1 || experts < 1 || classes > kMax || experts > kMax ||
                         bytes != classes * experts * 8)
                         return; // ignored, not guessed
                     auto& counts = e.expert_stats[l].class_expert;
                     counts.resize(size_t(classes * experts));
                     std::memcpy(counts.data(), sqlite3_column_blob(t, 4), size_t(bytes));
                 });
    for_each_row("SELECT run_id, layer_index, experts, rows_both FROM run_coactivation ORDER BY run_id, layer_index",
                 [](RunRecord& r, sqlite3_stmt* t) {
                     EvalResult& e = r.result;
                     const size_t l = size_t(sqlite3_column_int(t, 1));
                     const int64_t experts = sqlite3_column_int64(t, 2);
                     const int bytes = sqlite3_column_bytes(t, 3);
                     if (l >= e.expert_stats.size() || experts < 1 || experts > (1 << 20) || bytes != experts * experts * 8)
                         return; // ignored, not guessed
                     auto& pairs = e.expert_stats[l].coactivation;
                     pairs.resize(size_t(experts * experts));
                     std::memcpy(pairs.data(), sqlite3_column_blob(t, 3), size_t(bytes));
                 });
    if (!bad.empty()) runs.erase(std::remove_if(runs.begin(), runs.end(), [&](const RunRecord& r) { return bad.count(r.id) > 0; }), runs.end());
    return runs;
}

} // namespace ss
