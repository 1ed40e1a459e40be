-- 0003: the whole compression plan as JSON, FLOPs, and the comparison with the dense model.
ALTER TABLE runs ADD COLUMN plan_json TEXT;
ALTER TABLE runs ADD COLUMN flops_per_sample REAL;   -- dense-equivalent
ALTER TABLE runs ADD COLUMN baseline_accuracy REAL;  -- NULL when the run has no dense comparison
ALTER TABLE runs ADD COLUMN agreement REAL;
ALTER TABLE runs ADD COLUMN mean_kl REAL;
ALTER TABLE runs ADD COLUMN delta_ci_low REAL;
ALTER TABLE runs ADD COLUMN delta_ci_high REAL;
ALTER TABLE runs ADD COLUMN gained INTEGER;
ALTER TABLE runs ADD COLUMN lost INTEGER;
ALTER TABLE run_class_accuracy ADD COLUMN delta REAL; -- minus the dense model's accuracy
