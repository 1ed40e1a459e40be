// model_card_index.cpp - the model card's YAML front matter in the Hugging Face `model-index`
// format (model_card.h): the measured figures as machine-readable results.
#include "eval/model_card.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace ss {

namespace {

// A YAML double-quoted scalar.
std::string quoted(const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
            continue;
        }
        out += char(c);
    }
    return out + "\"";
}

std::string number(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

// The dataset's name (its card's, else the last part of its path) and an identifier for `type`.
std::pair<std::string, std::string> dataset_names(const RunRecord& r) {
    std::string name;
    const nlohmann::json card = nlohmann::json::parse(r.dataset_card.empty() ? "{}" : r.dataset_card, nullptr, false);
    if (card.is_object() && card.contains("provenance") && card["provenance"].is_object())
        name = card["provenance"].value("name", std::string());
    if (name.empty()) {
        std::string p = r.dataset_path.substr(0, r.dataset_path.find(" ("));
        while (!p.empty() && p.back() == '/') p.pop_back();
        name = p.substr(p.find_last_of('/') == std::string::npos ? 0 : p.find_last_of('/') + 1);
    }
    std::string id;
    for (unsigned char c : name) id += std::isalnum(c) ? char(std::tolower(c)) : '_';
    return {name, id};
}

} // namespace

std::string model_index_yaml(const RunRecord& r) {
    const EvalResult& e = r.result;
    const bool lm = e.task == EvalTask::LanguageModeling;
    auto metric = [&](const char* k) { return e.metrics.count(k) && std::isfinite(e.metrics.at(k)) ? e.metrics.at(k) : std::nan(""); };
    const auto [dataset, dataset_id] = dataset_names(r);
    std::ostringstream y;
    y << "---\n";
    y << "library_name: sparsescope\n";
    y << "tags:\n- sparsescope\n";
    if (r.plan.prune.method != PruneMethod::None) y << "- pruned\n";
    if (r.plan.quant.scheme != QuantScheme::None) y << "- quantized\n";
    if (!e.moe_layers.empty()) y << "- mixture-of-experts\n";
    y << "datasets:\n- " << quoted(dataset) << "\n";
    y << "model-index:\n";
    y << "- name: " << quoted(r.model_name + " (" + r.plan.summary() + ")") << "\n";
    y << "  results:\n";
    y << "  - task:\n";
    y << "      type: " << (lm ? "text-generation" : "image-classification") << "\n";
    y << "      name: " << (lm ? "Text Generation" : "Image Classification") << "\n";
    y << "    dataset:\n";
    y << "      name: " << quoted(dataset) << "\n";
    y << "      type: " << quoted(dataset_id) << "\n";
    if (r.dataset_path.find("(t10k)") != std::string::npos || r.dataset_path.find("(test)") != std::string::npos) y << "      split: test\n";
    y << "    metrics:\n";
    auto add = [&](const char* type, const std::string& name, double value, int decimals) {
        if (std::isnan(value)) return;
        y << "    - type: " << type << "\n      value: " << number(value, decimals) << "\n      name: " << quoted(name) << "\n      verified: false\n";
    };
    if (lm) {
        add("perplexity", "Perplexity", metric("perplexity"), 4);
        add("kl_divergence", "Mean KL divergence from the uncompressed model (nats)", metric("mean_kl"), 5);
    } else {
        add("accuracy", "Top-1 accuracy (%)", 100.0 * e.accuracy, 2);
        if (e.has_comparison) {
            add("accuracy", "Top-1 accuracy of the uncompressed model (%)", 100.0 * e.comparison.baseline_accuracy, 2);
            if (!e.comparison.calibration.bins.empty()) add("ece", "Expected calibration error, 15 bins (%)", 100.0 * e.comparison.calibration.ece, 2);
            add("flipped", "Samples whose prediction flipped against the uncompressed model", double(e.comparison.flipped.size()), 0);
        }
        if (e.has_robustness) {
            add("accuracy", "Mean accuracy under common corruptions (%)", 100.0 * e.robustness.mean_accuracy, 2);
            add("mce", "Mean corruption error relative to the uncompressed model", e.robustness.mce, 3);
        }
        if (e.has_ood) {
            add("auroc", "OOD detection AUROC against " + e.ood.set + ", max softmax", e.ood.msp.auroc, 3);
            add("fpr95", "OOD false-positive rate at 95 % TPR against " + e.ood.set + " (%)", 100.0 * e.ood.msp.fpr95, 2);
        }
    }
    y << "---\n\n";
    return y.str();
}

} // namespace ss
