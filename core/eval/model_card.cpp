// model_card.cpp
#include "eval/model_card.h"
#include "eval/model_card_sections.h"
#include "eval/machine_load.h"

#include "eval/baseline_comparison.h"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace ss {

namespace {

using card::f;
using card::cell;

std::string label_of(const ModelCardOptions& o, size_t c) {
    return c < o.labels.size() ? o.labels[c] : "class " + std::to_string(c);
}


std::string bytes_text(double b) {
    if (b >= 1e6) return f("%.2f MB", b / 1e6);
    if (b >= 1e3) return f("%.1f kB", b / 1e3);
    return f("%.0f B", b);
}

void accuracy_section(std::ostringstream& md, const RunRecord& r, const ModelCardOptions& o);
void language_model_section(std::ostringstream& md, const EvalResult& e);
void speed_section(std::ostringstream& md, const EvalResult& e);
void experts_section(std::ostringstream& md, const EvalResult& e);

} // namespace

std::string model_card_markdown(const RunRecord& r, const ModelCardOptions& o) {
    const EvalResult& e = r.result;
    const bool cmp = e.has_comparison;
    const bool lm = e.task == EvalTask::LanguageModeling;
    auto metric = [&](const char* name) { return e.metrics.count(name) ? e.metrics.at(name) : std::nan(""); };
    std::ostringstream md;
    if (o.model_index) md << model_index_yaml(r);
    md << "# Model card: " << r.model_name << ", " << r.plan.summary() << "\n\n";
    md << "Measured by SparseScope" << (r.app_version.empty() ? "" : " " + r.app_version) << " on " << r.created_at
       << (o.session_path.empty() ? "" : " (session `" + o.session_path + "`, run " + std::to_string(r.id) + ")") << ". "
       << "Every figure below was measured in that run; nothing is estimated.\n\n";

    md << "## Model\n\n";
    md << "| | |\n|---|---|\n";
    md << "| Name | " << cell(r.model_name) << " |\n";
    md << "| Source | `" << r.model_path << "` |\n";
    md << "| SHA-256 of the source files | " << cell(r.model_sha256.empty() ? "not recorded" : "`" + r.model_sha256 + "`") << " |\n";
    int64_t weights = 0, zeros = 0;
    for (const auto& l : e.layers) {
        weights += l.weights;
        zeros += l.zero_weights;
    }
    if (weights) md << "| Weights | " << weights << " (" << zeros << " zero after compression) |\n";
    if (!e.moe_layers.empty()) {
        md << "| Mixture of experts | ";
        for (size_t l = 0; l < e.moe_layers.size(); ++l)
            md << (l ? ", " : "") << "`" << e.moe_layers[l] << "`: " << e.expert_share[l].size() << " experts";
        md << ", top-" << e.top_k << " |\n";
    }
    md << "\n";

    md << "## Compression\n\n";
    md << "Plan (JSON, as SparseScope reads it with `--plan`):\n\n```json\n" << r.plan.to_json() << "\n```\n\n";
    md << "Measured sparsity of the compressible weights: " << f("%.2f %%", 100.0 * e.sparsity) << ". Weights as stored: "
       << bytes_text(double(e.weight_bytes)) << ".\n\n";
    if (!e.layers.empty()) {
        md << "| Layer | Kind | Weights | Sparsity | Precision | Kernels (batch 1 / 256) | Batch-1 time (mean) | Resident |\n";
        md << "|---|---|---:|---:|---|---|---:|---:|\n";
        for (const auto& l : e.layers) {
            if (l.weights == 0 && l.kind != "moe") continue; // activations, dropout
            md << "| " << cell(l.name) << " | " << l.kind << " | " << l.weights << " | "
               << (l.weights ? f("%.1f %%", 100.0 * double(l.zero_weights) / double(l.weights)) : "—") << " | " << cell(l.precision) << " | "
               << cell(l.kernels) << " | " << f("%.1f µs", l.batch1_us) << " | " << bytes_text(double(l.resident_bytes)) << " |\n";
        }
        double sum_us = 0.0;
        for (const auto& l : e.layers) sum_us += l.batch1_us;
        // Two definitions, said apart: a sum of per-layer means is not a median of whole forwards.
        md << "\nPer-layer times are means over profiled batch-1 forwards, timed layer by layer; they add up to "
           << f("%.1f µs", sum_us) << ". The batch-1 latency above is the median (p50) of whole forwards, "
           << f("%.1f µs", 1e3 * e.latency_p50_ms) << ": the two differ by the timing of each layer and by noise on the machine.\n";
        md << "\n";
    }

    md << "## Evaluation data\n\n";
    md << "`" << r.dataset_path << "`" << (r.dataset_sha256.empty() ? "" : " (SHA-256 `" + r.dataset_sha256 + "`)") << ", " << e.samples;
    if (lm) {
        md << " tokens scored in " << f("%.0f", metric("chunks")) << " chunks of " << f("%.0f", metric("ctx"))
           << " tokens (each from an empty cache; the second half of each chunk scored, as llama.cpp's perplexity does).\n\n";
        language_model_section(md, e);
    } else {
        md << " samples";
        if (!std::isnan(r.input.scale)) md << ", preprocessed as x = (raw × " << r.input.scale << " − " << r.input.mean << ") / " << r.input.std;
        md << ".\n\n";
        accuracy_section(md, r, o);
        regressions_section(md, r, o);
        calibration_section(md, e);
        robustness_section(md, e);
        ood_section(md, e);
    }
    dataset_card_section(md, r);

    speed_section(md, e);
    experts_section(md, e);

    md << "## Limits of these measurements\n\n";
    md << (lm ? "- Perplexity is measured on the text above only; other text (another domain, another language) can behave differently.\n"
              : "- Accuracy is measured on the evaluation data above only; other data can behave differently, "
                "and small classes have wide intervals.\n");
    md << "- Speed depends on the machine, its load and the thread count; the ratios to the uncompressed model were timed in the "
          "same run and are the figures to compare across machines.\n";
    if (!cmp) md << "- This run has no comparison with the uncompressed model.\n";
    if (!r.note.empty()) md << "\n## Notes\n\n" << r.note << "\n";
    return md.str();
}

