-- 0008: sweeps sharing one session. A grid point is stored once: runs.grid_key becomes unique
-- (sweeps before this version could store a point twice when two ran at once; the earliest run
-- keeps the key, later copies stay as ordinary runs without one). grid_claims holds the points a
-- sweep is measuring right now, so that a second sweep into the same file takes other points.
UPDATE runs SET grid_key = NULL WHERE grid_key = '';
UPDATE runs SET grid_key = NULL
 WHERE grid_key IS NOT NULL AND id NOT IN (SELECT MIN(id) FROM runs WHERE grid_key IS NOT NULL GROUP BY grid_key);
DROP INDEX runs_grid_key;
CREATE UNIQUE INDEX runs_grid_key ON runs (grid_key);  -- NULLs (runs outside sweeps) never collide
CREATE TABLE grid_claims (
  grid_key   TEXT PRIMARY KEY,
  host       TEXT NOT NULL,      -- gethostname() of the claiming sweep
  pid        INTEGER NOT NULL,   -- its process id ...
  started    INTEGER NOT NULL,   -- ... and that process's start time (clock ticks after boot), so a reused pid is not mistaken for it
  claimed_at TEXT NOT NULL       -- UTC, ISO 8601
) WITHOUT ROWID;
