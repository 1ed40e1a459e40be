-- 0002: preprocessing of each run's input (x = (raw * scale - mean) / std) and the dataset's SHA-256.
ALTER TABLE runs ADD COLUMN input_scale REAL;
ALTER TABLE runs ADD COLUMN input_mean REAL;
ALTER TABLE runs ADD COLUMN input_std REAL;
ALTER TABLE runs ADD COLUMN dataset_sha256 TEXT;
