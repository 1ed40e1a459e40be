// session_store.h - a session is a SQLite file of runs.
//
// Schema version is PRAGMA user_version (kSessionSchemaVersion); PRAGMA application_id marks the
// file as a SparseScope session. Tables: runs, run_class_accuracy, run_expert_share (see
// session_store.cpp). A file from a newer SparseScope is refused, never rewritten.
#pragma once

#include "run_record.h"

#include <string>
#include <vector>

namespace ss {

inline constexpr int kSessionSchemaVersion = 5; // 2: preprocessing, dataset hash; 3: plan, comparison; 4: speed, kernels, machine; 5: note
inline constexpr int kSessionApplicationId = 0x53537331; // "SSs1"

// Writes all runs to PATH atomically (a temporary file renamed over PATH), replacing any
// previous content. Throws ss::Error naming the file on failure; PATH is then left unchanged.
void save_session(const std::string& path, const std::vector<RunRecord>& runs);

// Reads all runs, ordered by id. Throws ss::Error for a missing file, a file that is not a
// SparseScope session, or a session written by a newer schema version. Never modifies PATH.
std::vector<RunRecord> load_session(const std::string& path);

} // namespace ss
