// cli_plan.cpp - the compression flags shared by eval, export and sensitivity.
#include "cli_args.h"

#include "error.h"
#include "formats/file_io.h"
#include "formats/model_io.h"
#include "data/idx_dataset.h"

#include <cstdio>

namespace cli {

ss::CompressionPlan compression_plan_from(const Args& a) {
    ss::CompressionPlan plan;
    const std::string plan_path = a.get("--plan", "");
    if (!plan_path.empty()) {
        const auto bytes = ss::read_file_bytes(plan_path);
        plan = ss::parse_compression_plan(std::string(bytes.begin(), bytes.end()), plan_path);
    }
    try {
        const std::string prune = a.get("--prune", "");
        if (prune.rfind("experts:", 0) == 0) {
            const std::string what = prune.substr(8);
            if (!what.empty() && what.find_first_not_of("0123456789") == std::string::npos) {
                plan.drop_experts = std::stoi(what);
            } else {
                size_t start = 0;
                while (start <= what.size()) {
                    const size_t comma = what.find(',', start);
                    const std::string name = what.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
                    if (name.empty()) throw ss::Error("prune '" + prune + "': expected experts:K or experts:moe.3,moe.5");
                    plan.drop_expert_names.push_back(name);
                    if (comma == std::string::npos) break;
                    start = comma + 1;
                }
            }
        } else if (!prune.empty()) {
            plan.prune = ss::parse_prune_spec(prune);
        }
        if (a.options.count("--quant")) plan.quant = ss::parse_quant_spec(a.get("--quant", "none"));
        const std::string by_use = a.get("--quant-experts-by-use", "");
        if (!by_use.empty()) {
            const size_t comma = by_use.find(',');
            if (comma == std::string::npos) throw ss::Error("--quant-experts-by-use '" + by_use + "': expected HIGH,LOW, e.g. int8,int2:g32");
            plan.quant_by_use.enabled = true;
            plan.quant_by_use.high = ss::parse_quant_spec(by_use.substr(0, comma));
            plan.quant_by_use.low = ss::parse_quant_spec(by_use.substr(comma + 1));
        }
    } catch (const ss::Error& e) {
        throw UsageError(e.what());
    }
    if (a.options.count("--top-k")) plan.top_k = int(a.get_int("--top-k", 0, 1, 4096));
    if (a.options.count("--calib-samples")) plan.calibration_samples = int(a.get_int("--calib-samples", 256, 1, 1000000));
    return plan;
}

std::unique_ptr<ss::Dataset> calibration_data_for(const ss::CompressionPlan& plan, const Args& a, const std::string& data_path) {
    if (!plan.needs_calibration()) return nullptr;
    const std::string calib = a.get("--calib", "");
    if (!calib.empty()) return std::make_unique<ss::Dataset>(ss::load_dataset(calib));
    // The train split of the --data directory when it has one; one that does not read is an error.
    if (ss::is_directory(data_path) && ss::idx_dir_has_split(data_path, "train"))
        return std::make_unique<ss::Dataset>(ss::load_idx_dir(data_path, "train"));
    throw UsageError("the plan (" + plan.summary() + ") needs calibration data: give --calib PATH (the train split of " + data_path +
                     " was not found)");
}

ss::Model load_model_from(const Args& a, const std::string& path, bool defer_16bit) {
    ss::Model m = ss::load_model(path, ss::LoadOptions{a.has("--allow-nonfinite"), defer_16bit});
    if (!m.nonfinite.empty())
        std::fprintf(stderr, "warning: %s: %s; loaded because of --allow-nonfinite: what is measured on it is not meaningful\n", path.c_str(),
                     m.nonfinite.c_str());
    return m;
}

std::unique_ptr<ss::TokenData> calibration_text_for(const ss::CompressionPlan& plan, const Args& a, const ss::Model& model) {
    if (!plan.needs_calibration()) return nullptr;
    const std::string calib = a.get("--calib", "");
    if (calib.empty())
        throw UsageError("the plan (" + plan.summary() + ") needs calibration text: give --calib FILE.txt or FILE.npy (not the evaluation text; " +
                         "the demo model ships kjv-calib.txt)");
    return std::make_unique<ss::TokenData>(ss::load_token_data(calib, model.lm.vocab, model.lm.tokenizer_path, {a.get("--tokenizer", ""), false}));
}

} // namespace cli
