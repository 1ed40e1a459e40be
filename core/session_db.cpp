// session_db.cpp
#include "session_db.h"

#include "baseline_comparison.h"
#include "error.h"
#include "file_io.h"
#include "session_migrations.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

namespace ss {

namespace {

constexpr int kApplicationId = 0x53537331; // "SSs1"

struct StmtFinalizer {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// Why SQLite refused, in the user's terms.
std::string reason(sqlite3* db, int rc) {
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return "locked by another program (a SparseScope window or a sweep writing to it); try again when it is done";
    case SQLITE_NOTADB: return "not a SparseScope session (not an SQLite database)";
    case SQLITE_CORRUPT: return "damaged (SQLite: database disk image is malformed); restore it from a backup";
    case SQLITE_READONLY: return "read-only; open it read-only or save a copy elsewhere";
    case SQLITE_FULL: return "the disk is full";
    case SQLITE_CANTOPEN: return "cannot be opened (missing folder or no permission)";
    case SQLITE_IOERR: return std::string("input/output error: ") + (db ? sqlite3_errmsg(db) : "");
    default: return db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    }
}

[[noreturn]] void fail(const std::string& path, sqlite3* db, int rc, const std::string& what = {}) {
    throw Error(path + ": " + (what.empty() ? "" : what + ": ") + reason(db, rc));
}

void exec(sqlite3* db, const std::string& path, const std::string& sql, const std::string& what = {}) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        const std::string msg = err ? err : "";
        sqlite3_free(err);
        const int code = rc & 0xff;
        if (code == SQLITE_BUSY || code == SQLITE_LOCKED || code == SQLITE_CORRUPT || code == SQLITE_NOTADB || code == SQLITE_FULL ||
            code == SQLITE_READONLY || code == SQLITE_IOERR)
            fail(path, db, rc, what);
        throw Error(path + ": " + (what.empty() ? "" : what + ": ") + msg);
    }
}

Stmt prepare(sqlite3* db, const std::string& path, const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    const int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
    if (rc != SQLITE_OK) fail(path, db, rc);
    return Stmt(s);
}

int64_t scalar_int(sqlite3* db, const std::string& path, const std::string& sql) {
    Stmt s = prepare(db, path, sql);
    const int rc = sqlite3_step(s.get());
    if (rc != SQLITE_ROW) fail(path, db, rc);
    return sqlite3_column_int64(s.get(), 0);
}

std::string scalar_text(sqlite3* db, const std::string& path, const std::string& sql) {
    Stmt s = prepare(db, path, sql);
    const int rc = sqlite3_step(s.get());
    if (rc != SQLITE_ROW) fail(path, db, rc);
    const unsigned char* t = sqlite3_column_text(s.get(), 0);
    return t ? reinterpret_cast<const char*>(t) : "";
}

void step_done(sqlite3* db, const std::string& path, sqlite3_stmt* s) {
    const int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) fail(path, db, rc, "write failed");
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

std::string text_col(sqlite3_stmt* s, int i) {
    const unsigned char* t = sqlite3_column_text(s, i);
    return t ? reinterpret_cast<const char*>(t) : "";
}

double real_or_nan(sqlite3_stmt* s, int i) {
    return sqlite3_column_type(s, i) == SQLITE_NULL ? std::numeric_limits<double>::quiet_NaN() : sqlite3_column_double(s, i);
}

void bind_text(sqlite3_stmt* s, int i, const std::string& v) { sqlite3_bind_text(s, i, v.c_str(), int(v.size()), SQLITE_TRANSIENT); }
void bind_real_or_null(sqlite3_stmt* s, int i, double v) {
    if (std::isnan(v)) sqlite3_bind_null(s, i);
    else sqlite3_bind_double(s, i, v);
}

// file: URI of a path (absolute, with %, ? and # escaped) so that mode=ro can be given.
std::string uri_of(const std::string& path, const char* query) {
    std::string abs = std::filesystem::absolute(path).string(), out = "file:";
    for (char c : abs) {
        if (c == '%' || c == '?' || c == '#') {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", unsigned(static_cast<unsigned char>(c)));
            out += buf;
        } else {
            out += c;
        }
    }
    return out + "?" + query;
}

// Whether we may write the file: permission for us, and some write bit set at all (root ignores
// permissions; a file its owner made read-only is treated as read-only anyway).
bool writable(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return false;
    return ::access(path.c_str(), W_OK) == 0 && (st.st_mode & 0222) != 0;
}

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

