// result_json.h - the JSON form of a run, as printed by `sparsescope-cli eval --json`.
#pragma once

#include "eval/run_record.h"

#include <string>

namespace ss {

// One JSON object: accuracy, samples, per_class_accuracy (NaN -> null), expert_share
// {layer: [..]}, latency_ms {p50, p95}, throughput_sps, weight_bytes, sparsity, and the spec.
std::string run_record_json(const RunRecord& r, const std::vector<std::string>& labels, int indent = -1);

// A language model's run: perplexity, mean_nll, tokens_scored, ctx, chunks, expert_share {MoE
// layer index: [..]}, comparison {kld_mean, kld_p90/95/99, same_top_p, delta_p_mean, ppl_ratio,
// throughput_ratio, latency_ratio, faster_than_dense}, prompt_tps, gen_tps, weight_bytes,
// resident_bytes (the process's peak, as measured by the caller), sparsity, kernels, and the plan.
std::string lm_run_json(const RunRecord& r, int64_t resident_bytes, int indent = -1);

} // namespace ss
