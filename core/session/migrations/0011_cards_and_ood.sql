-- 0011: each dataset's card (data/dataset_card.h): what SparseScope measured of it, the provenance
-- read from a sidecar or entered by the user, and the train/test leakage found, as one JSON object.
ALTER TABLE datasets ADD COLUMN card TEXT; -- NULL: no card (runs before schema 11, token data)
-- Out-of-distribution separation of each run (eval/ood_eval.h), per model and score, with what the
-- plots need: the ROC curve and both sets' score histograms.
CREATE TABLE run_ood (
  run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  model     TEXT NOT NULL,     -- 'compressed' or 'dense'
  score     TEXT NOT NULL,     -- 'msp' (max softmax) or 'energy' (negative energy)
  set_name  TEXT NOT NULL,     -- the OOD samples: 'glyphs', 'noise' or a path
  in_count  INTEGER NOT NULL,
  out_count INTEGER NOT NULL,
  auroc     REAL NOT NULL,
  aupr_in   REAL NOT NULL,
  aupr_out  REAL NOT NULL,
  fpr95     REAL NOT NULL,
  curves    TEXT NOT NULL,     -- JSON: roc_fpr, roc_tpr (<= 256 points), hist_lo, hist_hi, in_hist, out_hist (30 bins)
  PRIMARY KEY (run_id, model, score)
);
-- How many samples each corruption was measured on (the first N of the run's; NULL before schema 11:
-- not recorded).
ALTER TABLE run_corruption ADD COLUMN samples INTEGER;
-- User-defined slices of each run (eval/slices.h): groups of samples tested like classes.
CREATE TABLE run_slice (
  run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  position  INTEGER NOT NULL, -- the order given
  name      TEXT NOT NULL,
  count     INTEGER NOT NULL,
  lost      INTEGER NOT NULL,
  gained    INTEGER NOT NULL,
  p_mcnemar REAL,             -- NULL: no sample of the slice changed
  p_holm    REAL,
  PRIMARY KEY (run_id, position)
);
