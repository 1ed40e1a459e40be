// runs_csv.cpp
#include "eval/runs_csv.h"

#include "eval/eval_task.h"

#include <cmath>
#include <cstdio>

namespace ss {

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

namespace {
std::string number(double v, const char* format = "%.9g") {
    if (!std::isfinite(v)) return "";
    char b[64];
    std::snprintf(b, sizeof b, format, v);
    return b;
}
} // namespace

std::string runs_to_csv(const std::vector<RunRecord>& runs) {
    const auto& lm_metrics = task_metrics(EvalTask::LanguageModeling);
    std::string out = "run,created_at,task,model,model_sha256,dataset,dataset_sha256,prune,quant,top_k,threads,samples,accuracy,accuracy_delta,"
                      "accuracy_delta_ci_low,accuracy_delta_ci_high,agreement,latency_p50_ms,latency_p95_ms,others_cpus,throughput_sps,throughput_ratio,"
                      "latency_ratio,faster_than_dense,weight_bytes,sparsity";
    for (const TaskMetric& m : lm_metrics) out += std::string(",") + m.key;
    out += ",hidden,tags,machine,note\n";
    for (const auto& r : runs) {
        const auto& e = r.result;
        const bool c = e.has_comparison, classifier = e.task == EvalTask::Classification;
        std::string tags;
        for (const auto& t : r.tags) {
            if (!tags.empty()) tags += ';';
            tags += t;
        }
        out += std::to_string(r.id) + "," + csv_field(r.created_at) + "," + eval_task_name(e.task) + "," + csv_field(r.model_name) + "," +
               r.model_sha256 + "," + csv_field(r.dataset_path) + "," + r.dataset_sha256 + "," + csv_field(r.plan.prune_label()) + "," +
               csv_field(r.plan.quant_label()) + "," + std::to_string(e.top_k) + "," + std::to_string(e.threads) + "," + std::to_string(e.samples) +
               "," + number(e.accuracy, "%.6f") + "," + (c && classifier ? number(e.comparison.accuracy_delta, "%.6f") : "") + "," +
               (c && classifier ? number(e.comparison.delta_ci_low, "%.6f") : "") + "," +
               (c && classifier ? number(e.comparison.delta_ci_high, "%.6f") : "") + "," +
               (c && classifier ? number(e.comparison.agreement, "%.6f") : "") + "," + number(e.latency_p50_ms, "%.6f") + "," +
               number(e.latency_p95_ms, "%.6f") + "," + number(e.others_cpus, "%.3f") + "," + number(e.throughput_sps, "%.1f") + "," + (c ? number(e.comparison.throughput_ratio, "%.6f") : "") +
               "," + (c ? number(e.comparison.latency_ratio, "%.6f") : "") + "," + (c ? (e.comparison.faster_than_dense ? "1" : "0") : "") + "," +
               std::to_string(e.weight_bytes) + "," + number(e.sparsity, "%.6f");
        for (const TaskMetric& m : lm_metrics) {
            auto it = e.metrics.find(m.key);
            out += ",";
            if (!classifier && it != e.metrics.end()) out += number(it->second);
        }
        out += r.hidden ? ",1" : ",0";
        for (const std::string& text : {tags, e.machine, r.note}) {
            out += ',';
            out += csv_field(text);
        }
        out += '\n';
    }
    return out;
}

} // namespace ss
