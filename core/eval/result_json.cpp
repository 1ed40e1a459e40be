// result_json.cpp
#include "eval/result_json.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace ss {

namespace {
using nlohmann::json;

json number_or_null(double v) { return std::isnan(v) ? json(nullptr) : json(v); }

// (rows, cols) row-major as nested arrays; null when `v` does not hold that many (not recorded).
json matrix(const std::vector<int64_t>& v, size_t rows, size_t cols) {
    if (v.size() != rows * cols || v.empty()) return nullptr;
    json m = json::array();
    for (size_t r = 0; r < rows; ++r) m.push_back(std::vector<int64_t>(v.begin() + long(r * cols), v.begin() + long((r + 1) * cols)));
    return m;
}
} // namespace

std::string run_record_json(const RunRecord& r, const std::vector<std::string>& labels, int indent) {
    const EvalResult& e = r.result;
    json j;
    j["model"] = r.model_name;
    j["model_path"] = r.model_path;
    j["dataset"] = r.dataset_path;
    j["dataset_sha256"] = r.dataset_sha256;
    j["model_sha256"] = r.model_sha256;
    j["app_version"] = r.app_version;
    if (r.id) j["id"] = r.id;
    if (!r.created_at.empty()) j["created_at"] = r.created_at;
    if (!r.note.empty()) j["note"] = r.note;
    if (!r.tags.empty()) j["tags"] = r.tags;
    if (!r.grid_key.empty()) j["grid_key"] = r.grid_key;
    if (!r.dataset_card.empty()) { // as stored; a card that does not parse (a damaged file) is left out rather than fail the export
        const json card = json::parse(r.dataset_card, nullptr, false);
        if (!card.is_discarded()) j["dataset_card"] = card;
    }
    const bool classifier = e.task == EvalTask::Classification; // a language model has no inputs to scale, no classes
    if (classifier) j["input"] = {{"scale", r.input.scale}, {"mean", r.input.mean}, {"std", r.input.std}};
    j["plan"] = json::parse(r.plan.to_json());
    j["prune"] = r.plan.prune_label();
    j["quant"] = r.plan.quant_label();
    j["top_k"] = e.top_k;
    j["threads"] = e.threads;
    j["samples"] = e.samples;
    j["task"] = eval_task_name(e.task);
    j["accuracy"] = e.accuracy;
    json metrics = json::object();
    for (const auto& [name, v] : e.metrics) metrics[name] = std::isfinite(v) ? json(v) : json(nullptr);
    j["metrics"] = metrics;
    if (classifier) {
        json pc = json::array();
        for (double a : e.per_class_accuracy) pc.push_back(number_or_null(a));
        j["per_class_accuracy"] = pc;
        j["labels"] = labels;
    }
    json share = json::object(), stats = json::object();
    for (size_t l = 0; l < e.expert_share.size(); ++l) {
        share[e.moe_layers[l]] = e.expert_share[l];
        if (l < e.expert_stats.size()) {
            const ExpertLayerStats& s = e.expert_stats[l];
            const size_t E = e.expert_share[l].size();
            stats[e.moe_layers[l]] = {{"entropy_bits", s.entropy_bits},
                                      {"max_over_mean", s.max_over_mean},
                                      {"dead", s.dead},
                                      {"class_expert", matrix(s.class_expert, E ? s.class_expert.size() / E : 0, E)},
                                      {"coactivation", matrix(s.coactivation, E, E)}};
        }
    }
    j["expert_share"] = share;
    j["expert_stats"] = stats;
    j["latency_ms"] = {{"p50", e.latency_p50_ms}, {"p95", e.latency_p95_ms}, {"samples", e.latency_samples_ms}};
    j["throughput_sps"] = e.throughput_sps;
    j["weight_bytes"] = e.weight_bytes;
    j["sparsity"] = e.sparsity;
    j["flops_per_sample"] = e.flops_per_sample;
    j["kernels"] = e.kernels;
    j["machine"] = e.machine;
    j["others_cpus"] = number_or_null(e.others_cpus);
    nlohmann::json layers = nlohmann::json::array();
    for (const LayerCost& c : e.layers)
        layers.push_back({{"name", c.name}, {"kind", c.kind}, {"batch1_us", c.batch1_us}, {"resident_bytes", c.resident_bytes},
                          {"weights", c.weights}, {"zero_weights", c.zero_weights}, {"precision", c.precision}, {"kernels", c.kernels}});
    j["layers"] = layers;
    if (e.has_ood) {
        auto sep = [](const OodResult& o) {
            return json{{"auroc", o.auroc}, {"aupr_in", o.aupr_in}, {"aupr_out", o.aupr_out}, {"fpr95", o.fpr95}};
        };
        json o = {{"set", e.ood.set}, {"in_samples", e.ood.in_count}, {"out_samples", e.ood.out_count}, {"msp", sep(e.ood.msp)},
                  {"energy", sep(e.ood.energy)}};
        if (e.ood.has_dense) {
            o["dense_msp"] = sep(e.ood.dense_msp);
            o["dense_energy"] = sep(e.ood.dense_energy);
        }
        j["ood"] = o;
    }
    if (e.has_robustness) { // corruption -> severity -> accuracy, compressed and dense; CE and mCE
        const RobustnessResult& rb = e.robustness;
        json acc = json::object(), dense = json::object(), ce = json::object(), gap = json::object();
        for (const CorruptionCell& c : rb.cells) {
            acc[corruption_name(c.corruption)][std::to_string(c.severity)] = c.accuracy;
            dense[corruption_name(c.corruption)][std::to_string(c.severity)] = number_or_null(c.dense_accuracy);
        }
        const size_t S = rb.cells.empty() || rb.ce.empty() ? 0 : rb.cells.size() / rb.ce.size();
        for (size_t i = 0; i < rb.ce.size() && S > 0; ++i) {
            const char* name = corruption_name(rb.cells[i * S].corruption);
            ce[name] = std::isfinite(rb.ce[i]) ? json(rb.ce[i]) : json(nullptr);
            gap[name] = rb.gap_points[i];
        }
        j["robustness"] = acc;
        j["robustness_dense"] = dense;
        j["robustness_samples"] = rb.samples;
        j["robustness_seed"] = rb.seed;
        j["ce"] = ce;
        j["mce"] = number_or_null(rb.mce);
        j["corruption_gap_points"] = gap;
    }
    if (e.has_comparison && !classifier) { // against dense: the metrics above (KL, same top token ...) and the speed ratios
        j["comparison"] = {{"throughput_ratio", e.comparison.throughput_ratio}, {"latency_ratio", e.comparison.latency_ratio}};
        j["faster_than_dense"] = e.comparison.faster_than_dense;
    } else if (e.has_comparison) {
        const Comparison& c = e.comparison;
        json pcd = json::array();
        for (double d : c.per_class_delta) pcd.push_back(number_or_null(d));
        j["comparison"] = {{"baseline_accuracy", c.baseline_accuracy},
                           {"accuracy_delta", c.accuracy_delta},
                           {"accuracy_delta_ci95", {c.delta_ci_low, c.delta_ci_high}},
                           {"agreement", c.agreement},
                           {"mean_kl", c.mean_kl},
                           {"gained", c.gained},
                           {"lost", c.lost},
                           {"per_class_delta", pcd},
                           {"throughput_ratio", c.throughput_ratio},
                           {"latency_ratio", c.latency_ratio}};
        j["faster_than_dense"] = c.faster_than_dense;
        // Beyond the average: calibration, per-class regressions (exact McNemar, Holm), flipped samples.
        auto bins = [](const CalibrationResult& r) {
            json out = json::array();
            for (const ReliabilityBin& b : r.bins)
                out.push_back({{"upper", b.upper}, {"count", b.count}, {"mean_confidence", b.mean_confidence}, {"accuracy", b.accuracy}});
            return out;
        };
        j["ece"] = c.calibration.ece;
        j["dense_ece"] = c.dense_calibration.ece;
        j["reliability"] = bins(c.calibration);
        j["dense_reliability"] = bins(c.dense_calibration);
        json reg = json::array();
        for (size_t k = 0; k < c.class_p.size(); ++k)
            reg.push_back({{"class", k < labels.size() ? json(labels[k]) : json(int(k))}, {"lost", c.class_lost[k]}, {"gained", c.class_gained[k]},
                           {"p", number_or_null(c.class_p[k])}, {"p_holm", number_or_null(c.class_p_holm[k])},
                           {"significant", std::isfinite(c.class_p_holm[k]) && c.class_p_holm[k] < 0.05}});
        j["regressions"] = reg;
        json ids = json::array(), lost = json::array();
        for (const FlippedSample& f : c.flipped) (f.lost() ? lost : ids).push_back(f.sample);
        j["flipped"] = {{"count", c.flipped.size()}, {"lost", lost}, {"gained", ids}};
        if (!e.slices.empty()) {
            json slices = json::array();
            for (const SliceResult& s : e.slices)
                slices.push_back({{"name", s.name}, {"samples", s.count}, {"lost", s.lost}, {"gained", s.gained}, {"delta_points", s.delta_points},
                                  {"p", std::isnan(s.p) ? json(nullptr) : json(s.p)}, {"p_holm", std::isnan(s.p_holm) ? json(nullptr) : json(s.p_holm)},
                                  {"regression", s.regression()}});
            j["slices"] = slices;
        }
    }
    return j.dump(indent);
}

