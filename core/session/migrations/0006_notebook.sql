-- 0006: the lab notebook. Models and datasets by path and SHA-256 (runs refer to them), session
-- settings, tags, the app version, the sweep grid point a run measured (for resuming), latency
-- samples, per-layer cost / sparsity / precision / kernels, per-class routing counts and expert
-- co-activation.
CREATE TABLE session_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE models (
  id     INTEGER PRIMARY KEY,
  name   TEXT NOT NULL,
  path   TEXT NOT NULL,
  sha256 TEXT NOT NULL DEFAULT '',   -- of the model's files; '' when unknown (runs before schema 6)
  UNIQUE (name, path, sha256)
);
CREATE TABLE datasets (
  id     INTEGER PRIMARY KEY,
  path   TEXT NOT NULL,
  sha256 TEXT NOT NULL DEFAULT '',
  UNIQUE (path, sha256)
);
INSERT INTO models (name, path) SELECT DISTINCT model_name, model_path FROM runs;
INSERT INTO datasets (path, sha256) SELECT DISTINCT dataset_path, IFNULL(dataset_sha256, '') FROM runs;
ALTER TABLE runs ADD COLUMN model_id INTEGER REFERENCES models(id);
ALTER TABLE runs ADD COLUMN dataset_id INTEGER REFERENCES datasets(id);
UPDATE runs SET model_id = (SELECT m.id FROM models m WHERE m.name = runs.model_name AND m.path = runs.model_path),
                dataset_id = (SELECT d.id FROM datasets d WHERE d.path = runs.dataset_path AND d.sha256 = IFNULL(runs.dataset_sha256, ''));
ALTER TABLE runs ADD COLUMN app_version TEXT;
ALTER TABLE runs ADD COLUMN tags TEXT;            -- comma-separated
ALTER TABLE runs ADD COLUMN grid_key TEXT;        -- the sweep grid point (plan, model and dataset hashes, samples)
ALTER TABLE runs ADD COLUMN latency_samples BLOB; -- batch-1 times, float32 little-endian, milliseconds
CREATE INDEX runs_grid_key ON runs (grid_key);
CREATE TABLE run_layer (
  run_id         INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  layer_index    INTEGER NOT NULL,   -- top-level layer, in model order
  name           TEXT NOT NULL,
  kind           TEXT NOT NULL,      -- linear | moe | activation | layernorm | dropout
  batch1_us      REAL NOT NULL,      -- mean time per batch-1 forward
  resident_bytes INTEGER NOT NULL,   -- weights as the kernels keep them, biases included
  weights        INTEGER NOT NULL,   -- weight count (experts and router included)
  zero_weights   INTEGER NOT NULL,
  precision      TEXT NOT NULL,      -- fp32 | fp16 | bf16 | int8 | int4:g32 | ... | mixed | '' (no weights)
  kernels        TEXT NOT NULL,      -- at batch 1 / batch 256, e.g. 'csr-rows / csr-panel' (counted in MoE layers)
  PRIMARY KEY (run_id, layer_index)
);
CREATE TABLE run_class_expert (
  run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  layer_index INTEGER NOT NULL,      -- MoE layer, in model order
  classes     INTEGER NOT NULL,
  experts     INTEGER NOT NULL,
  routed      BLOB NOT NULL,         -- (classes, experts) int64 little-endian: (row, slot) pairs of each true class sent to each expert
  PRIMARY KEY (run_id, layer_index)
);
CREATE TABLE run_coactivation (
  run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  layer_index INTEGER NOT NULL,      -- MoE layer, in model order
  experts     INTEGER NOT NULL,
  rows_both   BLOB NOT NULL,         -- (experts, experts) int64 little-endian: rows that chose both experts (top-k >= 2)
  PRIMARY KEY (run_id, layer_index)
);
