// cli_args.h - the tiny argument parser of sparsescope-cli and its usage error.
#pragma once

#include "compress/compression_plan.h"
#include "data/dataset.h"
#include "eval/robustness.h"
#include "data/token_data.h"
#include "model/model.h"
#include "error.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace cli {

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Parses "--flag value" pairs and bare flags; positional arguments are collected in order.
struct Args {
    std::vector<std::string> positional;
    std::map<std::string, std::string> options;
    std::vector<std::string> flags;

    Args(int argc, char** argv, int first, const std::vector<std::string>& valued, const std::vector<std::string>& bare) {
        for (int i = first; i < argc; ++i) {
            const std::string a = argv[i];
            if (a.rfind("-", 0) == 0 && a.size() > 1) {
                if (std::find(bare.begin(), bare.end(), a) != bare.end()) {
                    flags.push_back(a);
                } else if (std::find(valued.begin(), valued.end(), a) != valued.end()) {
                    if (i + 1 >= argc) throw UsageError(a + " needs a value");
                    options[a] = argv[++i];
                } else {
                    throw UsageError("unknown option " + a);
                }
            } else {
                positional.push_back(a);
            }
        }
    }
    bool has(const std::string& f) const { return std::find(flags.begin(), flags.end(), f) != flags.end(); } // a flag
    bool given(const std::string& k) const { return options.count(k) > 0; }                                  // an option with a value
    std::string get(const std::string& k, const std::string& fallback) const {
        auto it = options.find(k);
        return it == options.end() ? fallback : it->second;
    }
    long get_int(const std::string& k, long fallback, long lo, long hi) const {
        auto it = options.find(k);
        if (it == options.end()) return fallback;
        char* end = nullptr;
        const long v = std::strtol(it->second.c_str(), &end, 10);
        if (it->second.empty() || *end || v < lo || v > hi)
            throw UsageError(k + " '" + it->second + "': expected an integer in " + std::to_string(lo) + ".." + std::to_string(hi));
        return v;
    }
    double get_double(const std::string& k, double fallback, double lo, double hi) const {
        auto it = options.find(k);
        if (it == options.end()) return fallback;
        char* end = nullptr;
        const double v = std::strtod(it->second.c_str(), &end);
        if (it->second.empty() || *end || !(v >= lo && v <= hi))
            throw UsageError(k + " '" + it->second + "': expected a number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
        return v;
    }
};

// The compression plan: --plan FILE, then the single flags on top of it (--prune, --quant,
// --top-k, --quant-experts-by-use HIGH,LOW). A bad value is a usage error naming the flag.
// --prune experts:K or experts:moe.3,moe.5 drops experts.
ss::CompressionPlan compression_plan_from(const Args& a);

// Calibration data for plans that need it: --calib PATH, else the train split of an IDX --data
// directory (the default Fashion-MNIST included). Null when the plan needs none.
std::unique_ptr<ss::Dataset> calibration_data_for(const ss::CompressionPlan& plan, const Args& a, const std::string& data_path);

// load_model with --allow-nonfinite; a model loaded with NaN or infinite weights is named on stderr.
ss::Model load_model_from(const Args& a, const std::string& path, bool defer_16bit = false);

// Calibration text for a language model's plan that needs it: --calib FILE.txt|FILE.npy, tokenized
// like the evaluation text (--tokenizer); it should not be the evaluation text. Null when the
// plan needs none.
std::unique_ptr<ss::TokenData> calibration_text_for(const ss::CompressionPlan& plan, const Args& a, const ss::Model& model);

// "a,b,,c" -> {"a", "b", "c"}: a list option's items, empty ones dropped.
std::vector<std::string> split_list(const std::string& s, char separator = ',');

// Where the program's data lives: share/sparsescope beside bin/ when installed, else resources/.
std::string resource_path(const std::string& relative);

// --robustness [--severities 1,3,5] [--corruptions NAME,...] [--robustness-samples N]; wants_robustness:
// whether any of them was given.
ss::RobustnessOptions robustness_options_from(const Args& a);
bool wants_robustness(const Args& a);

// --ood glyphs|noise|PATH: the out-of-distribution samples.
ss::Dataset ood_samples_from(const Args& a, const ss::Model& model);

} // namespace cli
