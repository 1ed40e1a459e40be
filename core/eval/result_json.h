// result_json.h - the JSON form of a run, as printed by `sparsescope-cli eval --json`.
#pragma once

#include "eval/run_record.h"

#include <string>

namespace ss {

// One JSON object: accuracy, samples, per_class_accuracy (NaN -> null), expert_share
// {layer: [..]}, latency_ms {p50, p95}, throughput_sps, weight_bytes, sparsity, and the spec.
std::string run_record_json(const RunRecord& r, const std::vector<std::string>& labels, int indent = -1);

} // namespace ss
