// run_delta.h - how one run differs from another chosen as the baseline: accuracy in points, speed
// as ratios, per-class changes.
#pragma once

#include "eval/run_record.h"

#include <vector>

namespace ss {

struct RunDelta {
    double accuracy_points = 0.0;  // (run - base) top-1, percentage points
    double throughput_ratio = 0.0; // run / base samples per second (> 1: run is faster); 0 if unknown
    double latency_ratio = 0.0;    // base / run batch-1 p50 (> 1: run is faster); 0 if unknown
    // True when both runs were timed side by side with the dense model: the ratios are then the
    // quotient of those side-by-side ratios, which cancels the machine's drift between the runs.
    // False: the runs' own timings, taken at different times (noise up to kSpeedNoise and more).
    bool via_dense = false;
    double weight_ratio = 0.0;           // run / base resident weight bytes; 0 if unknown
    std::vector<double> per_class_points; // (classes) run - base accuracy, points; NaN where either lacks the class
};

RunDelta run_delta(const RunRecord& run, const RunRecord& base);

} // namespace ss
