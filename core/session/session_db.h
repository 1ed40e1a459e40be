// session_db.h - a session file held open: the user's lab notebook as SQLite (session_db.cpp:
// opening, checks, migrations; session_runs.cpp: runs written and read; sqlite_util.h: helpers).
//
// The schema is core/session/migrations/NNNN_*.sql (session_migrations.h); PRAGMA user_version counts the
// migrations applied and PRAGMA application_id marks the file as a SparseScope session. Opened for
// writing, a session runs in WAL mode with foreign keys on and synchronous=FULL, and every run is
// committed in its own transaction the moment add_run is called: a crash or kill -9 loses at most
// the run being measured. Before a file is migrated in place, a copy is written beside it
// (FILE.vN.bak). Files that are not sessions, from a newer SparseScope, damaged, read-only or
// locked are refused with a message naming the file and the reason, and are never modified.
#pragma once

#include "error.h"
#include "eval/run_record.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

struct sqlite3;

namespace ss {

int session_schema_version(); // the newest: the number of migration files

// Thrown by SessionDb::open(ReadWrite) for a file that may not be written; it can be opened ReadOnly.
class ReadOnlySessionError : public Error {
public:
    using Error::Error;
};

enum class SessionAccess {
    ReadWrite, // create when missing; migrate an older schema in place (after a backup)
    ReadOnly,  // never writes: an older schema is migrated in memory only
};

// What claim_grid_point found.
struct GridClaim {
    enum class State {
        Claimed, // now ours: measure it
        Done,    // a run holds it already (holder: "run N")
        Taken,   // another running sweep is measuring it (holder says which process, since when)
    } state;
    std::string holder;
};

// Whether runs() returns the runs the user deleted (kept in the file until purge_deleted).
enum class DeletedRuns { Skip, Include };

class SessionDb {
public:
    static std::unique_ptr<SessionDb> open(const std::string& path, SessionAccess access = SessionAccess::ReadWrite);
    ~SessionDb();
    SessionDb(const SessionDb&) = delete;
    SessionDb& operator=(const SessionDb&) = delete;

    const std::string& path() const { return path_; }
    bool read_only() const { return read_only_; }
    int found_version() const { return found_version_; } // the file's schema version when opened (0: created)
    const std::string& backup_path() const { return backup_path_; } // written before migrating; else empty
    std::string journal_mode() const;                                // "wal" for files opened for writing

    // Every run, by id; deleted ones only when asked for. A damaged run (plan JSON that does not
    // parse, an unknown task, per-run rows out of order) throws ss::Error naming it — unless
    // `damaged` is given: then that run is left out, the message appended there, and the others
    // are returned.
    std::vector<RunRecord> runs(std::vector<std::string>* damaged = nullptr, DeletedRuns deleted = DeletedRuns::Skip) const;
    int64_t run_count() const;     // runs not deleted
    int64_t deleted_count() const; // deleted runs still in the file
    std::set<std::string> grid_keys() const; // of the runs that have one (finished sweep points)

    // Commits one run (and its per-class, per-expert, per-layer rows) in its own transaction.
    // run.id == 0, or an id another writer has taken since: the next free id. Returns the id used.
    // Throws ss::Error (nothing written) on failure - also when the run's grid key is already held
    // by another run (a grid point is stored once).
    int64_t add_run(const RunRecord& run);
    // Many runs in one transaction (imports, merges, Save As of runs held in memory).
    void add_runs(const std::vector<RunRecord>& runs);
    // Sweeps sharing the file (grid_claims.cpp). A sweep claims each grid point before measuring
    // it; add_run of a run with that grid key stores it and drops the claim in one transaction.
    // A claim lapses when its process is gone from this host, or after 24 hours.
    GridClaim claim_grid_point(const std::string& grid_key);
    void release_grid_claim(const std::string& grid_key); // the measurement failed: others may take it
    int64_t grid_claim_count() const;

    void set_note(int64_t id, const std::string& note);
    // The card of the dataset at (path, sha256), as runs on it record it (dataset_card.h JSON):
    // provenance the user completed, leakage checked after the runs. Returns how many dataset rows
    // took it (0: no run of this session used that data yet).
    int set_dataset_card(const std::string& path, const std::string& sha256, const std::string& card);
    void set_tags(int64_t id, const std::vector<std::string>& tags);
    // What the user hides and deletes. Both throw ss::Error for an id the session does not hold.
    // A deleted run stays in the file (restorable with set_deleted(id, false)) until purged.
    void set_hidden(int64_t id, bool hidden);
    void set_deleted(int64_t id, bool deleted); // deleted_at = now (UTC) / NULL
    // Removes every deleted run for good, its pages overwritten with zeros (secure_delete) and the
    // write-ahead log truncated, so no copy of them is left in the file. Returns how many.
    int64_t purge_deleted();
    void delete_run(int64_t id); // at once and for good; its rows in the other tables go with it (ON DELETE CASCADE)

    // Session-wide settings ("baseline_run", "title", ...).
    std::optional<std::string> meta(const std::string& key) const;
    void set_meta(const std::string& key, const std::string& value);

    // A consistent copy of the whole session at `dest` (SQLite's online backup), written to a
    // temporary file and renamed over `dest`.
    void copy_to(const std::string& dest) const;

    // PRAGMA integrity_check: "ok", or the first problem found.
    std::string integrity_check() const;

private:
    SessionDb() = default;
    void write_run(const RunRecord& run, int64_t id);

    sqlite3* db_ = nullptr;
    std::string path_;
    bool read_only_ = false;
    int found_version_ = 0;
    std::string backup_path_;
};

} // namespace ss
