-- 0005: the user's note on each run.
ALTER TABLE runs ADD COLUMN note TEXT;
