// run_diff.cpp
#include "eval/run_diff.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <map>
#include <set>

namespace ss {

namespace {

using json = nlohmann::json;

std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

// JSON objects flattened to "a.b.c" -> value text.
void flatten(const json& j, const std::string& prefix, std::map<std::string, std::string>& out) {
    if (j.is_object()) {
        for (auto it = j.begin(); it != j.end(); ++it) flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
    } else {
        out[prefix] = j.is_string() ? j.get<std::string>() : j.dump();
    }
}

// Kernel summary "batch 1: 3 dense, 2 csr; batch 256: ...; OpenBLAS X (a; b)" -> its top-level
// ';'-separated parts (parentheses kept whole), by the label before the first ':'.
std::map<std::string, std::string> kernel_parts(const std::string& s) {
    std::map<std::string, std::string> out;
    std::vector<std::string> parts(1);
    int depth = 0;
    for (char c : s) {
        depth += c == '(' ? 1 : c == ')' ? -1 : 0;
        if (c == ';' && depth == 0) parts.emplace_back();
        else parts.back() += c;
    }
    for (std::string part : parts) {
        while (!part.empty() && part.front() == ' ') part.erase(0, 1);
        if (part.empty()) continue;
        const size_t colon = part.find(':'), paren = part.find('(');
        if (colon != std::string::npos && (paren == std::string::npos || colon < paren)) {
            std::string value = part.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.erase(0, 1);
            out[part.substr(0, colon)] = value;
        } else {
            const size_t space = part.find(' ');
            out[space == std::string::npos ? part : part.substr(0, space)] = part; // "OpenBLAS ...", "integer dot ..."
        }
    }
    return out;
}

struct Builder {
    RunDiff d;
    void text(const std::string& section, const std::string& field, const std::string& a, const std::string& b) {
        d.rows.push_back({section, field, a, b, "", a != b});
    }
    // Numbers: `scale` converts to the unit shown; `delta_points` shows b - a, else the ratio b / a.
    void number(const std::string& section, const std::string& field, double a, double b, const char* f, double scale = 1.0,
                const char* delta_f = nullptr, bool ratio = false) {
        DiffRow r{section, field, std::isnan(a) ? "" : fmt(f, a * scale), std::isnan(b) ? "" : fmt(f, b * scale), "", false};
        r.differs = r.a != r.b;
        if (!std::isnan(a) && !std::isnan(b) && r.differs) {
            if (ratio && a > 0) r.delta = fmt("x%.2f", b / a);
            else if (delta_f) r.delta = fmt(delta_f, (b - a) * scale);
        }
        d.rows.push_back(std::move(r));
    }
};

std::string precision_or_dash(const std::string& p) { return p.empty() ? "-" : p; }

} // namespace

int RunDiff::differing() const {
    int n = 0;
    for (const auto& r : rows) n += r.differs;
    return n;
}

std::vector<std::string> comparison_warnings(const std::vector<const RunRecord*>& runs) {
    std::vector<std::string> w;
    auto distinct = [&](auto field, const char* what, const char* consequence) {
        std::set<std::string> seen;
        for (const RunRecord* r : runs)
            if (!field(*r).empty()) seen.insert(field(*r));
        if (seen.size() > 1)
            w.push_back(std::string("The runs used ") + std::to_string(seen.size()) + " different " + what + ": " + consequence);
    };
    distinct([](const RunRecord& r) { return r.dataset_sha256; }, "datasets (by SHA-256)",
             "accuracy is measured on different samples and is not comparable.");
    distinct([](const RunRecord& r) { return r.model_sha256; }, "model files (by SHA-256)",
             "they compress different weights, even where the model name is the same.");
    distinct([](const RunRecord& r) { return r.result.machine; }, "machines",
             "latency and throughput were timed on different hardware; compare speed only through the ratios to dense.");
    std::set<int> samples;
    for (const RunRecord* r : runs) samples.insert(r->result.samples);
    if (samples.size() > 1) w.push_back("The runs evaluated different numbers of samples; small ones have wider confidence intervals.");
    return w;
}

RunDiff diff_runs(const RunRecord& a, const RunRecord& b) {
    Builder x;
    x.d.warnings = comparison_warnings({&a, &b});
    const EvalResult &ea = a.result, &eb = b.result;
    const double nan = std::nan("");

    x.text("setup", "run", std::to_string(a.id), std::to_string(b.id));
    x.text("setup", "created", a.created_at, b.created_at);
    // Two runs always differ in these: naming them, not a difference to point out or count.
    x.d.rows[x.d.rows.size() - 1].differs = x.d.rows[x.d.rows.size() - 2].differs = false;
    x.text("setup", "task", eval_task_name(a.result.task), eval_task_name(b.result.task));
    x.text("setup", "model", a.model_name + " (" + a.model_path + ")", b.model_name + " (" + b.model_path + ")");
    x.text("setup", "model sha256", a.model_sha256, b.model_sha256);
    x.text("setup", "dataset", a.dataset_path, b.dataset_path);
    x.text("setup", "dataset sha256", a.dataset_sha256, b.dataset_sha256);
    x.text("setup", "machine", ea.machine, eb.machine);
    x.text("setup", "app version", a.app_version, b.app_version);
    x.text("setup", "note", a.note, b.note);
    x.number("setup", "threads", ea.threads, eb.threads, "%.0f");
    x.number("setup", ea.task == EvalTask::LanguageModeling && eb.task == EvalTask::LanguageModeling ? "tokens scored" : "samples", ea.samples, eb.samples, "%.0f");

    std::map<std::string, std::string> pa, pb;
    flatten(json::parse(a.plan.to_json()), "", pa);
    flatten(json::parse(b.plan.to_json()), "", pb);
    std::set<std::string> keys;
    for (const auto& [k, v] : pa) keys.insert(k);
    for (const auto& [k, v] : pb) keys.insert(k);
    for (const auto& k : keys) x.text("plan", k, pa.count(k) ? pa[k] : "", pb.count(k) ? pb[k] : "");

    const auto ka = kernel_parts(ea.kernels), kb = kernel_parts(eb.kernels);
    std::set<std::string> kk;
    for (const auto& [k, v] : ka) kk.insert(k);
    for (const auto& [k, v] : kb) kk.insert(k);
    for (const auto& k : kk) x.text("kernels", k, ka.count(k) ? ka.at(k) : "", kb.count(k) ? kb.at(k) : "");

    // Layers by name (the same model has the same layers; different models line up where names match).
    std::map<std::string, const LayerCost*> la, lb;
    std::vector<std::string> order;
    for (const auto& l : ea.layers) {
        if (!la.count(l.name)) order.push_back(l.name);
        la[l.name] = &l;
    }
    for (const auto& l : eb.layers) {
        if (!la.count(l.name) && !lb.count(l.name)) order.push_back(l.name);
        lb[l.name] = &l;
    }
    for (const auto& name : order) {
        const LayerCost* A = la.count(name) ? la[name] : nullptr;
        const LayerCost* B = lb.count(name) ? lb[name] : nullptr;
        if ((A && A->weights == 0) && (!B || B->weights == 0)) continue; // activations, dropout: no weights to compare
        auto sp = [](const LayerCost* l) { return l && l->weights ? double(l->zero_weights) / double(l->weights) : std::nan(""); };
        x.number("layers", name + " sparsity", sp(A), sp(B), "%.1f %%", 100.0, "%+.1f points");
        x.text("layers", name + " precision", A ? precision_or_dash(A->precision) : "", B ? precision_or_dash(B->precision) : "");
        x.text("layers", name + " kernels", A ? A->kernels : "", B ? B->kernels : "");
        x.number("layers", name + " batch-1 time", A ? A->batch1_us : nan, B ? B->batch1_us : nan, "%.1f us", 1.0, nullptr, true);
        x.number("layers", name + " resident", A ? double(A->resident_bytes) : nan, B ? double(B->resident_bytes) : nan, "%.1f KiB",
                 1.0 / 1024, nullptr, true);
    }

    // Each task's headline metrics, labelled: a classifier's accuracy, a language model's perplexity.
    std::set<std::string> shown;
    auto value = [&](const EvalResult& e, const std::string& name) { return e.metrics.count(name) ? e.metrics.at(name) : nan; };
    for (EvalTask t : {ea.task, eb.task})
        for (const TaskMetric& m : task_metrics(t))
            if (shown.insert(m.key).second) x.number("metrics", m.label, value(ea, m.key), value(eb, m.key), m.format, m.scale, m.delta, !m.delta);
    const bool lm = ea.task == EvalTask::LanguageModeling && eb.task == EvalTask::LanguageModeling;
    auto cmp = [](const EvalResult& e, double Comparison::*f) { return e.has_comparison ? e.comparison.*f : std::nan(""); };
    // A language model's latency is per generated token and its throughput is prompt tokens/s.
    x.number("metrics", lm ? "generation latency p50 (per token)" : "latency p50", ea.latency_p50_ms, eb.latency_p50_ms, "%.3f ms", 1.0, nullptr, true);
    x.number("metrics", lm ? "generation latency p95 (per token)" : "latency p95", ea.latency_p95_ms, eb.latency_p95_ms, "%.3f ms", 1.0, nullptr, true);
    if (!lm) x.number("metrics", "throughput", ea.throughput_sps, eb.throughput_sps, "%.0f samples/s", 1.0, nullptr, true);
    x.number("metrics", lm ? "prompt speed vs dense" : "throughput vs dense", cmp(ea, &Comparison::throughput_ratio), cmp(eb, &Comparison::throughput_ratio), "x%.2f");
    x.number("metrics", lm ? "generation speed vs dense" : "batch-1 speed vs dense", cmp(ea, &Comparison::latency_ratio), cmp(eb, &Comparison::latency_ratio), "x%.2f");
    x.number("metrics", "weights", double(ea.weight_bytes), double(eb.weight_bytes), "%.0f bytes", 1.0, nullptr, true);
    x.number("metrics", "sparsity", ea.sparsity, eb.sparsity, "%.2f %%", 100.0, "%+.2f points");
    x.number("metrics", lm ? "flops per token" : "flops per sample", ea.flops_per_sample, eb.flops_per_sample, "%.4g", 1.0, nullptr, true);
    x.number("metrics", "top-k", ea.top_k, eb.top_k, "%.0f");
    // Any other metric a run carries, by its name.
    std::set<std::string> others;
    for (const auto* m : {&ea.metrics, &eb.metrics})
        for (const auto& [name, v] : *m)
            if (!shown.count(name)) others.insert(name);
    for (const std::string& name : others) x.number("metrics", name, value(ea, name), value(eb, name), "%.6g");
    const size_t classes = std::max(ea.per_class_accuracy.size(), eb.per_class_accuracy.size());
    for (size_t c = 0; c < classes; ++c)
        x.number("classes", "class " + std::to_string(c), c < ea.per_class_accuracy.size() ? ea.per_class_accuracy[c] : nan,
                 c < eb.per_class_accuracy.size() ? eb.per_class_accuracy[c] : nan, "%.2f %%", 100.0, "%+.2f points");
    return x.d;
}

} // namespace ss
