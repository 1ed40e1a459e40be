// grid_claims.cpp - SessionDb's grid claims: sweeps sharing one session file take each grid point
// once (session_db.h). A claim names the claiming process (host, pid and the process's start time);
// it lapses when that process is gone from this host, or after kClaimLifetime anywhere (a sweep
// on another machine that died). Claiming is one BEGIN IMMEDIATE transaction: SQLite's writer lock
// makes "is it done, is it claimed, claim it" atomic across processes.
#include "session/session_db.h"

#include "eval/run_record.h"
#include "session/sqlite_util.h"

#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

namespace ss {

using namespace sqlite;

namespace {

constexpr int64_t kClaimLifetimeSeconds = 24 * 3600;

std::string this_host() {
    char name[256] = {};
    if (gethostname(name, sizeof name - 1) != 0) return "localhost";
    return name;
}

// Start time of process `pid` in clock ticks after boot (/proc/PID/stat, field 22); -1 when no
// such process runs.
int64_t process_start(int64_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(in, line)) return -1;
    const size_t close = line.rfind(')'); // the command name (field 2) may hold spaces and parentheses
    if (close == std::string::npos) return -1;
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    for (int i = 3; i <= 22 && rest >> field; ++i)
        if (i == 22) return std::stoll(field);
    return -1;
}

// Seconds since an ISO 8601 UTC time ("2026-11-30T08:00:00Z"); a huge value if it does not parse.
int64_t seconds_since(const std::string& iso) {
    std::tm tm{};
    if (!strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) return INT64_MAX / 2;
    return int64_t(std::time(nullptr)) - int64_t(timegm(&tm));
}

} // namespace

GridClaim SessionDb::claim_grid_point(const std::string& key) {
    if (read_only_) throw Error(path_ + ": opened read-only");
    const std::string host = this_host();
    const int64_t pid = getpid(), started = process_start(getpid());
    exec(db_, path_, "BEGIN IMMEDIATE", "cannot claim a grid point");
    try {
        GridClaim out{GridClaim::State::Claimed, {}};
        Stmt done = prepare(db_, path_, "SELECT id FROM runs WHERE grid_key = ?1");
        bind_text(done.get(), 1, key);
        if (sqlite3_step(done.get()) == SQLITE_ROW) {
            out = {GridClaim::State::Done, "run " + std::to_string(sqlite3_column_int64(done.get(), 0))};
        } else {
            Stmt held = prepare(db_, path_, "SELECT host, pid, started, claimed_at FROM grid_claims WHERE grid_key = ?1");
            bind_text(held.get(), 1, key);
            if (sqlite3_step(held.get()) == SQLITE_ROW) {
                const std::string h = text_col(held.get(), 0), at = text_col(held.get(), 3);
                const int64_t p = sqlite3_column_int64(held.get(), 1), s = sqlite3_column_int64(held.get(), 2);
                const bool mine = h == host && p == pid && s == started;
                const bool gone = h == host && process_start(p) != s; // that process ended (or the pid is another's now)
                if (!mine && !gone && seconds_since(at) < kClaimLifetimeSeconds)
                    out = {GridClaim::State::Taken, "process " + std::to_string(p) + " on " + h + " since " + at};
            }
            if (out.state == GridClaim::State::Claimed) {
                Stmt claim = prepare(db_, path_, "INSERT OR REPLACE INTO grid_claims VALUES (?1, ?2, ?3, ?4, ?5)");
                bind_text(claim.get(), 1, key);
                bind_text(claim.get(), 2, host);
                sqlite3_bind_int64(claim.get(), 3, pid);
                sqlite3_bind_int64(claim.get(), 4, started);
                bind_text(claim.get(), 5, utc_now_iso8601());
                step_done(db_, path_, claim.get());
            }
        }
        exec(db_, path_, "COMMIT", "cannot claim a grid point");
        return out;
    } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

void SessionDb::release_grid_claim(const std::string& key) {
    if (read_only_) return;
    Stmt s = prepare(db_, path_, "DELETE FROM grid_claims WHERE grid_key = ?1 AND host = ?2 AND pid = ?3");
    bind_text(s.get(), 1, key);
    bind_text(s.get(), 2, this_host());
    sqlite3_bind_int64(s.get(), 3, getpid());
    step_done(db_, path_, s.get());
}

int64_t SessionDb::grid_claim_count() const {
    return scalar_int(db_, path_, "SELECT count(*) FROM grid_claims");
}

} // namespace ss