std::string lm_run_json(const RunRecord& r, int64_t resident_bytes, int indent) {
    const EvalResult& e = r.result;
    auto metric = [&](const char* k) { return e.metrics.count(k) && std::isfinite(e.metrics.at(k)) ? json(e.metrics.at(k)) : json(nullptr); };
    json j;
    j["task"] = eval_task_name(e.task);
    j["model"] = r.model_name;
    j["model_path"] = r.model_path;
    j["model_sha256"] = r.model_sha256;
    j["data"] = r.dataset_path;
    j["data_sha256"] = r.dataset_sha256;
    j["plan"] = json::parse(r.plan.to_json());
    for (const char* k : {"perplexity", "perplexity_error", "mean_nll", "top1", "prompt_tps", "gen_tps", "ece", "dense_ece"}) j[k] = metric(k);
    j["tokens_scored"] = e.samples;
    j["ctx"] = e.metrics.count("ctx") ? int(e.metrics.at("ctx")) : 0;
    j["chunks"] = e.metrics.count("chunks") ? int(e.metrics.at("chunks")) : 0;
    json share = json::object();
    for (size_t l = 0; l < e.expert_share.size(); ++l) share[std::to_string(l)] = e.expert_share[l];
    j["expert_share"] = share;
    json stats = json::object();
    for (size_t l = 0; l < e.expert_stats.size(); ++l) {
        const ExpertLayerStats& st = e.expert_stats[l];
        stats[std::to_string(l)] = {{"entropy_bits", st.entropy_bits}, {"max_over_mean", st.max_over_mean}, {"dead", st.dead},
                                    {"coactivation", st.coactivation}};
    }
    j["expert_stats"] = stats;
    json names = json::array();
    for (const auto& n : e.moe_layers) names.push_back(n);
    j["moe_layers"] = names;
    j["top_k"] = e.top_k;
    if (e.has_comparison) {
        json c;
        for (const char* k : {"kld_mean", "kld_p90", "kld_p95", "kld_p99", "same_top_p", "delta_p_mean", "ppl_ratio", "dense_perplexity"}) c[k] = metric(k);
        c["throughput_ratio"] = e.comparison.throughput_ratio;
        c["latency_ratio"] = e.comparison.latency_ratio;
        c["faster_than_dense"] = e.comparison.faster_than_dense;
        j["comparison"] = c;
    }
    j["gen_latency_ms"] = {{"p50", e.latency_p50_ms}, {"p95", e.latency_p95_ms}};
    j["weight_bytes"] = e.weight_bytes;
    j["resident_bytes"] = resident_bytes;
    j["sparsity"] = e.sparsity;
    j["kernels"] = e.kernels;
    j["machine"] = e.machine;
    j["others_cpus"] = number_or_null(e.others_cpus);
    j["threads"] = e.threads;
    return j.dump(indent);
}

} // namespace ss
