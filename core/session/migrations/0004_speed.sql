-- 0004: speed against dense timed side by side, the kernels that ran, the machine.
ALTER TABLE runs ADD COLUMN throughput_ratio REAL; -- compressed / dense samples per second
ALTER TABLE runs ADD COLUMN latency_ratio REAL;    -- dense / compressed batch-1 p50
ALTER TABLE runs ADD COLUMN kernels TEXT;
ALTER TABLE runs ADD COLUMN machine TEXT;          -- CPU, cores, ISA, OpenBLAS version and core
