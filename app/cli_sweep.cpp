// cli_sweep.cpp - `sparsescope-cli sweep`: a grid of plans evaluated into a session, one committed
// run per grid point; a rerun skips the points already in the session; --shard I/N splits the
// grid over machines (sessions merge joins the parts).
#include "cli_args.h"
#include "cli_commands.h"

#include "compress/compression.h"
#include "data/dataset.h"
#include "error.h"
#include "eval/evaluate.h"
#include "kernels/kernel_plan.h"
#include "formats/model_io.h"
#include "eval/run_evaluation.h"
#include "eval/run_record.h"
#include "data/token_data.h"
#include "eval/lm_evaluate.h"
#include "session/session_db.h"
#include "eval/sweep_grid.h"
#include "kernels/thread_pool.h"

#include <chrono>
#include <set>
#include <cstdio>

namespace cli {

int cmd_sweep(int argc, char** argv) {
    const Args a(argc, argv, 2, {"--data", "--labels", "--label-column", "--prune-method", "--sparsity", "--quant", "--top-k", "--session",
                                 "--shard", "--limit", "--threads", "--latency-samples", "--tag", "--calib", "--calib-samples",
                                 "--input-scale", "--input-mean", "--input-std", "--ctx", "--chunks", "--gen-tokens", "--tokenizer",
                                 "--severities", "--corruptions", "--robustness-samples", "--ood"},
                 {"--static-kernels", "--allow-nonfinite", "--robustness"});
    if (a.positional.size() != 1) throw UsageError("sweep takes exactly one MODEL");
    const std::string session_path = a.get("--session", "");
    if (session_path.empty()) throw UsageError("sweep needs --session FILE (the session the runs are saved in, one by one)");
    ss::SweepGrid grid;
    try {
        grid = ss::parse_sweep_grid(a.get("--prune-method", "magnitude"), a.get("--sparsity", "0"), a.get("--quant", "none"),
                                    a.get("--top-k", "0"));
    } catch (const ss::Error& e) {
        throw UsageError(e.what());
    }
    ss::SweepShard shard;
    try {
        if (a.options.count("--shard")) shard = ss::parse_sweep_shard(a.get("--shard", ""));
    } catch (const ss::Error& e) {
        throw UsageError(e.what());
    }
    const std::vector<ss::CompressionPlan> plans = ss::expand_sweep(grid);
    ss::EvalOptions opt;
    opt.limit = int(a.get_int("--limit", 0, 1, 1L << 30));
    opt.threads = int(a.get_int("--threads", 1, 1, 256));
    opt.latency_samples = int(a.get_int("--latency-samples", 200, 1, 100000));
    ss::set_compute_threads(opt.threads);
    if (a.has("--static-kernels")) ss::set_kernel_selection(ss::KernelSelection::Static);

    ss::Model model = load_model_from(a, a.positional[0]);
    model.input.scale = a.get_double("--input-scale", model.input.scale, -1e30, 1e30);
    model.input.mean = a.get_double("--input-mean", model.input.mean, -1e30, 1e30);
    model.input.std = a.get_double("--input-std", model.input.std, 1e-30, 1e30);
    for (const ss::CompressionPlan& p : plans)
        for (const ss::MoeLayer* moe : model.moe_layers())
            if (p.top_k > int(moe->experts.size()))
                throw UsageError("--top-k " + std::to_string(p.top_k) + " exceeds the " + std::to_string(moe->experts.size()) +
                                 " experts of MoE layer '" + moe->name + "'");
    const bool lm = model.task == ss::EvalTask::LanguageModeling;
    if (lm && !a.options.count("--data")) throw UsageError("a language model needs --data FILE.txt or FILE.npy");
    const std::string data_path = a.get("--data", ss::kDefaultDatasetDir);
    ss::Dataset data;
    ss::TokenData tokens;
    std::string data_key; // what the grid key says about the data: its hash (and, for text, the chunking)
    ss::LmEvalOptions lm_opt;
    if (lm) {
        tokens = ss::load_token_data(data_path, model.lm.vocab, model.lm.tokenizer_path, {a.get("--tokenizer", ""), false});
        lm_opt.ctx = int(a.get_int("--ctx", std::min(512, model.lm.max_positions), 1, 1 << 24));
        lm_opt.chunks = int(a.get_int("--chunks", 0, 1, 1 << 30));
        lm_opt.gen_tokens = int(a.get_int("--gen-tokens", 32, 0, 1 << 20));
        data_key = tokens.sha256 + "|ctx=" + std::to_string(lm_opt.ctx) + "|chunks=" + std::to_string(lm_opt.chunks);
    } else {
        data = ss::load_dataset(data_path, {a.get("--labels", ""), a.get("--label-column", ""), opt.limit, ""});
        ss::check_dataset_matches(data, model.input_features(), model.num_classes(), model.name);
        data_key = data.sha256;
    }

    // Open (or create) the session before measuring anything: a file we cannot write stops here.
    std::unique_ptr<ss::SessionDb> session = ss::SessionDb::open(session_path, ss::SessionAccess::ReadWrite);
    if (!session->backup_path().empty())
        std::fprintf(stderr, "sweep: %s was schema %d; the original is kept as %s\n", session_path.c_str(), session->found_version(),
                     session->backup_path().c_str());
    const std::set<std::string> done = session->grid_keys();
    std::vector<size_t> todo;
    size_t skipped = 0, other_shards = 0;
    for (size_t i = 0; i < plans.size(); ++i) {
        if (!shard.runs(i)) {
            ++other_shards;
            continue;
        }
        if (done.count(ss::sweep_grid_key(plans[i], model.sha256(), data_key, opt.limit))) ++skipped;
        else todo.push_back(i);
    }
    std::fprintf(stderr, "sweep: %zu grid points%s; %zu already in %s, %zu to run\n", plans.size(),
                 shard.count > 1 ? (", shard " + std::to_string(shard.index) + "/" + std::to_string(shard.count) + " takes " +
                                    std::to_string(plans.size() - other_shards)).c_str()
                                 : "",
                 skipped, session_path.c_str(), todo.size());
    if (todo.empty()) return 0;

    const auto baseline = lm ? nullptr : std::make_shared<const ss::BaselineOutputs>(ss::compute_baseline(model, data, opt.limit, opt.threads));
    const auto start = std::chrono::steady_clock::now();
    std::unique_ptr<ss::Dataset> calib; // the same data for every plan that needs it: read once
    std::unique_ptr<ss::TokenData> calib_text;
    size_t ran = 0, done_elsewhere = 0;
    std::vector<std::string> taken; // points another running sweep is measuring
    // --robustness, --ood: measured for every point (the dense side of robustness is cached).
    const ss::RobustnessOptions robustness = wants_robustness(a) ? robustness_options_from(a) : ss::RobustnessOptions{};
    const ss::Dataset ood = !lm && a.given("--ood") ? ood_samples_from(a, model) : ss::Dataset{};
    for (size_t n = 0; n < todo.size(); ++n) {
        const ss::CompressionPlan& plan = plans[todo[n]];
        // Claimed atomically: a second sweep into the same file takes the other points.
        const std::string key = ss::sweep_grid_key(plan, model.sha256(), data_key, opt.limit);
        const ss::GridClaim claim = session->claim_grid_point(key);
        if (claim.state == ss::GridClaim::State::Done) {
            ++done_elsewhere;
            continue;
        }
        if (claim.state == ss::GridClaim::State::Taken) {
            taken.push_back(plan.summary() + " (" + claim.holder + ")");
            continue;
        }
        struct Release { // a measurement that throws gives its point back
            ss::SessionDb& db;
            const std::string& key;
            bool armed = true;
            ~Release() {
                if (armed) try { db.release_grid_claim(key); } catch (...) {}
            }
        } release{*session, key};
        if (plan.needs_calibration() && !lm && !calib) calib = calibration_data_for(plan, a, data_path);
        if (plan.needs_calibration() && lm && !calib_text) calib_text = calibration_text_for(plan, a, model);
        ss::RunRequest req;
        req.dense = &model;
        req.data = lm ? nullptr : &data;
        req.tokens = lm ? &tokens : nullptr;
        req.lm = lm_opt;
        req.plan = plan;
        if (plan.needs_calibration()) req.calibration = lm ? ss::CalibrationSet(calib_text.get(), lm_opt.ctx) : ss::CalibrationSet(calib.get());
        req.options = opt;
        req.baseline = [&](const ss::Model&, int, int) { return baseline; }; // computed once for the whole grid
        if (!lm && wants_robustness(a)) req.robustness = &robustness;
        if (!lm && a.given("--ood")) {
            req.ood = &ood;
            req.ood_name = a.get("--ood", "");
        }
        ss::RunRecord r = ss::run_evaluation(req);
        r.grid_key = key;
        if (a.options.count("--tag")) r.tags = {a.get("--tag", "")};
        const int64_t id = session->add_run(r); // committed (and the claim dropped): a crash from here on keeps it
        release.armed = false;
        ++ran;
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double left = elapsed / double(n + 1) * double(todo.size() - n - 1);
        const ss::EvalResult& e = r.result;
        if (lm)
            std::fprintf(stderr, "[%zu/%zu] run %lld  %-40s  ppl %.4f  KL %.5f  %.1f tok/s  x%.2f  (%.0f s left)\n", n + 1, todo.size(), (long long)id,
                         plan.summary().c_str(), e.metrics.at("perplexity"), e.metrics.count("kld_mean") ? e.metrics.at("kld_mean") : 0.0,
                         e.metrics.at("gen_tps"), e.comparison.latency_ratio, left);
        else
            std::fprintf(stderr, "[%zu/%zu] run %lld  %-40s  %6.2f %%  p50 %.3f ms  x%.2f  (%.0f s left)\n", n + 1, todo.size(), (long long)id,
                         plan.summary().c_str(), 100.0 * e.accuracy, e.latency_p50_ms, e.comparison.throughput_ratio, left);
    }
    if (done_elsewhere || !taken.empty()) {
        std::fprintf(stderr, "sweep: %zu run here; %zu finished by another sweep into %s meanwhile; %zu being run by another sweep now\n", ran,
                     done_elsewhere, session_path.c_str(), taken.size());
        for (const std::string& t : taken) std::fprintf(stderr, "  %s\n", t.c_str());
        if (!taken.empty()) std::fprintf(stderr, "sweep: rerun this command after that sweep ends to fill any point it leaves unfinished\n");
    }
    return 0;
}

} // namespace cli
