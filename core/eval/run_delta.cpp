// run_delta.cpp
#include "eval/run_delta.h"

#include <cmath>
#include <limits>

namespace ss {

RunDelta run_delta(const RunRecord& run, const RunRecord& base) {
    const EvalResult &r = run.result, &b = base.result;
    RunDelta d;
    d.accuracy_points = 100.0 * (r.accuracy - b.accuracy);
    const bool side_by_side = r.has_comparison && b.has_comparison && r.comparison.throughput_ratio > 0 &&
                              b.comparison.throughput_ratio > 0 && r.comparison.latency_ratio > 0 && b.comparison.latency_ratio > 0;
    if (side_by_side) {
        d.via_dense = true;
        d.throughput_ratio = r.comparison.throughput_ratio / b.comparison.throughput_ratio;
        d.latency_ratio = r.comparison.latency_ratio / b.comparison.latency_ratio;
    } else {
        if (r.throughput_sps > 0 && b.throughput_sps > 0) d.throughput_ratio = r.throughput_sps / b.throughput_sps;
        if (r.latency_p50_ms > 0 && b.latency_p50_ms > 0) d.latency_ratio = b.latency_p50_ms / r.latency_p50_ms;
    }
    if (r.weight_bytes > 0 && b.weight_bytes > 0) d.weight_ratio = double(r.weight_bytes) / double(b.weight_bytes);
    const size_t classes = std::max(r.per_class_accuracy.size(), b.per_class_accuracy.size());
    d.per_class_points.assign(classes, std::numeric_limits<double>::quiet_NaN());
    for (size_t c = 0; c < classes; ++c)
        if (c < r.per_class_accuracy.size() && c < b.per_class_accuracy.size() && !std::isnan(r.per_class_accuracy[c]) &&
            !std::isnan(b.per_class_accuracy[c]))
            d.per_class_points[c] = 100.0 * (r.per_class_accuracy[c] - b.per_class_accuracy[c]);
    return d;
}

} // namespace ss
