-- 0010: what one accuracy number hides. Per class the samples that flipped each way and the exact
-- McNemar p-value of the change (raw and Holm-adjusted over the classes); every flipped sample;
-- reliability-diagram bins of both models; accuracy under each corruption and severity.
ALTER TABLE run_class_accuracy ADD COLUMN lost INTEGER;     -- right under dense, wrong compressed
ALTER TABLE run_class_accuracy ADD COLUMN gained INTEGER;   -- the reverse
ALTER TABLE run_class_accuracy ADD COLUMN p_mcnemar REAL;   -- NULL: no sample of the class changed
ALTER TABLE run_class_accuracy ADD COLUMN p_holm REAL;
CREATE TABLE run_flipped (
  run_id       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  sample       INTEGER NOT NULL,   -- index in the evaluated set
  label        INTEGER NOT NULL,
  dense_pred   INTEGER NOT NULL,
  pred         INTEGER NOT NULL,
  dense_p_true REAL NOT NULL,      -- softmax probability of the true class, dense
  p_true       REAL NOT NULL       -- the same, compressed
);
CREATE INDEX run_flipped_run ON run_flipped (run_id);
CREATE TABLE run_reliability (
  run_id          INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  model           TEXT NOT NULL,   -- 'compressed' or 'dense'
  bin             INTEGER NOT NULL, -- 0.. over equal-width bins of the max softmax, (bin/B, (bin+1)/B]
  bins            INTEGER NOT NULL,
  count           INTEGER NOT NULL,
  mean_confidence REAL NOT NULL,
  accuracy        REAL NOT NULL
);
CREATE TABLE run_corruption (
  run_id         INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  position       INTEGER NOT NULL, -- the order measured: corruption-major, severities as asked
  corruption     TEXT NOT NULL,    -- corruptions.h names: gaussian_noise, ..., shift
  severity       INTEGER NOT NULL,
  accuracy       REAL NOT NULL,
  dense_accuracy REAL              -- NULL: not measured
);
