// cli_train.cpp - `sparsescope-cli train`.
#include "cli_args.h"
#include "cli_commands.h"

#include "compress/compression.h"
#include "error.h"
#include "eval/evaluate.h"
#include "formats/file_io.h"
#include "data/idx_dataset.h"
#include "formats/model_config.h"
#include "formats/model_io.h"
#include "train/trainer.h"

#include <cstdio>

namespace cli {

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
    ss::Dataset test; // the test split, when the directory has one (one that does not read is an error)
    if (ss::idx_dir_has_split(dir, "t10k")) test = ss::load_idx_dir(dir, "t10k");
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

} // namespace cli
