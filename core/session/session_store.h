// session_store.h - a session file read or written whole (the CLI's exports, Save As of runs held
// in memory). Both go through SessionDb (session_db.h), which holds the schema and its migrations.
#pragma once

#include "eval/run_record.h"

#include <string>
#include <vector>

namespace ss {

// Writes all runs to PATH atomically: a new session is built in a temporary file beside it and
// renamed over PATH. Throws ss::Error naming the file on failure; PATH is then left unchanged.
void save_session(const std::string& path, const std::vector<RunRecord>& runs);

// Reads all runs, ordered by id. Throws ss::Error for a missing file, a file that is not a
// SparseScope session, one that is damaged, or one written by a newer schema. Never modifies
// PATH: an older schema is migrated in memory.
std::vector<RunRecord> load_session(const std::string& path);

} // namespace ss
