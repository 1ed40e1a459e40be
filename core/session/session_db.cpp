// session_db.cpp
#include "session/session_db.h"

#include "error.h"
#include "formats/file_io.h"
#include "session/session_migrations.h"
#include "session/sqlite_util.h"

#include <sqlite3.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace ss {

using namespace sqlite;

namespace {

constexpr int kApplicationId = 0x53537331; // "SSs1"

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


// A new session is built whole under a temporary name beside `path` (schema applied, WAL mode),
// then linked into place - link() fails if `path` exists - so a reader, or a second process
// creating the same session at the same moment, never sees a half-made file. Returns false when
// another process created `path` first (its file is then used).
bool create_session_file(const std::string& path) {
    const std::string tmp = path + ".creating." + std::to_string(getpid());
    auto remove_tmp = [&] {
        std::remove(tmp.c_str());
        std::remove((tmp + "-wal").c_str());
        std::remove((tmp + "-shm").c_str());
    };
    remove_tmp();
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(tmp.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    try {
        if (rc != SQLITE_OK) fail(path, db, rc, "cannot create the session");
        exec(db, path, "PRAGMA foreign_keys = ON");
        if (scalar_text(db, path, "PRAGMA journal_mode = WAL") != "wal")
            throw Error(path + ": cannot use write-ahead logging here (a file system without shared memory?)");
        migrate(db, path, 0);
    } catch (...) {
        sqlite3_close(db);
        remove_tmp();
        throw;
    }
    rc = sqlite3_close(db); // the last connection: the log is copied into the file and removed
    if (rc != SQLITE_OK) {
        remove_tmp();
        throw Error(path + ": cannot create the session: " + reason(nullptr, rc));
    }
    bool placed = ::link(tmp.c_str(), path.c_str()) == 0;
    int err = placed ? 0 : errno;
    if (!placed && err != EEXIST) { // a file system without hard links: rename, never over an existing file
        placed = ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) == 0;
        err = placed ? 0 : errno;
    }
    remove_tmp();
    if (placed || err == EEXIST) return placed;
    throw Error(path + ": cannot create the session: " + std::strerror(err));
}

} // namespace

int session_schema_version() { return int(session_migrations().size()); }

namespace {
// Bytes 18-19 of the header: 2 = the file is in WAL mode.
bool wal_header(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    unsigned char head[20] = {};
    return in.read(reinterpret_cast<char*>(head), 20) && head[18] == 2 && head[19] == 2;
}

// True when the file starts with the SQLite header (it may still not be a session).
bool looks_like_sqlite(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    char head[16] = {};
    return in.read(head, 16) && std::memcmp(head, "SQLite format 3", 16) == 0;
}
} // namespace

std::unique_ptr<SessionDb> SessionDb::open(const std::string& path, SessionAccess access) {
    std::unique_ptr<SessionDb> s(new SessionDb);
    s->path_ = path;
    s->read_only_ = access == SessionAccess::ReadOnly;
    const bool exists = file_exists(path);
    if (exists && is_directory(path)) throw Error(path + ": is a directory, expected a session file");
    if (!exists && s->read_only_) throw Error(path + ": no such file");

    bool created = false;
    if (!exists) created = create_session_file(path); // false: another process created it meanwhile

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
    if (created) s->found_version_ = 0;
    return s;
}

SessionDb::~SessionDb() {
    if (db_) sqlite3_close(db_);
}

std::string SessionDb::journal_mode() const { return scalar_text(db_, path_, "PRAGMA journal_mode"); }

std::string SessionDb::integrity_check() const { return scalar_text(db_, path_, "PRAGMA integrity_check"); }

int64_t SessionDb::run_count() const { return scalar_int(db_, path_, "SELECT count(*) FROM runs WHERE deleted_at IS NULL"); }

int64_t SessionDb::deleted_count() const { return scalar_int(db_, path_, "SELECT count(*) FROM runs WHERE deleted_at IS NOT NULL"); }

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

int SessionDb::set_dataset_card(const std::string& path, const std::string& sha256, const std::string& card) {
    if (read_only_) throw Error(path_ + ": opened read-only");
    Stmt s = prepare(db_, path_, "UPDATE datasets SET card = ?3 WHERE path = ?1 AND sha256 = ?2");
    bind_text(s.get(), 1, path);
    bind_text(s.get(), 2, sha256);
    bind_text(s.get(), 3, card);
    step_done(db_, path_, s.get());
    return sqlite3_changes(db_);
}