// Applies migrations found..newest, each in one transaction with its user_version.
void migrate(sqlite3* db, const std::string& path, int found) {
    const auto& all = session_migrations();
    for (int v = found; v < int(all.size()); ++v) {
        exec(db, path, "BEGIN IMMEDIATE", "cannot start migration");
        try {
            if (v == 0) exec(db, path, "PRAGMA application_id = " + std::to_string(kApplicationId));
            exec(db, path, all[size_t(v)].sql, std::string("migration ") + all[size_t(v)].file);
            exec(db, path, "PRAGMA user_version = " + std::to_string(v + 1));
            exec(db, path, "COMMIT", std::string("migration ") + all[size_t(v)].file);
        } catch (...) {
            sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
            throw;
        }
    }
    Stmt fk = prepare(db, path, "PRAGMA foreign_key_check");
    if (sqlite3_step(fk.get()) == SQLITE_ROW)
        throw Error(path + ": after migration, table " + text_col(fk.get(), 0) + " refers to a missing row (foreign key check)");
}

// Copies the whole database behind `from` into `to` (an open connection).
void backup_into(sqlite3* from, sqlite3* to, const std::string& what) {
    sqlite3_backup* b = sqlite3_backup_init(to, "main", from, "main");
    if (!b) throw Error(what + ": cannot copy: " + sqlite3_errmsg(to));
    const int rc = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) throw Error(what + ": cannot copy: " + reason(to, rc));
}

