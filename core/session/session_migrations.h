// session_migrations.h - the session schema as versioned migration files (core/session/migrations/NNNN_*.sql),
// compiled in. Migration i (0-based) takes a session from schema version i to i + 1; a new session
// applies them all. Each is applied in one transaction together with its PRAGMA user_version.
#pragma once

#include <vector>

namespace ss {

struct SessionMigration {
    const char* file; // "0003_plans.sql"
    const char* sql;
};

const std::vector<SessionMigration>& session_migrations();

} // namespace ss
