// session_store.cpp
#include "session/session_store.h"

#include "error.h"
#include "session/session_db.h"

#include <cstdio>

namespace ss {

void save_session(const std::string& path, const std::vector<RunRecord>& runs) {
    const std::string tmp = path + ".saving";
    for (const char* side : {"", "-wal", "-shm"}) std::remove((tmp + side).c_str());
    try {
        std::unique_ptr<SessionDb> db = SessionDb::open(tmp, SessionAccess::ReadWrite);
        db->add_runs(runs);
    } catch (...) { // closed above: remove what was written
        for (const char* side : {"", "-wal", "-shm"}) std::remove((tmp + side).c_str());
        throw;
    }
    // Closing checkpointed the log into the file; a new WAL starts when PATH is next opened.
    for (const char* side : {"-wal", "-shm"}) std::remove((path + side).c_str());
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw Error(path + ": cannot replace the session file");
    }
}

std::vector<RunRecord> load_session(const std::string& path) { return SessionDb::open(path, SessionAccess::ReadOnly)->runs(); }

} // namespace ss
