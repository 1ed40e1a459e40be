-- 0001: the first session schema (SparseScope 0.1, schema 1): runs, per-class accuracy, expert shares.
CREATE TABLE runs (
  id               INTEGER PRIMARY KEY,
  created_at       TEXT NOT NULL,
  model_name       TEXT NOT NULL,
  model_path       TEXT NOT NULL,
  dataset_path     TEXT NOT NULL,
  prune_method     TEXT NOT NULL,      -- 'none' | 'magnitude'
  sparsity_target  REAL NOT NULL,      -- 0..1
  quant            TEXT NOT NULL,      -- 'none' | 'int8'
  top_k_override   INTEGER NOT NULL,   -- 0 = model's own
  top_k            INTEGER NOT NULL,   -- effective top-k of the first MoE layer, 0 if none
  threads          INTEGER NOT NULL,
  samples          INTEGER NOT NULL,
  accuracy         REAL NOT NULL,      -- top-1, 0..1
  latency_p50_ms   REAL NOT NULL,      -- batch 1
  latency_p95_ms   REAL NOT NULL,
  throughput_sps   REAL NOT NULL,
  weight_bytes     INTEGER NOT NULL,
  sparsity         REAL NOT NULL       -- measured
);
CREATE TABLE run_class_accuracy (
  run_id       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  class_index  INTEGER NOT NULL,
  samples      INTEGER NOT NULL,
  accuracy     REAL,                   -- NULL when the class has no samples
  PRIMARY KEY (run_id, class_index)
);
CREATE TABLE run_expert_share (
  run_id       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  layer_index  INTEGER NOT NULL,
  layer_name   TEXT NOT NULL,
  expert       INTEGER NOT NULL,
  share        REAL NOT NULL,          -- of routed (row, slot) pairs; sums to 1 per layer
  PRIMARY KEY (run_id, layer_index, expert)
);
