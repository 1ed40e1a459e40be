-- 0007: runs of any evaluation task. `task` names what was evaluated (classification, or
-- language_modeling); run_metric holds the task's metrics by name (accuracy, perplexity, KL ...),
-- so readers that do not know a task can still list, plot and compare its figures.
ALTER TABLE runs ADD COLUMN task TEXT NOT NULL DEFAULT 'classification';
CREATE TABLE run_metric (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name   TEXT NOT NULL,      -- e.g. accuracy, agreement, mean_kl, perplexity, kld_p99
  value  REAL,               -- NULL where undefined (NaN)
  PRIMARY KEY (run_id, name)
) WITHOUT ROWID;
-- Earlier runs are classification runs: their metrics, from the columns they were stored in.
INSERT INTO run_metric (run_id, name, value) SELECT id, 'accuracy', accuracy FROM runs;
INSERT INTO run_metric (run_id, name, value) SELECT id, 'agreement', agreement FROM runs WHERE baseline_accuracy IS NOT NULL;
INSERT INTO run_metric (run_id, name, value) SELECT id, 'mean_kl', mean_kl FROM runs WHERE baseline_accuracy IS NOT NULL;
INSERT INTO run_metric (run_id, name, value) SELECT id, 'accuracy_delta', accuracy - baseline_accuracy FROM runs WHERE baseline_accuracy IS NOT NULL;
