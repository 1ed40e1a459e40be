// cli_finetune.cpp - `sparsescope-cli finetune`: recovery fine-tuning of a compressed classifier
// (train/finetune.h), its curve printed epoch by epoch, the recovered model written and, with
// --session, its run saved beside the one-shot run of the same plan.
#include "cli_args.h"
#include "cli_commands.h"

#include "compress/compression.h"
#include "data/idx_dataset.h"
#include "error.h"
#include "eval/run_evaluation.h"
#include "eval/run_record.h"
#include "formats/file_io.h"
#include "formats/model_export.h"
#include "formats/model_io.h"
#include "session/session_db.h"
#include "train/finetune.h"

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>

namespace cli {

namespace {

std::atomic<bool> g_cancel{false};

extern "C" void on_interrupt(int) {
    if (g_cancel.exchange(true)) std::_Exit(130); // a second Ctrl-C does not wait
}

std::string percent(double v) {
    if (std::isnan(v)) return "  -   ";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%6.2f%%", 100.0 * v);
    return buf;
}

// The session's run of `plan` on this model and data, not fine-tuned, measured on every sample; 0 when none.
int64_t find_one_shot_run(const ss::SessionDb& session, const ss::Model& model, const ss::Dataset& test, const ss::CompressionPlan& plan) {
    const std::string key = plan.to_json();
    int64_t found = 0;
    for (const ss::RunRecord& r : session.runs())
        if (!r.recovery.present() && r.model_sha256 == model.sha256() && r.dataset_sha256 == test.sha256 && r.plan.to_json() == key &&
            r.result.samples == test.count)
            found = r.id; // the newest
    return found;
}

} // namespace

int cmd_finetune(int argc, char** argv) {
    const Args a(argc, argv, 2,
                 {"--prune", "--quant", "--top-k", "--plan", "--quant-experts-by-use", "--calib", "--calib-samples", "--data", "--epochs", "--batch",
                  "--lr", "--aux", "--seed", "--threads", "--schedule", "--distill-temp", "--distill-weight", "--session", "-o", "--test-limit",
                  "--tag"},
                 {"--distill", "--allow-nonfinite"});
    if (a.positional.size() != 1) throw UsageError("finetune takes exactly one MODEL");
    const std::string out = a.get("-o", ""), session_path = a.get("--session", "");
    if (out.empty() && session_path.empty())
        throw UsageError("finetune needs -o OUT (where the recovered model is written) or --session FILE (where its run is saved), or both");
    ss::FinetuneOptions opt;
    opt.plan = compression_plan_from(a);
    if (opt.plan.is_identity()) throw UsageError("finetune needs a compression to recover from: --prune, --quant, --top-k or --plan");
    opt.epochs = int(a.get_int("--epochs", opt.epochs, 1, 10000));
    opt.batch_size = int(a.get_int("--batch", opt.batch_size, 1, 1 << 16));
    opt.learning_rate = float(a.get_double("--lr", opt.learning_rate, 1e-8, 1.0));
    opt.aux_weight = float(a.get_double("--aux", opt.aux_weight, 0.0, 10.0));
    opt.seed = uint64_t(a.get_int("--seed", 1, 0, 1L << 62));
    opt.threads = int(a.get_int("--threads", 1, 1, 256));
    opt.test_limit = int(a.get_int("--test-limit", 0, 1, 1L << 30));
    opt.distill = a.has("--distill") || a.given("--distill-temp") || a.given("--distill-weight");
    opt.temperature = float(a.get_double("--distill-temp", opt.temperature, 1e-3, 1000.0));
    opt.distill_weight = float(a.get_double("--distill-weight", opt.distill_weight, 0.0, 1.0));
    try {
        opt.schedule = ss::parse_gmp_schedule(a.get("--schedule", ""), opt.epochs);
        ss::check_finetune_options(opt);
    } catch (const ss::Error& e) {
        throw UsageError(e.what());
    }

    const ss::Model dense = load_model_from(a, a.positional[0]);
    const std::string dir = a.get("--data", ss::kDefaultDatasetDir);
    if (!ss::is_directory(dir) || !ss::idx_dir_has_split(dir, "train"))
        throw UsageError("--data " + dir + ": finetune needs an IDX directory with a train split (train-images-idx3-ubyte[.gz] and labels)");
    const ss::Dataset train = ss::load_idx_dir(dir, "train");
    ss::Dataset test;
    if (ss::idx_dir_has_split(dir, "t10k")) test = ss::load_idx_dir(dir, "t10k");
    else if (!session_path.empty()) throw UsageError("--session: " + dir + " has no t10k split to evaluate the runs on");
    // Open the session first: a file we cannot write stops here, before minutes of training.
    std::unique_ptr<ss::SessionDb> session;
    if (!session_path.empty()) session = ss::SessionDb::open(session_path, ss::SessionAccess::ReadWrite);

    std::fprintf(stderr, "finetune: %s, %s; %s; %d training samples%s\n", dense.name.c_str(), opt.plan.summary().c_str(),
                 ss::finetune_method(opt).c_str(), train.count,
                 test.count ? (", test accuracy on " + std::to_string(opt.test_limit ? std::min(opt.test_limit, test.count) : test.count) +
                               " samples").c_str()
                            : "");
    std::fprintf(stderr, "finetune: Ctrl-C stops after the current step; nothing is written then\n");
    g_cancel = false;
    opt.cancel = &g_cancel;
    std::signal(SIGINT, on_interrupt);
    const ss::FinetuneResult r = ss::finetune(dense, train, test.count ? &test : nullptr, opt, ss::CalibrationSet(&train),
                                              [](const ss::RecoveryEpoch& e) {
                                                  if (e.epoch == 0)
                                                      std::fprintf(stderr, "epoch  0  %-28s  test %s  sparsity %.4f\n", "(start)",
                                                                   percent(e.test_accuracy).c_str(), e.sparsity);
                                                  else
                                                      std::fprintf(stderr, "epoch %2d  loss %.4f  train %s  test %s  sparsity %.4f  (%.1f s)\n", e.epoch,
                                                                   e.loss, percent(e.train_accuracy).c_str(), percent(e.test_accuracy).c_str(),
                                                                   e.sparsity, e.seconds);
                                                  return true;
                                              });
    std::signal(SIGINT, SIG_DFL);
    if (r.cancelled) {
        std::fprintf(stderr, "finetune: cancelled; nothing written\n");
        return 130;
    }
    for (const std::string& n : r.notes) std::fprintf(stderr, "finetune: %s\n", n.c_str());
    if (!out.empty()) {
        ss::export_compressed_model(r.model, dense, out);
        std::fprintf(stderr, "finetune: wrote %s (%s, sparsity %.4f, %lld weight bytes)\n", out.c_str(), opt.plan.summary().c_str(),
                     r.model.sparsity, (long long)r.model.weight_bytes);
    }
    if (!session) return 0;

    ss::RunRequest req;
    req.dense = &dense;
    req.data = &test;
    req.plan = opt.plan;
    req.calibration = ss::CalibrationSet(&train);
    req.options.threads = opt.threads;
    int64_t one_shot = find_one_shot_run(*session, dense, test, opt.plan);
    if (one_shot == 0 && !opt.schedule.enabled) {
        ss::RunRecord o = ss::run_evaluation(req);
        o.tags = {"one-shot"};
        one_shot = session->add_run(o);
        std::fprintf(stderr, "finetune: run %lld  one-shot   %s  %.2f %%\n", (long long)one_shot, opt.plan.summary().c_str(), 100.0 * o.result.accuracy);
    } else if (one_shot) {
        std::fprintf(stderr, "finetune: run %lld in %s is the one-shot run of this plan\n", (long long)one_shot, session_path.c_str());
    }
    req.compressed = &r.model;
    ss::RunRecord rec = ss::run_evaluation(req);
    rec.recovery.method = ss::finetune_method(opt);
    rec.recovery.curve = r.curve;
    rec.tags = {a.get("--tag", "recovered")};
    const int64_t id = session->add_run(rec);
    std::fprintf(stderr, "finetune: run %lld  recovered  %s  %.2f %% (%s)\n", (long long)id, opt.plan.summary().c_str(), 100.0 * rec.result.accuracy,
                 rec.recovery.method.c_str());
    return 0;
}

} // namespace cli
