// session_store.cpp
#include "session_store.h"

#include "baseline_comparison.h"
#include "error.h"
#include "file_io.h"

#include <sqlite3.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>

namespace ss {

namespace {

// The current schema (version kSessionSchemaVersion). Sessions are written whole, so older files
// only need to be readable: load_session selects the columns their version has.
constexpr const char* kSchema = R"sql(
CREATE TABLE runs (
  id               INTEGER PRIMARY KEY,
  created_at       TEXT NOT NULL,
  model_name       TEXT NOT NULL,
  model_path       TEXT NOT NULL,
  dataset_path     TEXT NOT NULL,
  prune_method     TEXT NOT NULL,      -- 'none' | 'magnitude'
  sparsity_target  REAL NOT NULL,      -- 0..1
  quant            TEXT NOT NULL,      -- 'none' | 'int8'
  top_k_override   INTEGER NOT NULL,   -- 0 = model's own
  top_k            INTEGER NOT NULL,   -- effective top-k of the first MoE layer, 0 if none
  threads          INTEGER NOT NULL,
  samples          INTEGER NOT NULL,
  accuracy         REAL NOT NULL,      -- top-1, 0..1
  latency_p50_ms   REAL NOT NULL,      -- batch 1
  latency_p95_ms   REAL NOT NULL,
  throughput_sps   REAL NOT NULL,
  weight_bytes     INTEGER NOT NULL,
  sparsity         REAL NOT NULL,      -- measured
  input_scale      REAL,               -- preprocessing: x = (raw * scale - mean) / std (schema 2)
  input_mean       REAL,
  input_std        REAL,
  dataset_sha256   TEXT,               -- of the dataset files (schema 2)
  plan_json        TEXT,               -- the whole compression plan (schema 3)
  flops_per_sample REAL,               -- dense-equivalent (schema 3)
  baseline_accuracy REAL,              -- comparison with the dense model, NULL if none (schema 3)
  agreement        REAL,
  mean_kl          REAL,
  delta_ci_low     REAL,
  delta_ci_high    REAL,
  gained           INTEGER,
  lost             INTEGER,
  throughput_ratio REAL,               -- compressed / dense, timed side by side (schema 4)
  latency_ratio    REAL,               -- dense / compressed batch-1 p50 (schema 4)
  kernels          TEXT,               -- the kernel summary of the run (schema 4)
  machine          TEXT,               -- CPU, cores, ISA, OpenBLAS core (schema 4)
  note             TEXT                -- the user's note on the run (schema 5)
);
CREATE TABLE run_class_accuracy (
  run_id       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  class_index  INTEGER NOT NULL,
  samples      INTEGER NOT NULL,
  accuracy     REAL,                   -- NULL when the class has no samples
  delta        REAL,                   -- minus the dense model's accuracy (schema 3)
  PRIMARY KEY (run_id, class_index)
);
CREATE TABLE run_expert_share (
  run_id       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  layer_index  INTEGER NOT NULL,
  layer_name   TEXT NOT NULL,
  expert       INTEGER NOT NULL,
  share        REAL NOT NULL,          -- of routed (row, slot) pairs; sums to 1 per layer
  PRIMARY KEY (run_id, layer_index, expert)
);
)sql";

struct DbCloser {
    void operator()(sqlite3* db) const { sqlite3_close(db); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;

struct StmtFinalizer {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

[[noreturn]] void fail(const std::string& path, sqlite3* db, const std::string& what) {
    throw Error(path + ": " + what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

void exec(sqlite3* db, const std::string& path, const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        throw Error(path + ": " + msg);
    }
}

Stmt prepare(sqlite3* db, const std::string& path, const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) fail(path, db, "cannot prepare statement");
    return Stmt(s);
}

int pragma_int(sqlite3* db, const std::string& path, const char* sql) {
    Stmt s = prepare(db, path, sql);
    if (sqlite3_step(s.get()) != SQLITE_ROW) fail(path, db, "cannot read pragma");
    return sqlite3_column_int(s.get(), 0);
}

void step_done(sqlite3* db, const std::string& path, sqlite3_stmt* s) {
    if (sqlite3_step(s) != SQLITE_DONE) fail(path, db, "write failed");
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

std::string text_col(sqlite3_stmt* s, int i) {
    const unsigned char* t = sqlite3_column_text(s, i);
    return t ? reinterpret_cast<const char*>(t) : "";
}

} // namespace

void save_session(const std::string& path, const std::vector<RunRecord>& runs) {
    const std::string tmp = path + ".saving";
    std::remove(tmp.c_str());
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(tmp.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    Db db(raw);
    if (rc != SQLITE_OK) fail(tmp, raw, "cannot create session file");
    try {
        exec(db.get(), tmp, "BEGIN");
        exec(db.get(), tmp, kSchema);
        exec(db.get(), tmp, ("PRAGMA user_version = " + std::to_string(kSessionSchemaVersion)).c_str());
        exec(db.get(), tmp, ("PRAGMA application_id = " + std::to_string(kSessionApplicationId)).c_str());
        Stmt run = prepare(db.get(), tmp,
                           "INSERT INTO runs VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,"
                           "?23,?24,?25,?26,?27,?28,?29,?30,?31,?32,?33,?34,?35,?36)");
        Stmt cls = prepare(db.get(), tmp, "INSERT INTO run_class_accuracy VALUES (?1,?2,?3,?4,?5)");
        Stmt exp = prepare(db.get(), tmp, "INSERT INTO run_expert_share VALUES (?1,?2,?3,?4,?5)");
        for (const RunRecord& r : runs) {
            const EvalResult& e = r.result;
            sqlite3_stmt* s = run.get();
            sqlite3_bind_int64(s, 1, r.id);
            sqlite3_bind_text(s, 2, r.created_at.c_str(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(s, 3, r.model_name.c_str(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(s, 4, r.model_path.c_str(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(s, 5, r.dataset_path.c_str(), -1, SQLITE_TRANSIENT);
            const std::string prune = r.plan.prune.label(), quant = r.plan.quant.label(), plan = r.plan.to_json();
            sqlite3_bind_text(s, 6, prune.substr(0, prune.find(':')).c_str(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_double(s, 7, r.plan.prune.sparsity);
            sqlite3_bind_text(s, 8, quant.c_str(), -1, SQLITE_TRANSIENT);
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
            sqlite3_bind_double(s, 19, r.input.scale);
            sqlite3_bind_double(s, 20, r.input.mean);
            sqlite3_bind_double(s, 21, r.input.std);
            sqlite3_bind_text(s, 22, r.dataset_sha256.c_str(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(s, 23, plan.c_str(), -1, SQLITE_TRANSIENT);
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
            } // else NULLs: cleared bindings are NULL
            sqlite3_bind_text(s, 34, e.kernels.c_str(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(s, 35, e.machine.c_str(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(s, 36, r.note.c_str(), -1, SQLITE_TRANSIENT);
            step_done(db.get(), tmp, s);
            for (size_t c = 0; c < e.per_class_accuracy.size(); ++c) {
                sqlite3_bind_int64(cls.get(), 1, r.id);
                sqlite3_bind_int(cls.get(), 2, int(c));
                sqlite3_bind_int(cls.get(), 3, c < e.per_class_count.size() ? e.per_class_count[c] : 0);
                if (std::isnan(e.per_class_accuracy[c])) sqlite3_bind_null(cls.get(), 4);
                else sqlite3_bind_double(cls.get(), 4, e.per_class_accuracy[c]);
                const double delta = e.has_comparison && c < e.comparison.per_class_delta.size() ? e.comparison.per_class_delta[c]
                                                                                                 : std::nan("");
                if (std::isnan(delta)) sqlite3_bind_null(cls.get(), 5);
                else sqlite3_bind_double(cls.get(), 5, delta);
                step_done(db.get(), tmp, cls.get());
            }
            for (size_t l = 0; l < e.expert_share.size(); ++l)
                for (size_t x = 0; x < e.expert_share[l].size(); ++x) {
                    sqlite3_bind_int64(exp.get(), 1, r.id);
                    sqlite3_bind_int(exp.get(), 2, int(l));
                    sqlite3_bind_text(exp.get(), 3, e.moe_layers[l].c_str(), -1, SQLITE_TRANSIENT);
                    sqlite3_bind_int(exp.get(), 4, int(x));
                    sqlite3_bind_double(exp.get(), 5, e.expert_share[l][x]);
                    step_done(db.get(), tmp, exp.get());
                }
        }
        run.reset();
        cls.reset();
        exp.reset();
        exec(db.get(), tmp, "COMMIT");
    } catch (...) {
        db.reset();
        std::remove(tmp.c_str());
        throw;
    }
    if (sqlite3_close(db.release()) != SQLITE_OK) throw Error(tmp + ": cannot close session file");
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw Error(path + ": cannot replace the session file");
    }
}

std::vector<RunRecord> load_session(const std::string& path) {
    if (!file_exists(path)) throw Error(path + ": no such file");
    if (is_directory(path)) throw Error(path + ": is a directory, expected a session file");
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
    Db db(raw);
    if (rc != SQLITE_OK) fail(path, raw, "cannot open session");

    // SQLite opens any file; the first read tells whether it is a database at all.
    sqlite3_stmt* probe = nullptr;
    if (sqlite3_prepare_v2(db.get(), "PRAGMA application_id", -1, &probe, nullptr) != SQLITE_OK ||
        sqlite3_step(probe) != SQLITE_ROW) {
        sqlite3_finalize(probe);
        throw Error(path + ": not a SparseScope session (not an SQLite database)");
    }
    const int app_id = sqlite3_column_int(probe, 0);
    sqlite3_finalize(probe);
    if (app_id != kSessionApplicationId)
        throw Error(path + ": not a SparseScope session (SQLite database with application_id " + std::to_string(app_id) + ")");
    const int version = pragma_int(db.get(), path, "PRAGMA user_version");
    if (version > kSessionSchemaVersion)
        throw Error(path + ": session schema version " + std::to_string(version) + " is newer than this SparseScope supports (" +
                    std::to_string(kSessionSchemaVersion) + "); update SparseScope to open it");
    if (version < 1) throw Error(path + ": session schema version " + std::to_string(version) + " is invalid");

    std::vector<RunRecord> runs;
    // Older schemas lack the later columns: select NULL in their place.
    const char* select = version >= 5   ? "SELECT * FROM runs ORDER BY id"
                         : version == 4 ? "SELECT *, NULL FROM runs ORDER BY id"
                         : version == 3 ? "SELECT *, NULL, NULL, NULL, NULL, NULL FROM runs ORDER BY id"
                         : version == 2 ? "SELECT *, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM runs ORDER BY id"
                                        : "SELECT *, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL "
                                          "FROM runs ORDER BY id";
    Stmt s = prepare(db.get(), path, select);
    while (sqlite3_step(s.get()) == SQLITE_ROW) {
        RunRecord r;
        sqlite3_stmt* q = s.get();
        r.id = sqlite3_column_int64(q, 0);
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
        const double nan = std::numeric_limits<double>::quiet_NaN();
        r.input.scale = sqlite3_column_type(q, 18) == SQLITE_NULL ? nan : sqlite3_column_double(q, 18);
        r.input.mean = sqlite3_column_type(q, 19) == SQLITE_NULL ? nan : sqlite3_column_double(q, 19);
        r.input.std = sqlite3_column_type(q, 20) == SQLITE_NULL ? nan : sqlite3_column_double(q, 20);
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
        runs.push_back(std::move(r));
    }
    Stmt cls = prepare(db.get(), path,
                       version >= 3 ? "SELECT samples, accuracy, delta FROM run_class_accuracy WHERE run_id = ?1 ORDER BY class_index"
                                    : "SELECT samples, accuracy, NULL FROM run_class_accuracy WHERE run_id = ?1 ORDER BY class_index");
    Stmt exp = prepare(db.get(), path,
                       "SELECT layer_index, layer_name, share FROM run_expert_share WHERE run_id = ?1 ORDER BY layer_index, expert");
    for (RunRecord& r : runs) {
        sqlite3_bind_int64(cls.get(), 1, r.id);
        while (sqlite3_step(cls.get()) == SQLITE_ROW) {
            r.result.per_class_count.push_back(sqlite3_column_int(cls.get(), 0));
            const double nan = std::numeric_limits<double>::quiet_NaN();
            r.result.per_class_accuracy.push_back(sqlite3_column_type(cls.get(), 1) == SQLITE_NULL ? nan : sqlite3_column_double(cls.get(), 1));
            if (r.result.has_comparison)
                r.result.comparison.per_class_delta.push_back(sqlite3_column_type(cls.get(), 2) == SQLITE_NULL ? nan
                                                                                                               : sqlite3_column_double(cls.get(), 2));
        }
        sqlite3_reset(cls.get());
        sqlite3_bind_int64(exp.get(), 1, r.id);
        while (sqlite3_step(exp.get()) == SQLITE_ROW) {
            const size_t layer = size_t(sqlite3_column_int(exp.get(), 0));
            if (layer >= r.result.expert_share.size()) {
                r.result.expert_share.resize(layer + 1);
                r.result.moe_layers.resize(layer + 1);
            }
            r.result.moe_layers[layer] = text_col(exp.get(), 1);
            r.result.expert_share[layer].push_back(sqlite3_column_double(exp.get(), 2));
        }
        sqlite3_reset(exp.get());
    }
    return runs;
}

} // namespace ss
