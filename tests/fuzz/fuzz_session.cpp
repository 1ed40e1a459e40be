// fuzz_session.cpp - libFuzzer target: any bytes as a session file, opened read-only (older
// schemas are migrated in memory) and read as the sessions commands read it. Only ss::Error may
// escape; a damaged run is reported, not fatal.
#include "error.h"
#include "fuzz_support.h"
#include "session/session_db.h"

#include <cstdio>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = fuzz::write_temp("session.sparsescope", data, size);
    std::remove((path + "-wal").c_str());
    std::remove((path + "-shm").c_str());
    try {
        auto db = ss::SessionDb::open(path, ss::SessionAccess::ReadOnly);
        std::vector<std::string> damaged;
        const auto runs = db->runs(&damaged);
        (void)db->grid_keys();
        (void)db->meta("baseline_run");
        volatile size_t n = runs.size() + damaged.size();
        (void)n;
    } catch (const ss::Error&) {
    }
    return 0;
}
