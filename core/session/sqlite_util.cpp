// sqlite_util.cpp
#include "session/sqlite_util.h"

#include <cmath>
#include <limits>

namespace ss::sqlite {

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

void fail(const std::string& path, sqlite3* db, int rc, const std::string& what) {
    throw Error(path + ": " + (what.empty() ? "" : what + ": ") + reason(db, rc));
}

void exec(sqlite3* db, const std::string& path, const std::string& sql, const std::string& what) {
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

} // namespace ss::sqlite
