// sqlite_util.h - the few SQLite C API helpers the session code shares: statements that finalize
// themselves, and failures turned into ss::Error naming the file and saying why in the user's terms.
#pragma once

#include "error.h"

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>

namespace ss::sqlite {

struct StmtFinalizer {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// Why SQLite refused (locked, not a database, damaged, read-only, disk full, ...).
std::string reason(sqlite3* db, int rc);
[[noreturn]] void fail(const std::string& path, sqlite3* db, int rc, const std::string& what = {});
void exec(sqlite3* db, const std::string& path, const std::string& sql, const std::string& what = {});
Stmt prepare(sqlite3* db, const std::string& path, const std::string& sql);
int64_t scalar_int(sqlite3* db, const std::string& path, const std::string& sql);
std::string scalar_text(sqlite3* db, const std::string& path, const std::string& sql);
void step_done(sqlite3* db, const std::string& path, sqlite3_stmt* s); // steps to SQLITE_DONE, then resets
std::string text_col(sqlite3_stmt* s, int i);   // "" for NULL
double real_or_nan(sqlite3_stmt* s, int i);     // NaN for NULL
void bind_text(sqlite3_stmt* s, int i, const std::string& v);
void bind_real_or_null(sqlite3_stmt* s, int i, double v); // NULL for NaN

} // namespace ss::sqlite
