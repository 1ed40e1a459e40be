// cli_main.cpp - sparsescope-cli: eval, train, info. Errors go to stderr with exit code 1 (2 for
// usage errors); the engine's messages name the file, the field and the rule.
#include "compression.h"
#include "dataset.h"
#include "error.h"
#include "evaluate.h"
#include "idx_dataset.h"
#include "model_config.h"
#include "model_io.h"
#include "result_json.h"
#include "safetensors.h"
#include "trainer.h"
#include "file_io.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace {

const char* kUsage = R"(usage:
  sparsescope-cli eval MODEL [--data PATH] [--prune magnitude:S|none] [--quant int8|none]
                       [--top-k K] [--limit N] [--threads N] [--json]
  sparsescope-cli train --config CONFIG.json -o OUTDIR [--data DIR] [--epochs N] [--batch N]
                       [--lr F] [--aux F] [--weight-decay F] [--seed N] [--threads N]
  sparsescope-cli info MODEL [--json]

MODEL is a directory (config.json + model.safetensors) or a single .safetensors file.
--data defaults to the Fashion-MNIST test split in /usr/share/datasets/fashion-mnist
(train uses the train split of --data and reports test accuracy per epoch when it exists).
)";

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
    bool has(const std::string& f) const { return std::find(flags.begin(), flags.end(), f) != flags.end(); }
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

int cmd_eval(int argc, char** argv) {
    const Args a(argc, argv, 2, {"--data", "--prune", "--quant", "--top-k", "--limit", "--threads"}, {"--json"});
    if (a.positional.size() != 1) throw UsageError("eval takes exactly one MODEL");
    ss::CompressionSpec spec;
    try {
        ss::parse_prune_option(spec, a.get("--prune", "none"));
        ss::parse_quant_option(spec, a.get("--quant", "none"));
    } catch (const ss::Error& e) {
        throw UsageError(e.what());
    }
    spec.top_k = int(a.get_int("--top-k", 0, 1, 4096));
    ss::EvalOptions opt;
    opt.limit = int(a.get_int("--limit", 0, 1, 1L << 30));
    opt.threads = int(a.get_int("--threads", 1, 1, 256));

    const ss::Model model = ss::load_model(a.positional[0]);
    if (spec.top_k > 0) {
        for (const ss::MoeLayer* moe : model.moe_layers())
            if (spec.top_k > int(moe->experts.size()))
                throw UsageError("--top-k " + std::to_string(spec.top_k) + " exceeds the " + std::to_string(moe->experts.size()) +
                                 " experts of MoE layer '" + moe->name + "'");
        if (model.moe_layers().empty()) throw UsageError("--top-k given but the model has no MoE layer");
    }
    const ss::Dataset data = ss::load_dataset(a.get("--data", ss::kDefaultDatasetDir));
    const ss::CompressedModel cm = ss::compress(model, spec);
    ss::RunRecord r;
    r.created_at = ss::utc_now_iso8601();
    r.model_name = model.name;
    r.model_path = model.source_path;
    r.dataset_path = data.source_path;
    r.spec = spec;
    r.result = ss::evaluate(cm, data, opt);

    if (a.has("--json")) {
        std::printf("%s\n", ss::run_record_json(r, model.labels).c_str());
        return 0;
    }
    const ss::EvalResult& e = r.result;
    std::printf("model      %s (%s)\n", model.name.c_str(), model.source_path.c_str());
    std::printf("data       %s, %d samples\n", data.source_path.c_str(), e.samples);
    std::printf("compress   prune %s, quant %s, top-k %d\n", spec.prune_label().c_str(), spec.quant_label().c_str(), e.top_k);
    std::printf("accuracy   %.2f%%\n", 100.0 * e.accuracy);
    for (size_t c = 0; c < e.per_class_accuracy.size(); ++c)
        std::printf("  %-14s %6.2f%%  (%d)\n", model.labels[c].c_str(), 100.0 * e.per_class_accuracy[c], e.per_class_count[c]);
    for (size_t l = 0; l < e.expert_share.size(); ++l) {
        std::printf("experts    %s:", e.moe_layers[l].c_str());
        for (double s : e.expert_share[l]) std::printf(" %.3f", s);
        std::printf("\n");
    }
    std::printf("latency    p50 %.3f ms, p95 %.3f ms (batch 1, %d thread%s)\n", e.latency_p50_ms, e.latency_p95_ms, e.threads,
                e.threads > 1 ? "s" : "");
    std::printf("throughput %.0f samples/s\n", e.throughput_sps);
    std::printf("weights    %lld bytes, sparsity %.4f\n", (long long)e.weight_bytes, e.sparsity);
    return 0;
}

