// model_card_sections.cpp - what one accuracy figure hides, as model card sections (model_card_sections.h).
#include "eval/model_card_sections.h"

#include "data/corruptions.h"
#include "eval/baseline_comparison.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <map>

namespace ss {

namespace {

using card::f;
using card::cell;


std::string label_of(const ModelCardOptions& o, int c) { return size_t(c) < o.labels.size() ? o.labels[size_t(c)] : "class " + std::to_string(c); }

constexpr size_t kFlippedShown = 10;

} // namespace

void regressions_section(std::ostringstream& md, const RunRecord& r, const ModelCardOptions& o) {
    const Comparison& c = r.result.comparison;
    if (!r.result.has_comparison || c.class_p_holm.empty()) return;
    md << "## Silent regressions\n\n";
    int lost = 0;
    for (const FlippedSample& s : c.flipped) lost += s.lost() ? 1 : 0;
    md << c.flipped.size() << " samples flipped: " << lost << " right under the uncompressed model and wrong now, " << c.flipped.size() - size_t(lost)
       << " the reverse. Per class, the exact McNemar test asks whether the lost and gained samples could be chance; p-values are "
          "Holm-corrected over the classes, and a class is flagged below 0.05.\n\n";
    md << "| Class | Lost | Gained | McNemar p | Holm p | |\n|---|---:|---:|---:|---:|---|\n";
    bool any = false;
    for (size_t k = 0; k < c.class_p_holm.size(); ++k) {
        if (!std::isfinite(c.class_p[k])) continue;
        const bool flagged = c.class_p_holm[k] < 0.05;
        any = any || flagged;
        md << "| " << cell(label_of(o, int(k))) << " | " << c.class_lost[k] << " | " << c.class_gained[k] << " | " << f("%.3g", c.class_p[k]) << " | "
           << f("%.3g", c.class_p_holm[k]) << " | " << (flagged ? (c.class_lost[k] > c.class_gained[k] ? "**regression**" : "improved") : "") << " |\n";
    }
    md << "\n" << (any ? "" : "No class changed significantly (Holm-corrected p < 0.05).\n\n");
    if (!r.result.slices.empty()) {
        md << "User-defined slices, tested the same way (Holm-corrected over the slices):\n\n";
        md << "| Slice | Samples | Lost | Gained | Change (points) | Holm p | |\n|---|---:|---:|---:|---:|---:|---|\n";
        for (const SliceResult& s : r.result.slices)
            md << "| " << cell(s.name) << " | " << s.count << " | " << s.lost << " | " << s.gained << " | " << f("%+.2f", s.delta_points) << " | "
               << (std::isnan(s.p_holm) ? "—" : f("%.3g", s.p_holm)) << " | " << (s.regression() ? "**regression**" : "") << " |\n";
        md << "\n";
    }
    if (!c.flipped.empty()) {
        md << "The samples whose probability of the true class changed most (index in the evaluation data):\n\n";
        md << "| Sample | True class | Uncompressed | Compressed | p(true), uncompressed → compressed |\n|---:|---|---|---|---|\n";
        for (size_t i = 0; i < c.flipped.size() && i < kFlippedShown; ++i) {
            const FlippedSample& s = c.flipped[i];
            md << "| " << s.sample << " | " << cell(label_of(o, s.label)) << " | " << cell(label_of(o, s.dense_pred)) << " | " << cell(label_of(o, s.pred))
               << " | " << f("%.3f", s.dense_p_true) << " → " << f("%.3f", s.p_true) << " |\n";
        }
        md << "\n";
    }
}

void calibration_section(std::ostringstream& md, const EvalResult& e) {
    const Comparison& c = e.comparison;
    if (!e.has_comparison || c.calibration.bins.empty()) return;
    md << "## Calibration\n\n";
    md << "Expected calibration error over " << c.calibration.bins.size()
       << " equal-width bins of the top-class probability (the gap between confidence and accuracy, weighted by the samples in each bin):\n\n";
    md << "| | Compressed | Uncompressed |\n|---|---:|---:|\n";
    const bool dense = !c.dense_calibration.bins.empty();
    auto row = [&](const char* name, double a, double b, const char* fmt) {
        md << "| " << name << " | " << f(fmt, a) << " | " << (dense ? f(fmt, b) : "—") << " |\n";
    };
    row("ECE", 100.0 * c.calibration.ece, 100.0 * c.dense_calibration.ece, "%.2f %%");
    row("Largest bin gap (MCE)", 100.0 * c.calibration.mce, 100.0 * c.dense_calibration.mce, "%.2f %%");
    row("Mean confidence", 100.0 * c.calibration.mean_confidence, 100.0 * c.dense_calibration.mean_confidence, "%.2f %%");
    row("Accuracy", 100.0 * c.calibration.accuracy, 100.0 * c.dense_calibration.accuracy, "%.2f %%");
    md << "\n";
    if (dense) {
        const double d = c.calibration.mean_confidence - c.calibration.accuracy;
        md << "The compressed model is " << (d > 0.005 ? "over-confident" : d < -0.005 ? "under-confident" : "about as confident as it is accurate")
           << f(" (confidence minus accuracy %+.2f points", 100.0 * d) << f("; uncompressed %+.2f points).\n\n",
                                                                           100.0 * (c.dense_calibration.mean_confidence - c.dense_calibration.accuracy));
    }
}

void robustness_section(std::ostringstream& md, const EvalResult& e) {
    if (!e.has_robustness || e.robustness.cells.empty()) return;
    const RobustnessResult& rb = e.robustness;
    md << "## Robustness under corruption\n\n";
    md << "Accuracy on the first " << rb.samples
       << " evaluation samples, each corrupted (Hendrycks & Dietterich's common corruptions, seeded; docs/robustness.md), compressed / "
          "uncompressed, in %. CE is the corruption error relative to the uncompressed model (1.00: as robust).\n\n";
    std::vector<int> severities;
    for (const CorruptionCell& c : rb.cells)
        if (c.corruption == rb.cells.front().corruption) severities.push_back(c.severity);
    md << "| Corruption |";
    for (int s : severities) md << " Severity " << s << " |";
    md << " Gap (points) | CE |\n|---|";
    for (size_t i = 0; i < severities.size(); ++i) md << "---:|";
    md << "---:|---:|\n";
    for (size_t k = 0; k * severities.size() < rb.cells.size(); ++k) {
        md << "| " << corruption_name(rb.cells[k * severities.size()].corruption) << " |";
        for (size_t s = 0; s < severities.size() && k * severities.size() + s < rb.cells.size(); ++s) {
            const CorruptionCell& c = rb.cells[k * severities.size() + s];
            md << " " << f("%.1f", 100.0 * c.accuracy) << (std::isnan(c.dense_accuracy) ? "" : " / " + f("%.1f", 100.0 * c.dense_accuracy)) << " |";
        }
        md << " " << (k < rb.gap_points.size() && std::isfinite(rb.gap_points[k]) ? f("%+.1f", -rb.gap_points[k]) : "—") << " | "
           << (k < rb.ce.size() && std::isfinite(rb.ce[k]) ? f("%.3f", rb.ce[k]) : "—") << " |\n";
    }
    md << "\nMean accuracy under corruption " << f("%.2f %%", 100.0 * rb.mean_accuracy);
    if (std::isfinite(rb.dense_mean_accuracy)) md << " (uncompressed " << f("%.2f %%", 100.0 * rb.dense_mean_accuracy) << ")";
    if (std::isfinite(rb.mce)) md << "; **mCE " << f("%.3f", rb.mce) << "**";
    md << ".\n\n";
}

void ood_section(std::ostringstream& md, const EvalResult& e) {
    if (!e.has_ood) return;
    const OodEvaluation& o = e.ood;
    md << "## Out-of-distribution detection\n\n";
    md << "How well the model's own scores tell the evaluation data (" << o.in_count << " samples) from samples of another kind (`" << o.set << "`, "
       << o.out_count << " samples): AUROC 1.0 separates them perfectly, 0.5 not at all; FPR at 95 % TPR is the share of outsiders "
          "accepted when 95 % of the real data is.\n\n";
    md << "| Score | AUROC | AUPR (in) | FPR at 95 % TPR |\n|---|---:|---:|---:|\n";
    auto row = [&](const char* name, const OodResult& r) {
        md << "| " << name << " | " << f("%.3f", r.auroc) << " | " << f("%.3f", r.aupr_in) << " | " << f("%.1f %%", 100.0 * r.fpr95) << " |\n";
    };
    row("Max softmax, compressed", o.msp);
    if (o.has_dense) row("Max softmax, uncompressed", o.dense_msp);
    row("Energy, compressed", o.energy);
    if (o.has_dense) row("Energy, uncompressed", o.dense_energy);
    md << "\n";
}

void dataset_card_section(std::ostringstream& md, const RunRecord& r) {
    if (r.dataset_card.empty()) return;
    const nlohmann::json card = nlohmann::json::parse(r.dataset_card, nullptr, false);
    if (!card.is_object()) return;
    md << "## Dataset card\n\n";
    md << "| | |\n|---|---|\n";
    const nlohmann::json p = card.value("provenance", nlohmann::json::object());
    auto text = [](const nlohmann::json& j, const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string(); };
    for (const auto& [key, name] : std::vector<std::pair<const char*, const char*>>{
             {"name", "Name"}, {"license", "Licence"}, {"source", "Source"}, {"citation", "Citation"}, {"collection", "Collection"}})
        md << "| " << name << " | " << (text(p, key).empty() ? "not stated" : cell(text(p, key))) << " |\n";
    md << "| Provenance read from | " << (text(p, "origin").empty() ? "nowhere: no dataset-card.json beside the data" : cell(text(p, "origin"))) << " |\n";
    const nlohmann::json d = card.value("dataset", nlohmann::json::object());
    if (d.contains("samples") && d.contains("class_counts") && d["class_counts"].is_array()) {
        md << "| Samples | " << d["samples"].dump() << " in " << d["class_counts"].size() << " classes; per class";
        for (const auto& n : d["class_counts"]) md << " " << n.dump();
        md << " |\n";
    }
    if (card.contains("leakage") && card["leakage"].is_object()) {
        const nlohmann::json& l = card["leakage"];
        md << "| Leakage against the training data | " << l.value("exact_pairs", int64_t(0)) << " exact and " << l.value("near_pairs", int64_t(0))
           << " near-duplicate pairs (dHash within 4 bits, pixels within 4 % RMS), covering " << l.value("samples_affected", 0)
           << " evaluation samples |\n";
    } else {
        md << "| Leakage against the training data | not checked (`sparsescope-cli data PATH --leakage TRAIN`, or Check Duplicates in the window) |\n";
    }
    md << "\n";
}

} // namespace ss
