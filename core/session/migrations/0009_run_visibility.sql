-- 0009: runs the user hides or deletes, and how busy the machine was while a run was measured.
-- A deleted run stays in the file (restorable) until the user purges deleted runs.
ALTER TABLE runs ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0; -- 1: left out of the table and the plots until shown again
ALTER TABLE runs ADD COLUMN deleted_at TEXT;                   -- UTC, ISO 8601, when deleted; NULL: not deleted
ALTER TABLE runs ADD COLUMN others_cpus REAL;                  -- CPUs kept busy by other processes during the evaluation, mean; NULL: not measured
