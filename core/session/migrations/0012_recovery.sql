-- 0012: runs whose model was fine-tuned to recover accuracy (train/finetune.h): how, in words, and
-- the curve epoch by epoch (epoch 0: where it started). A run without a row was not fine-tuned.
CREATE TABLE run_recovery (
  run_id  INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  method  TEXT NOT NULL  -- "5 epochs, lr 0.0005, batch 128, distilled T=2 weight 0.5, mask fixed"
);
CREATE TABLE run_recovery_epoch (
  run_id         INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch          INTEGER NOT NULL, -- 0, 1, 2, ... without gaps
  loss           REAL,             -- mean training loss; NULL at epoch 0
  train_accuracy REAL,             -- 0..1 over the epoch's batches; NULL at epoch 0
  test_accuracy  REAL,             -- 0..1 on the held-out split; NULL: not measured
  sparsity       REAL NOT NULL,
  seconds        REAL NOT NULL,    -- the epoch's training time
  PRIMARY KEY (run_id, epoch)
);
