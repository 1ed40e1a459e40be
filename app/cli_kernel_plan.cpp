// cli_kernel_plan.cpp - `sparsescope-cli plan MODEL [COMPRESSION] [--json]`: which kernel each
// matrix of the compressed model runs with, at batch 1 and in batches (kernel_plan.h).
#include "cli_args.h"
#include "model/matrices.h"
#include "cli_commands.h"

#include "compress/compression.h"
#include "kernels/kernel_plan.h"
#include "kernels/thread_pool.h"
#include "formats/model_io.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

namespace cli {

int cmd_plan(int argc, char** argv) {
    const Args a(argc, argv, 2,
                 {"--prune", "--quant", "--top-k", "--plan", "--quant-experts-by-use", "--calib", "--calib-samples", "--data", "--threads"},
                 {"--json", "--static-kernels", "--allow-nonfinite"});
    ss::set_compute_threads(int(a.get_int("--threads", 1, 1, 256)));
    if (a.has("--static-kernels")) ss::set_kernel_selection(ss::KernelSelection::Static);
    if (a.positional.size() != 1) throw UsageError("plan takes exactly one MODEL");
    const ss::CompressionPlan plan = compression_plan_from(a);
    const ss::Model model = load_model_from(a, a.positional[0]);
    const auto calib = calibration_data_for(plan, a, a.get("--data", ss::kDefaultDatasetDir));
    const ss::CompressedModel c = ss::compress(model, plan, calib.get());
    nlohmann::json rows = nlohmann::json::array();
    ss::for_each_matrix(c.model, [&](const ss::LinearWeights& l) {
        const int64_t zeros = ss::count_zero_weights(l);
        rows.push_back({{"matrix", l.name}, {"shape", {l.out, l.in}}, {"sparsity", double(zeros) / double(std::max<int64_t>(1, l.weight_count()))},
                        {"storage", l.quant ? l.quant->spec.label() : "f32"}, {"batch1", ss::kernel_name(l, 1)}, {"batch256", ss::kernel_name(l, 256)}, {"resident_bytes", ss::resident_weight_bytes(l)}});
    });
    if (a.has("--json")) {
        std::printf("%s\n", nlohmann::json{{"plan", nlohmann::json::parse(plan.to_json())}, {"summary", ss::kernel_summary(c.model)}, {"matrices", rows}}
                                .dump(1)
                                .c_str());
        return 0;
    }
    int width = 22; // the name column fits the longest name (Hugging Face names run long)
    for (const auto& r : rows) width = std::max(width, int(r["matrix"].get<std::string>().size()));
    std::printf("%s: %s\n%s\n\n%-*s %-12s %8s %-14s %-10s %-10s\n", model.name.c_str(), plan.summary().c_str(), ss::kernel_summary(c.model).c_str(),
                width, "matrix", "shape", "sparsity", "storage", "batch 1", "batch 256");
    for (const auto& r : rows)
        std::printf("%-*s %-12s %7.1f%% %-14s %-10s %-10s\n", width, r["matrix"].get<std::string>().c_str(),
                    (std::to_string(r["shape"][0].get<int>()) + "x" + std::to_string(r["shape"][1].get<int>())).c_str(),
                    100.0 * r["sparsity"].get<double>(), r["storage"].get<std::string>().c_str(), r["batch1"].get<std::string>().c_str(),
                    r["batch256"].get<std::string>().c_str());
    return 0;
}

} // namespace cli