namespace {

void accuracy_section(std::ostringstream& md, const RunRecord& r, const ModelCardOptions& o) {
    const EvalResult& e = r.result;
    const bool cmp = e.has_comparison;
    const Comparison& c = e.comparison;
    md << "## Accuracy\n\n";
    md << "| | |\n|---|---|\n";
    md << "| Top-1 accuracy | " << f("%.2f %%", 100.0 * e.accuracy) << " |\n";
    if (cmp) {
        md << "| Uncompressed model | " << f("%.2f %%", 100.0 * c.baseline_accuracy) << " |\n";
        md << "| Change | " << f("%+.2f points", 100.0 * c.accuracy_delta) << " (95 % interval " << f("%+.2f", 100.0 * c.delta_ci_low) << " to "
           << f("%+.2f", 100.0 * c.delta_ci_high) << "; " << c.gained << " samples gained, " << c.lost << " lost) |\n";
        md << "| Same top-1 class as the uncompressed model | " << f("%.2f %%", 100.0 * c.agreement) << " |\n";
        md << "| Mean KL divergence from the uncompressed model | " << f("%.4f nats", c.mean_kl) << " |\n";
    }
    md << "\n";
    if (!e.per_class_accuracy.empty()) {
        md << "| Class | Samples | Accuracy | Change |\n|---|---:|---:|---:|\n";
        std::vector<std::string> regressions;
        for (size_t k = 0; k < e.per_class_accuracy.size(); ++k) {
            const double acc = e.per_class_accuracy[k];
            const double d = cmp && k < c.per_class_delta.size() ? c.per_class_delta[k] : std::nan("");
            md << "| " << cell(label_of(o, k)) << " | " << (k < e.per_class_count.size() ? e.per_class_count[k] : 0) << " | "
               << (std::isnan(acc) ? "—" : f("%.2f %%", 100.0 * acc)) << " | " << (std::isnan(d) ? "—" : f("%+.2f", 100.0 * d)) << " |\n";
            if (!std::isnan(d) && 100.0 * d < -o.regression_points) regressions.push_back(label_of(o, k) + f(" (%+.2f points)", 100.0 * d));
        }
        md << "\n";
        if (cmp) {
            if (regressions.empty()) {
                md << "No class lost more than " << f("%.1f", o.regression_points) << " points against the uncompressed model.\n\n";
            } else {
                md << "**Classes that lost more than " << f("%.1f", o.regression_points) << " points:** ";
                for (size_t i = 0; i < regressions.size(); ++i) md << (i ? ", " : "") << regressions[i];
                md << ".\n\n";
            }
        }
    }

}

void language_model_section(std::ostringstream& md, const EvalResult& e) {
    md << "## Language modelling\n\n";
    md << "| | |\n|---|---|\n";
    for (const TaskMetric& m : task_metrics(EvalTask::LanguageModeling)) {
        const std::string key = m.key;
        if (key == "prompt_tps" || key == "gen_tps" || key == "tokens_scored" || key == "ctx" || key == "chunks" || key == "perplexity_error") continue;
        auto it = e.metrics.find(key);
        if (it == e.metrics.end()) continue;
        md << "| " << m.label << " | " << f(m.format, it->second * m.scale);
        if (key == "perplexity" && e.metrics.count("perplexity_error")) md << " ± " << f("%.4f", e.metrics.at("perplexity_error"));
        md << " |\n";
    }
    md << "\n";
}

void speed_section(std::ostringstream& md, const EvalResult& e) {
    const bool lm = e.task == EvalTask::LanguageModeling;
    const Comparison& c = e.comparison;
    md << "## Speed\n\n";
    md << "| | |\n|---|---|\n";
    if (lm) {
        md << "| Prompt processing | " << f("%.0f tokens/s", e.throughput_sps) << " (one chunk at a time) |\n";
        md << "| Generation | " << f("%.1f tokens/s", e.latency_p50_ms > 0 ? 1e3 / e.latency_p50_ms : 0.0) << " (batch 1 with the KV cache; per token p50 "
           << f("%.3f ms", e.latency_p50_ms) << ", p95 " << f("%.3f ms", e.latency_p95_ms) << ") |\n";
    } else {
        md << "| Batch-1 latency | p50 " << f("%.3f ms", e.latency_p50_ms) << ", p95 " << f("%.3f ms", e.latency_p95_ms) << " ("
           << e.latency_samples_ms.size() << " timed forwards) |\n";
        md << "| Throughput | " << f("%.0f samples/s", e.throughput_sps) << " (batches of 256) |\n";
    }
    if (e.has_comparison && c.throughput_ratio > 0)
        md << "| Against the uncompressed model, timed side by side | " << (lm ? "prompt" : "throughput") << " ×" << f("%.2f", c.throughput_ratio)
           << ", " << (lm ? "generation" : "batch-1 latency") << " ×" << f("%.2f", c.latency_ratio) << ": **"
           << speed_verdict_name(speed_verdict(c, e.latency_p50_ms, e.latency_p95_ms, e.others_cpus)) << "** (ratios within " << f("%.0f", 100.0 * kSpeedNoise)
           << " % of 1 are noise on a shared machine; a latency whose p95 exceeds " << f("%.0f", kNoisySpread)
           << "× its p50, or one measured while other processes kept " << f("%.1f", kBusyOthersCpus)
           << " CPUs or more busy, cannot by itself make a run faster) |\n";
    md << "| Threads | " << e.threads << " |\n";
    md << "| Machine | " << cell(e.machine.empty() ? "not recorded" : e.machine) << " |\n";
    md << "| Machine load | "
       << (std::isnan(e.others_cpus) ? std::string("not recorded")
                                     : f("other processes kept %.2f CPUs busy during the run", e.others_cpus) +
                                           (machine_was_busy(e.others_cpus) ? std::string(": **a busy machine**, timings noisier than usual") : std::string()))
       << " |\n";
    md << "| Kernels | " << cell(e.kernels) << " |\n\n";
}

void experts_section(std::ostringstream& md, const EvalResult& e) {
    if (!e.expert_share.empty()) {
        md << "## Experts\n\n";
        for (size_t l = 0; l < e.expert_share.size(); ++l) {
            md << "`" << e.moe_layers[l] << "`, share of routed slots per expert: ";
            for (size_t x = 0; x < e.expert_share[l].size(); ++x) md << (x ? ", " : "") << f("%.1f %%", 100.0 * e.expert_share[l][x]);
            md << ".";
            if (l < e.expert_stats.size()) {
                const auto& st = e.expert_stats[l];
                md << " Entropy " << f("%.2f", st.entropy_bits) << " of " << f("%.2f", std::log2(double(e.expert_share[l].size()))) << " bits";
                if (!st.dead.empty()) {
                    md << "; experts receiving under " << f("%.0f", 100.0 * kDeadShare) << " % of slots:";
                    for (int d : st.dead) md << " " << d;
                }
                md << ".";
            }
            md << "\n\n";
        }
    }
}

} // namespace

} // namespace ss