void SessionDb::set_note(int64_t id, const std::string& note) {
    if (read_only_) throw Error(path_ + ": opened read-only");
    Stmt s = prepare(db_, path_, "UPDATE runs SET note = ?2 WHERE id = ?1");
    sqlite3_bind_int64(s.get(), 1, id);
    bind_text(s.get(), 2, note);
    step_done(db_, path_, s.get());
}

namespace {
// Runs `sql` (?1 = id, ?2 = the value) on one run; throws when no run has that id.
void update_run(sqlite3* db, const std::string& path, const std::string& sql, int64_t id, const std::string* text, int value) {
    Stmt s = prepare(db, path, sql);
    sqlite3_bind_int64(s.get(), 1, id);
    if (text) bind_text(s.get(), 2, *text);
    else sqlite3_bind_int(s.get(), 2, value);
    step_done(db, path, s.get());
    if (sqlite3_changes(db) != 1) throw Error(path + ": no run " + std::to_string(id) + " in this session");
}
} // namespace

void SessionDb::set_hidden(int64_t id, bool hidden) {
    if (read_only_) throw Error(path_ + ": opened read-only");
    update_run(db_, path_, "UPDATE runs SET hidden = ?2 WHERE id = ?1", id, nullptr, hidden ? 1 : 0);
}

void SessionDb::set_deleted(int64_t id, bool deleted) {
    if (read_only_) throw Error(path_ + ": opened read-only");
    if (!deleted) return update_run(db_, path_, "UPDATE runs SET deleted_at = NULL WHERE id = ?1 AND ?2 = 0", id, nullptr, 0);
    const std::string now = utc_now_iso8601();
    update_run(db_, path_, "UPDATE runs SET deleted_at = ?2 WHERE id = ?1", id, &now, 0);
}

int64_t SessionDb::purge_deleted() {
    if (read_only_) throw Error(path_ + ": opened read-only");
    exec(db_, path_, "PRAGMA secure_delete = ON");
    exec(db_, path_, "BEGIN IMMEDIATE", "cannot purge deleted runs");
    int64_t n = 0;
    try {
        // Rows of the other tables go with their run (ON DELETE CASCADE); models and datasets no run
        // uses any more go too, and a baseline that was purged falls back to the dense model.
        exec(db_, path_, "DELETE FROM runs WHERE deleted_at IS NOT NULL", "cannot purge deleted runs");
        n = sqlite3_changes(db_);
        exec(db_, path_,
             "DELETE FROM models WHERE id NOT IN (SELECT model_id FROM runs WHERE model_id IS NOT NULL);"
             "DELETE FROM datasets WHERE id NOT IN (SELECT dataset_id FROM runs WHERE dataset_id IS NOT NULL);"
             "UPDATE session_meta SET value = '0' WHERE key = 'baseline_run' AND CAST(value AS INTEGER) NOT IN (SELECT id FROM runs)",
             "cannot purge deleted runs");
        exec(db_, path_, "COMMIT", "cannot purge deleted runs");
    } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        exec(db_, path_, "PRAGMA secure_delete = OFF");
        throw;
    }
    exec(db_, path_, "PRAGMA secure_delete = OFF");
    // The log holds the pages as they were before the purge: copied into the file and truncated.
    sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
    return n;
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
        // The given id, unless another writer (a sweep into the same session) took it meanwhile.
        int64_t id = run.id;
        if (id == 0 || scalar_int(db_, path_, "SELECT count(*) FROM runs WHERE id = " + std::to_string(id)) > 0)
            id = scalar_int(db_, path_, "SELECT IFNULL(MAX(id), 0) + 1 FROM runs");
        if (!run.grid_key.empty()) {
            Stmt held = prepare(db_, path_, "SELECT id FROM runs WHERE grid_key = ?1");
            bind_text(held.get(), 1, run.grid_key);
            if (sqlite3_step(held.get()) == SQLITE_ROW)
                throw Error(path_ + ": run " + std::to_string(sqlite3_column_int64(held.get(), 0)) +
                            " already holds this grid point (grid_key " + run.grid_key.substr(0, 16) + "...); a grid point is stored once");
            Stmt release = prepare(db_, path_, "DELETE FROM grid_claims WHERE grid_key = ?1");
            bind_text(release.get(), 1, run.grid_key);
            step_done(db_, path_, release.get());
        }
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

} // namespace ss
