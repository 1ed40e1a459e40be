// cli_sensitivity.cpp - `sparsescope-cli sensitivity MODEL --prune ... [--quant ...]`.
#include "cli_args.h"
#include "cli_commands.h"

#include "data/dataset.h"
#include "formats/model_io.h"
#include "compress/sensitivity.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace cli {

int cmd_sensitivity(int argc, char** argv) {
    const Args a(argc, argv, 2, {"--data", "--prune", "--quant", "--limit", "--threads", "--calib", "--calib-samples", "--plan"}, {"--json", "--allow-nonfinite"});
    if (a.positional.size() != 1) throw UsageError("sensitivity takes exactly one MODEL");
    const ss::CompressionPlan plan = compression_plan_from(a);
    if (plan.prune.method == ss::PruneMethod::None && plan.quant.scheme == ss::QuantScheme::None)
        throw UsageError("sensitivity needs --prune and/or --quant: what to apply to each unit");
    const ss::Model model = load_model_from(a, a.positional[0]);
    const std::string data_path = a.get("--data", ss::kDefaultDatasetDir);
    const ss::Dataset data = ss::load_dataset(data_path);
    const auto calib = calibration_data_for(plan, a, data_path);
    const int limit = int(a.get_int("--limit", 2000, 1, 1 << 30));
    const auto rows = ss::sensitivity_sweep(model, data, plan, calib.get(), limit, [](float f) {
        std::fprintf(stderr, "\rsensitivity: %3.0f %%", 100.0 * f);
        return true;
    });
    std::fprintf(stderr, "\n");
    if (a.has("--json")) {
        nlohmann::json j = nlohmann::json::array();
        for (const auto& r : rows)
            j.push_back({{"unit", r.unit}, {"accuracy", r.accuracy}, {"accuracy_delta", r.accuracy_delta}, {"agreement", r.agreement},
                         {"mean_kl", r.mean_kl}, {"bytes_share", r.bytes_share}, {"latency_share", r.latency_share},
                         {"bytes_saved", r.bytes_saved}});
        std::printf("%s\n", nlohmann::json{{"model", model.name}, {"plan", nlohmann::json::parse(plan.to_json())}, {"samples", limit}, {"units", j}}
                                .dump(1)
                                .c_str());
        return 0;
    }
    std::printf("%s, each unit alone: %s, %d samples\n", model.name.c_str(), plan.summary().c_str(), std::min(limit, data.count));
    if (!rows.empty()) // every row's accuracy minus its delta is the dense model's
        std::printf("dense accuracy %.2f%%: delta is each unit's change from it, in points; bytes and latency are the unit's share of the dense model's\n",
                    100.0 * (rows.front().accuracy - rows.front().accuracy_delta));
    std::printf("\n%-20s %9s %9s %8s %9s %8s %8s %12s\n", "unit", "accuracy", "delta", "agrees", "KL", "bytes", "latency", "bytes saved");
    for (const auto& r : rows)
        std::printf("%-20s %8.2f%% %+8.2f %7.1f%% %9.5f %7.1f%% %7.1f%% %12lld\n", r.unit.c_str(), 100 * r.accuracy, 100 * r.accuracy_delta,
                    100 * r.agreement, r.mean_kl, 100 * r.bytes_share, 100 * r.latency_share, (long long)r.bytes_saved);
    if (plan.quant.scheme == ss::QuantScheme::None && plan.prune.method != ss::PruneMethod::None && plan.prune.method != ss::PruneMethod::Neurons)
        std::printf("\nbytes saved counts stored weight bytes: pruned weights are still stored as zeros in the dense layout, so pruning alone "
                    "saves none (the sparse kernels' copies are another matter: see `plan`); add --quant to see bytes saved\n");
    return 0;
}

} // namespace cli
