// result_json.cpp
#include "result_json.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace ss {

std::string run_record_json(const RunRecord& r, const std::vector<std::string>& labels, int indent) {
    using nlohmann::json;
    const EvalResult& e = r.result;
    json j;
    j["model"] = r.model_name;
    j["model_path"] = r.model_path;
    j["dataset"] = r.dataset_path;
    j["dataset_sha256"] = r.dataset_sha256;
    j["input"] = {{"scale", r.input.scale}, {"mean", r.input.mean}, {"std", r.input.std}};
    j["prune"] = r.spec.prune_label();
    j["quant"] = r.spec.quant_label();
    j["top_k"] = e.top_k;
    j["threads"] = e.threads;
    j["samples"] = e.samples;
    j["accuracy"] = e.accuracy;
    json pc = json::array();
    for (double a : e.per_class_accuracy) pc.push_back(std::isnan(a) ? json(nullptr) : json(a));
    j["per_class_accuracy"] = pc;
    j["labels"] = labels;
    json share = json::object();
    for (size_t l = 0; l < e.expert_share.size(); ++l) share[e.moe_layers[l]] = e.expert_share[l];
    j["expert_share"] = share;
    j["latency_ms"] = {{"p50", e.latency_p50_ms}, {"p95", e.latency_p95_ms}};
    j["throughput_sps"] = e.throughput_sps;
    j["weight_bytes"] = e.weight_bytes;
    j["sparsity"] = e.sparsity;
    return j.dump(indent);
}

} // namespace ss