void copy_database(sqlite3* from, const std::string& dest) {
    const std::string tmp = dest + ".writing";
    std::remove(tmp.c_str());
    sqlite3* out = nullptr;
    int rc = sqlite3_open_v2(tmp.c_str(), &out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    if (rc != SQLITE_OK) {
        sqlite3_close(out);
        std::remove(tmp.c_str());
        throw Error(dest + ": cannot write: " + reason(nullptr, rc));
    }
    try {
        backup_into(from, out, dest);
        // The copy keeps the source's journal mode (WAL) in its header; that is what we want.
    } catch (...) {
        sqlite3_close(out);
        std::remove(tmp.c_str());
        throw;
    }
    rc = sqlite3_close(out);
    if (rc != SQLITE_OK || std::rename(tmp.c_str(), dest.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw Error(dest + ": cannot write the copy");
    }
}

// The runs columns, in the order runs() reads them and write_run binds them (?1..?42).
constexpr const char* kRunColumns =
    "id, created_at, model_name, model_path, dataset_path, prune_method, sparsity_target, quant, top_k_override, top_k, "
    "threads, samples, accuracy, latency_p50_ms, latency_p95_ms, throughput_sps, weight_bytes, sparsity, input_scale, "
    "input_mean, input_std, dataset_sha256, plan_json, flops_per_sample, baseline_accuracy, agreement, mean_kl, delta_ci_low, "
    "delta_ci_high, gained, lost, throughput_ratio, latency_ratio, kernels, machine, note, model_id, dataset_id, app_version, "
    "tags, grid_key, latency_samples";

} // namespace

int session_schema_version() { return int(session_migrations().size()); }

namespace {
// Bytes 18-19 of the header: 2 = the file is in WAL mode.
bool wal_header(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    unsigned char head[20] = {};
    return in.read(reinterpret_cast<char*>(head), 20) && head[18] == 2 && head[19] == 2;
}
} // namespace

bool looks_like_sqlite(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    char head[16] = {};
    return in.read(head, 16) && std::memcmp(head, "SQLite format 3", 16) == 0;
}

std::unique_ptr<SessionDb> SessionDb::open(const std::string& path, SessionAccess access) {
    std::unique_ptr<SessionDb> s(new SessionDb);
    s->path_ = path;
    s->read_only_ = access == SessionAccess::ReadOnly;
    const bool exists = file_exists(path);
    if (exists && is_directory(path)) throw Error(path + ": is a directory, expected a session file");
    if (!exists && s->read_only_) throw Error(path + ": no such file");

    if (!exists) { // a new session
        const int rc = sqlite3_open_v2(path.c_str(), &s->db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
        if (rc != SQLITE_OK) fail(path, s->db_, rc, "cannot create the session");
        sqlite3_busy_timeout(s->db_, 5000);
        try {
            exec(s->db_, path, "PRAGMA foreign_keys = ON");
            if (scalar_text(s->db_, path, "PRAGMA journal_mode = WAL") != "wal")
                throw Error(path + ": cannot use write-ahead logging here (a file system without shared memory?)");
            exec(s->db_, path, "PRAGMA synchronous = FULL");
            migrate(s->db_, path, 0);
        } catch (...) {
            sqlite3_close(s->db_);
            s->db_ = nullptr;
            std::remove(path.c_str());
            std::remove((path + "-wal").c_str());
            std::remove((path + "-shm").c_str());
            throw;
        }
        return s;
    }

    // An existing file: everything is checked through a read-only connection before anything is written.
    if (std::filesystem::file_size(path) == 0) throw Error(path + ": is empty, not a SparseScope session");
    if (!looks_like_sqlite(path)) throw Error(path + ": not a SparseScope session (not an SQLite database)");
    // A WAL file with no -wal beside it has no writer: read it as immutable, which creates no -wal
    // and -shm files beside it (a plain read-only connection would, and leave them). Otherwise
    // (a writer is active, or a rollback-journal file) the usual locking read.
    const bool quiet = wal_header(path) && !file_exists(path + "-wal");
    sqlite3* ro = nullptr;
    int rc = sqlite3_open_v2(uri_of(path, quiet ? "mode=ro&immutable=1" : "mode=ro").c_str(), &ro, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
                             nullptr);
    if (rc != SQLITE_OK) {
        sqlite3_close(ro);
        fail(path, nullptr, rc);
    }
    sqlite3_busy_timeout(ro, 2000);
    int version = 0;
    try {
        const int64_t app_id = scalar_int(ro, path, "PRAGMA application_id");
        if (app_id != kApplicationId)
            throw Error(path + ": not a SparseScope session (an SQLite database with application_id " + std::to_string(app_id) + ")");
        version = int(scalar_int(ro, path, "PRAGMA user_version"));
        if (version > session_schema_version())
            throw Error(path + ": session schema version " + std::to_string(version) + " is newer than this SparseScope supports (" +
                        std::to_string(session_schema_version()) + "); open it with a newer SparseScope. The file was not changed.");
        if (version < 1) throw Error(path + ": session schema version " + std::to_string(version) + " is invalid");
        // Before a migration rewrites tables, the whole file is checked (O(file size)); otherwise
        // damage shows as an error when the damaged pages are read.
        if (version < session_schema_version() && access == SessionAccess::ReadWrite) {
            const std::string check = scalar_text(ro, path, "PRAGMA quick_check");
            if (check != "ok") throw Error(path + ": damaged (" + check + "); restore it from a backup. The file was not changed.");
        }
    } catch (...) {
        sqlite3_close(ro);
        throw;
    }
    s->found_version_ = version;

    if (s->read_only_) {
        if (version == session_schema_version()) {
            s->db_ = ro;
            return s;
        }
        // An older schema, read through an in-memory copy migrated there: the file stays as it is.
        sqlite3* mem = nullptr;
        sqlite3_open_v2(":memory:", &mem, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
        try {
            backup_into(ro, mem, path);
            sqlite3_close(ro);
            ro = nullptr;
            exec(mem, path, "PRAGMA foreign_keys = ON");
            migrate(mem, path, version);
        } catch (...) {
            sqlite3_close(ro);
            sqlite3_close(mem);
            throw;
        }
        s->db_ = mem;
        return s;
    }

    if (!writable(path)) {
        sqlite3_close(ro);
        throw ReadOnlySessionError(path + ": the file is read-only; open it read-only, or make it writable. The file was not changed.");
    }
    if (version < session_schema_version()) { // a copy of the file as it was, before the migration touches it
        std::string bak = path + ".v" + std::to_string(version) + ".bak";
        for (int i = 2; file_exists(bak); ++i) bak = path + ".v" + std::to_string(version) + "." + std::to_string(i) + ".bak";
        try {
            copy_database(ro, bak);
        } catch (...) {
            sqlite3_close(ro);
            throw;
        }
        s->backup_path_ = bak;
    }
    sqlite3_close(ro);
    rc = sqlite3_open_v2(path.c_str(), &s->db_, SQLITE_OPEN_READWRITE, nullptr);
    if (rc != SQLITE_OK) fail(path, s->db_, rc, "cannot open the session for writing");
    sqlite3_busy_timeout(s->db_, 5000);
    exec(s->db_, path, "PRAGMA foreign_keys = ON");
    const std::string mode = scalar_text(s->db_, path, "PRAGMA journal_mode = WAL");
    if (mode != "wal") throw Error(path + ": cannot use write-ahead logging here (journal mode stays '" + mode + "')");
    exec(s->db_, path, "PRAGMA synchronous = FULL");
    migrate(s->db_, path, version);
    return s;
}

SessionDb::~SessionDb() {
    if (db_) sqlite3_close(db_);
}

std::string SessionDb::journal_mode() const { return scalar_text(db_, path_, "PRAGMA journal_mode"); }

std::string SessionDb::integrity_check() const { return scalar_text(db_, path_, "PRAGMA integrity_check"); }

int64_t SessionDb::run_count() const { return scalar_int(db_, path_, "SELECT count(*) FROM runs"); }

std::set<std::string> SessionDb::grid_keys() const {
    std::set<std::string> keys;
    Stmt s = prepare(db_, path_, "SELECT grid_key FROM runs WHERE grid_key IS NOT NULL AND grid_key != ''");
    while (sqlite3_step(s.get()) == SQLITE_ROW) keys.insert(text_col(s.get(), 0));
    return keys;
}

std::optional<std::string> SessionDb::meta(const std::string& key) const {
    Stmt s = prepare(db_, path_, "SELECT value FROM session_meta WHERE key = ?1");
    bind_text(s.get(), 1, key);
    if (sqlite3_step(s.get()) != SQLITE_ROW) return std::nullopt;
    return text_col(s.get(), 0);
}

void SessionDb::set_meta(const std::string& key, const std::string& value) {
    if (read_only_) throw Error(path_ + ": opened read-only");
    Stmt s = prepare(db_, path_, "INSERT INTO session_meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    bind_text(s.get(), 1, key);
    bind_text(s.get(), 2, value);
    step_done(db_, path_, s.get());
}

void SessionDb::set_note(int64_t id, const std::string& note) {
    if (read_only_) throw Error(path_ + ": opened read-only");
    Stmt s = prepare(db_, path_, "UPDATE runs SET note = ?2 WHERE id = ?1");
    sqlite3_bind_int64(s.get(), 1, id);
    bind_text(s.get(), 2, note);
    step_done(db_, path_, s.get());
}

void SessionDb::set_tags(int64_t id, const std::vector<std::string>& tags) {
    if (read_only_) throw Error(path_ + ": opened read-only");
    Stmt s = prepare(db_, path_, "UPDATE runs SET tags = ?2 WHERE id = ?1");
    sqlite3_bind_int64(s.get(), 1, id);
    bind_text(s.get(), 2, join_tags(tags));
    step_done(db_, path_, s.get());
}

void SessionDb::delete_run(int64_t id) {
    if (read_only_) throw Error(path_ + ": opened read-only");
    Stmt s = prepare(db_, path_, "DELETE FROM runs WHERE id = ?1");
    sqlite3_bind_int64(s.get(), 1, id);
    step_done(db_, path_, s.get());
}

void SessionDb::copy_to(const std::string& dest) const { copy_database(db_, dest); }

int64_t SessionDb::add_run(const RunRecord& run) {
    if (read_only_) throw Error(path_ + ": opened read-only; save a copy to keep new runs");
    exec(db_, path_, "BEGIN IMMEDIATE", "cannot save the run");
    try {
        const int64_t id = run.id ? run.id : scalar_int(db_, path_, "SELECT IFNULL(MAX(id), 0) + 1 FROM runs");
        write_run(run, id);
        exec(db_, path_, "COMMIT", "cannot save the run");
        // Copy the log into the file now (without waiting for readers), so that the file alone,
        // copied by any tool, holds every finished run.
        sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        return id;
    } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

void SessionDb::add_runs(const std::vector<RunRecord>& runs) {
    if (read_only_) throw Error(path_ + ": opened read-only; save a copy to keep new runs");
    exec(db_, path_, "BEGIN IMMEDIATE", "cannot save the runs");
    try {
        int64_t next = scalar_int(db_, path_, "SELECT IFNULL(MAX(id), 0) + 1 FROM runs");
        for (const RunRecord& r : runs) {
            const int64_t id = r.id ? r.id : next;
            write_run(r, id);
            next = std::max(next, id + 1);
        }
        exec(db_, path_, "COMMIT", "cannot save the runs");
        sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

void SessionDb::write_run(const RunRecord& r, int64_t id) {
    sqlite3* db = db_;
    const std::string& path = path_;
    // The model and dataset this run used, registered once per (path, hash).
    Stmt add_model = prepare(db, path, "INSERT OR IGNORE INTO models (name, path, sha256) VALUES (?1, ?2, ?3)");
    bind_text(add_model.get(), 1, r.model_name);
    bind_text(add_model.get(), 2, r.model_path);
    bind_text(add_model.get(), 3, r.model_sha256);
    step_done(db, path, add_model.get());
    Stmt model_id = prepare(db, path, "SELECT id FROM models WHERE name = ?1 AND path = ?2 AND sha256 = ?3");
    bind_text(model_id.get(), 1, r.model_name);
    bind_text(model_id.get(), 2, r.model_path);
    bind_text(model_id.get(), 3, r.model_sha256);
    if (sqlite3_step(model_id.get()) != SQLITE_ROW) fail(path, db, SQLITE_ERROR, "cannot register the model");
    const int64_t mid = sqlite3_column_int64(model_id.get(), 0);
    Stmt add_data = prepare(db, path, "INSERT OR IGNORE INTO datasets (path, sha256) VALUES (?1, ?2)");
    bind_text(add_data.get(), 1, r.dataset_path);
    bind_text(add_data.get(), 2, r.dataset_sha256);
    step_done(db, path, add_data.get());
    Stmt data_id = prepare(db, path, "SELECT id FROM datasets WHERE path = ?1 AND sha256 = ?2");
    bind_text(data_id.get(), 1, r.dataset_path);
    bind_text(data_id.get(), 2, r.dataset_sha256);
    if (sqlite3_step(data_id.get()) != SQLITE_ROW) fail(path, db, SQLITE_ERROR, "cannot register the dataset");
    const int64_t did = sqlite3_column_int64(data_id.get(), 0);

    std::string values;
    for (int i = 1; i <= 42; ++i) values += (i > 1 ? ",?" : "?") + std::to_string(i);
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
    step_done(db, path, s);

    Stmt cls = prepare(db, path, "INSERT INTO run_class_accuracy (run_id, class_index, samples, accuracy, delta) VALUES (?1,?2,?3,?4,?5)");
    for (size_t c = 0; c < e.per_class_accuracy.size(); ++c) {
        sqlite3_bind_int64(cls.get(), 1, id);
        sqlite3_bind_int(cls.get(), 2, int(c));
        sqlite3_bind_int(cls.get(), 3, c < e.per_class_count.size() ? e.per_class_count[c] : 0);
        bind_real_or_null(cls.get(), 4, e.per_class_accuracy[c]);
        bind_real_or_null(cls.get(), 5, e.has_comparison && c < e.comparison.per_class_delta.size() ? e.comparison.per_class_delta[c]
                                                                                                     : std::nan(""));
        step_done(db, path, cls.get());
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
}

std::vector<RunRecord> SessionDb::runs() const {
    sqlite3* db = db_;
    const std::string& path = path_;
    std::vector<RunRecord> runs;
    std::string cols = kRunColumns;
    cols.replace(0, 2, "runs.id"); // "id" alone is ambiguous with the join
    Stmt s = prepare(db, path, "SELECT " + cols + ", IFNULL(m.sha256, '') FROM runs LEFT JOIN models m ON m.id = runs.model_id ORDER BY runs.id");
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
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
        r.model_sha256 = text_col(q, 42);
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
    for_each_row("SELECT run_id, samples, accuracy, delta FROM run_class_accuracy ORDER BY run_id, class_index", [](RunRecord& r, sqlite3_stmt* t) {
        r.result.per_class_count.push_back(sqlite3_column_int(t, 1));
        r.result.per_class_accuracy.push_back(real_or_nan(t, 2));
        if (r.result.has_comparison) r.result.comparison.per_class_delta.push_back(real_or_nan(t, 3));
    });
    for_each_row("SELECT run_id, layer_index, layer_name, share FROM run_expert_share ORDER BY run_id, layer_index, expert",
                 [](RunRecord& r, sqlite3_stmt* t) {
                     const size_t layer = size_t(sqlite3_column_int(t, 1));
                     EvalResult& e = r.result;
                     if (layer >= e.expert_share.size()) {
                         e.expert_share.resize(layer + 1);
                         e.moe_layers.resize(layer + 1);
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
                     if (l >= e.expert_stats.size() || classes < 1 || experts < 1 || bytes != classes * experts * 8) return; // ignored, not guessed
                     auto& counts = e.expert_stats[l].class_expert;
                     counts.resize(size_t(classes * experts));
                     std::memcpy(counts.data(), sqlite3_column_blob(t, 4), size_t(bytes));
                 });
    return runs;
}

} // namespace ss
