// cli_drift.cpp - `sparsescope-cli drift REFERENCE NEW MODEL [COMPRESSION] [--corrupt NAME:SEVERITY]
// [--limit N] [--threads N] [--json]`: a new batch of data against the reference split, inputs and
// predictions, compressed and dense (drift.h).
#include "cli_args.h"
#include "cli_commands.h"

#include "compress/compression.h"
#include "data/class_names.h"
#include "data/corruptions.h"
#include "data/duplicates.h"
#include "eval/drift.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <numeric>

namespace cli {

namespace {

const char* psi_verdict(double psi) { return psi >= 0.25 ? "major shift" : psi >= 0.1 ? "moderate shift" : "stable"; }

nlohmann::json shift_json(const ss::PredictionShift& s) {
    return {{"reference_share", s.reference_share}, {"new_share", s.new_share}, {"psi", s.psi},
            {"reference_confidence", s.reference_confidence}, {"new_confidence", s.new_confidence},
            {"confidence_ks", s.confidence_ks.d}, {"confidence_ks_p", s.confidence_ks.p_value},
            {"reference_accuracy", s.reference_accuracy}, {"new_accuracy", s.new_accuracy}};
}

} // namespace

int cmd_drift(int argc, char** argv) {
    const Args a(argc, argv, 2, {"--prune", "--quant", "--top-k", "--plan", "--quant-experts-by-use", "--calib", "--calib-samples", "--limit",
                                 "--threads", "--corrupt", "--labels", "--label-column"},
                 {"--json", "--allow-nonfinite"});
    if (a.positional.size() != 3) throw UsageError("drift takes REFERENCE NEW MODEL");
    const ss::CompressionPlan plan = compression_plan_from(a);
    const int limit = int(a.get_int("--limit", 0, 1, 1L << 30));
    const int threads = int(a.get_int("--threads", 1, 1, 256));
    const ss::Dataset reference = ss::load_dataset(a.positional[0], {a.get("--labels", ""), a.get("--label-column", ""), limit, ""});
    ss::Dataset batch = ss::load_dataset(a.positional[1], {a.get("--labels", ""), a.get("--label-column", ""), limit, ""});
    // --corrupt NAME:S: the new batch as a camera or scanner with that fault would deliver it.
    if (a.given("--corrupt")) {
        const std::string spec = a.get("--corrupt", "");
        const size_t colon = spec.find(':');
        ss::Corruption c{};
        if (colon == std::string::npos || !ss::parse_corruption(spec.substr(0, colon), &c) || spec.substr(colon + 1).size() != 1 ||
            spec[colon + 1] < '1' || spec[colon + 1] > '5')
            throw UsageError("--corrupt '" + spec + "': expected NAME:SEVERITY, a corruption of docs/robustness.md and a severity 1-5");
        const int side = ss::square_image_side(batch);
        if (side == 0) throw UsageError("--corrupt: " + batch.source_path + " does not hold square images");
        batch = ss::corrupt_dataset(batch, side, side, c, spec[colon + 1] - '0', 0, threads);
    }
    const ss::Model model = load_model_from(a, a.positional[2]);
    const auto calib = calibration_data_for(plan, a, a.positional[0]);
    const ss::CompressedModel cm = ss::compress(model, plan, calib.get());
    const bool compressed = !plan.is_identity();
    const ss::DriftReport r = ss::drift_report(reference, batch, cm.model, compressed ? &model : nullptr, threads);

    if (a.has("--json")) {
        nlohmann::json j;
        j["reference"] = {{"path", r.reference_path}, {"samples", r.reference_count}};
        j["new"] = {{"path", r.new_path}, {"samples", r.new_count}, {"corruption", a.get("--corrupt", "")}};
        j["plan"] = nlohmann::json::parse(plan.to_json());
        j["inputs"] = {{"psi_mean", r.psi_mean}, {"psi_max", r.psi_max}, {"psi_max_feature", r.psi_max_feature},
                       {"features_moderate", r.features_moderate}, {"features_major", r.features_major},
                       {"reference_mean_value", r.reference_mean_value}, {"new_mean_value", r.new_mean_value},
                       {"mean_value_ks", r.mean_value_ks.d}, {"mean_value_ks_p", r.mean_value_ks.p_value}, {"feature_psi", r.feature_psi}};
        j["predictions"] = shift_json(r.compressed);
        if (r.has_dense) {
            j["dense_predictions"] = shift_json(r.dense);
            j["agreement"] = {{"reference", r.reference_agreement}, {"new", r.new_agreement}};
        }
        std::printf("%s\n", j.dump(1).c_str());
        return 0;
    }
    std::printf("reference  %s (%d samples)\nnew        %s (%d samples)%s\nmodel      %s%s\n", r.reference_path.c_str(), r.reference_count,
                r.new_path.c_str(), r.new_count, a.given("--corrupt") ? (", corrupted: " + a.get("--corrupt", "")).c_str() : "", model.name.c_str(),
                compressed ? (", " + plan.prune_label() + " + " + plan.quant_label() + " against dense").c_str() : " (dense)");
    std::printf("\ninputs\n");
    std::printf("  PSI per feature   mean %.3f, max %.3f (feature %d)   %d features moderate (0.1-0.25), %d major (>= 0.25) of %d\n", r.psi_mean,
                r.psi_max, r.psi_max_feature, r.features_moderate, r.features_major, r.features);
    std::printf("  mean value        %.2f -> %.2f   KS D %.3f, p %.2g   %s\n", r.reference_mean_value, r.new_mean_value, r.mean_value_ks.d,
                r.mean_value_ks.p_value, r.mean_value_ks.p_value < 0.01 ? "shifted" : "no evidence of a shift");
    auto print_shift = [](const char* name, const ss::PredictionShift& s) {
        std::printf("  %-10s  predicted classes PSI %.3f (%s)   confidence %.3f -> %.3f (KS D %.3f, p %.2g)   accuracy %.2f %% -> %.2f %%\n", name, s.psi,
                    psi_verdict(s.psi), s.reference_confidence, s.new_confidence, s.confidence_ks.d, s.confidence_ks.p_value,
                    100.0 * s.reference_accuracy, 100.0 * s.new_accuracy);
    };
    std::printf("\npredictions (reference -> new)\n");
    print_shift(compressed ? "compressed" : "dense", r.compressed);
    if (r.has_dense) {
        print_shift("dense", r.dense);
        std::printf("  agreement   compressed predicts what dense predicts: %.2f %% -> %.2f %%\n", 100.0 * r.reference_agreement, 100.0 * r.new_agreement);
    }
    const std::vector<std::string> names = ss::class_labels(model.labels, reference.class_names);
    std::printf("\n  %-6s %-*s %10s %10s\n", "class", 12, "name", "reference", "new");
    for (size_t c = 0; c < r.compressed.reference_share.size(); ++c)
        std::printf("  %-6zu %-12s %9.2f %% %9.2f %%\n", c, c < names.size() ? names[c].c_str() : "", 100.0 * r.compressed.reference_share[c],
                    100.0 * r.compressed.new_share[c]);
    return 0;
}

} // namespace cli