int cmd_train(int argc, char** argv) {
    const Args a(argc, argv, 2, {"--config", "-o", "--data", "--epochs", "--batch", "--lr", "--aux", "--weight-decay", "--seed", "--threads"}, {});
    if (!a.positional.empty()) throw UsageError("train takes no positional arguments");
    const std::string config = a.get("--config", ""), out = a.get("-o", "");
    if (config.empty() || out.empty()) throw UsageError("train needs --config CONFIG.json and -o OUTDIR");
    ss::TrainOptions opt;
    opt.epochs = int(a.get_int("--epochs", opt.epochs, 1, 10000));
    opt.batch_size = int(a.get_int("--batch", opt.batch_size, 1, 1 << 16));
    opt.learning_rate = float(a.get_double("--lr", opt.learning_rate, 1e-7, 1.0));
    opt.aux_weight = float(a.get_double("--aux", opt.aux_weight, 0.0, 10.0));
    opt.weight_decay = float(a.get_double("--weight-decay", opt.weight_decay, 0.0, 1.0));
    opt.seed = uint64_t(a.get_int("--seed", 1, 0, 1L << 62));
    opt.threads = int(a.get_int("--threads", 1, 1, 256));

    const auto cfg_bytes = ss::read_file_bytes(config);
    ss::Model model = ss::parse_model_config(std::string(cfg_bytes.begin(), cfg_bytes.end()), config);
    ss::init_weights(model, opt.seed);
    const std::string dir = a.get("--data", ss::kDefaultDatasetDir);
    const ss::Dataset train = ss::load_idx_dir(dir, "train");
    ss::Dataset test;
    try {
        test = ss::load_idx_dir(dir, "t10k");
    } catch (const ss::Error&) {
    }
    std::fprintf(stderr, "train: %s, %lld parameters, %d samples, %d epochs, batch %d, lr %g, aux %g, seed %llu\n",
                 model.name.c_str(), (long long)model.parameter_count(), train.count, opt.epochs, opt.batch_size,
                 double(opt.learning_rate), double(opt.aux_weight), (unsigned long long)opt.seed);
    ss::train_model(model, train, opt, [&](const ss::EpochReport& r) {
        std::fprintf(stderr, "epoch %2d  loss %.4f  aux %.4f  train %.2f%%", r.epoch, r.loss, r.aux, 100.0 * r.train_accuracy);
        if (test.count > 0) {
            ss::EvalOptions eo;
            eo.latency_samples = 0;
            eo.latency_warmup = 0;
            eo.threads = opt.threads;
            const ss::EvalResult e = ss::evaluate(ss::compress(model, {}), test, eo);
            std::fprintf(stderr, "  test %.2f%%  experts", 100.0 * e.accuracy);
            for (double s : e.expert_share.empty() ? std::vector<double>{} : e.expert_share[0]) std::fprintf(stderr, " %.2f", s);
        }
        std::fprintf(stderr, "  (%.1f s)\n", r.seconds);
        return true;
    });
    ss::save_model_dir(model, out);
    std::fprintf(stderr, "train: wrote %s\n", out.c_str());
    return 0;
}

int cmd_info(int argc, char** argv) {
    const Args a(argc, argv, 2, {}, {"--json"});
    if (a.positional.size() != 1) throw UsageError("info takes exactly one MODEL");
    const ss::Model m = ss::load_model(a.positional[0]);
    if (a.has("--json")) {
        nlohmann::json j = nlohmann::json::parse(ss::model_config_json(m));
        j["parameters"] = m.parameter_count();
        j["path"] = m.source_path;
        std::printf("%s\n", j.dump(1).c_str());
        return 0;
    }
    std::printf("%s\n%s\n%lld parameters\n", m.source_path.c_str(), ss::model_config_json(m).c_str(), (long long)m.parameter_count());
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
        std::fputs(kUsage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const std::string cmd = argv[1];
    try {
        if (cmd == "eval") return cmd_eval(argc, argv);
        if (cmd == "train") return cmd_train(argc, argv);
        if (cmd == "info") return cmd_info(argc, argv);
        throw UsageError("unknown command '" + cmd + "'");
    } catch (const UsageError& e) {
        std::fprintf(stderr, "sparsescope-cli: %s\n\n%s", e.what(), kUsage);
        return 2;
    } catch (const ss::Error& e) {
        std::fprintf(stderr, "sparsescope-cli: error: %s\n", e.what());
        return 1;
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "sparsescope-cli: error: out of memory\n");
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sparsescope-cli: error: %s\n", e.what());
        return 1;
    }
}
