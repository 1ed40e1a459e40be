// cli_eval.cpp - `sparsescope-cli eval`.
#include "cli_args.h"
#include "cli_commands.h"

#include "compress/compression.h"
#include "kernels/kernel_plan.h"
#include "kernels/thread_pool.h"
#include "data/dataset.h"
#include "error.h"
#include "eval/evaluate.h"
#include "formats/model_io.h"
#include "eval/result_json.h"
#include "eval/run_evaluation.h"
#include "eval/run_record.h"

#include <cmath>
#include <cstdio>

namespace cli {

int cmd_eval(int argc, char** argv) {
    const Args a(argc, argv, 2, {"--data", "--labels", "--label-column", "--prune", "--quant", "--top-k", "--limit", "--threads",
                                 "--input-scale", "--input-mean", "--input-std", "--plan", "--quant-experts-by-use", "--calib",
                                 "--calib-samples"}, {"--json", "--static-kernels"});
    if (a.positional.size() != 1) throw UsageError("eval takes exactly one MODEL");
    const ss::CompressionPlan plan = compression_plan_from(a);
    ss::EvalOptions opt;
    opt.limit = int(a.get_int("--limit", 0, 1, 1L << 30));
    opt.threads = int(a.get_int("--threads", 1, 1, 256));
    ss::set_compute_threads(opt.threads); // kernel choices are measured at this thread count
    if (a.has("--static-kernels")) ss::set_kernel_selection(ss::KernelSelection::Static);

    ss::Model model = ss::load_model(a.positional[0]);
    // Preprocessing overrides (ONNX models carry none: their default is x = raw / 255).
    model.input.scale = a.get_double("--input-scale", model.input.scale, -1e30, 1e30);
    model.input.mean = a.get_double("--input-mean", model.input.mean, -1e30, 1e30);
    model.input.std = a.get_double("--input-std", model.input.std, 1e-30, 1e30);
    if (plan.top_k > 0) {
        for (const ss::MoeLayer* moe : model.moe_layers())
            if (plan.top_k > int(moe->experts.size()))
                throw UsageError("--top-k " + std::to_string(plan.top_k) + " exceeds the " + std::to_string(moe->experts.size()) +
                                 " experts of MoE layer '" + moe->name + "'");
        if (model.moe_layers().empty()) throw UsageError("--top-k given but the model has no MoE layer");
    }
    const std::string data_path = a.get("--data", ss::kDefaultDatasetDir);
    const ss::Dataset data = ss::load_dataset(data_path, {a.get("--labels", ""), a.get("--label-column", "")});
    const auto calib = calibration_data_for(plan, a, data_path);
    ss::RunRequest req;
    req.dense = &model;
    req.data = &data;
    req.plan = plan;
    req.calibration = calib.get();
    req.options = opt;
    std::vector<std::string> notes;
    const ss::RunRecord r = ss::run_evaluation(req, &notes);

    if (a.has("--json")) {
        std::printf("%s\n", ss::run_record_json(r, model.labels).c_str());
        return 0;
    }
    const ss::EvalResult& e = r.result;
    std::printf("model      %s (%s)\n", model.name.c_str(), model.source_path.c_str());
    std::printf("data       %s, %d samples\n", data.source_path.c_str(), e.samples);
    std::printf("compress   prune %s, quant %s, top-k %d\n", plan.prune_label().c_str(), plan.quant_label().c_str(), e.top_k);
    for (const auto& note : notes) std::printf("           %s\n", note.c_str());
    const ss::Comparison& c = e.comparison;
    std::printf("accuracy   %.2f%%  (dense %.2f%%, delta %+.2f points, 95%% CI [%+.2f, %+.2f]; %d gained, %d lost)\n", 100.0 * e.accuracy,
                100.0 * c.baseline_accuracy, 100.0 * c.accuracy_delta, 100.0 * c.delta_ci_low, 100.0 * c.delta_ci_high, c.gained, c.lost);
    std::printf("agreement  %.2f%% top-1 with the dense model, mean KL %.4f nats\n", 100.0 * c.agreement, c.mean_kl);
    for (size_t k = 0; k < e.per_class_accuracy.size(); ++k)
        std::printf("  %-14s %6.2f%%  (%+.2f)  (%d)\n", model.labels[k].c_str(), 100.0 * e.per_class_accuracy[k],
                    100.0 * c.per_class_delta[k], e.per_class_count[k]);
    for (size_t l = 0; l < e.expert_share.size(); ++l) {
        std::printf("experts    %s:", e.moe_layers[l].c_str());
        for (double s : e.expert_share[l]) std::printf(" %.3f", s);
        const ss::ExpertLayerStats& st = e.expert_stats[l];
        std::printf("\n           entropy %.3f of %.3f bits, max/mean %.2f, dead %zu\n", st.entropy_bits,
                    std::log2(double(e.expert_share[l].size())), st.max_over_mean, st.dead.size());
    }
    std::printf("flops      %.3g per sample (dense-equivalent)\n", e.flops_per_sample);
    std::printf("kernels    %s\n", e.kernels.c_str());
    std::printf("speed      %s than dense on this machine: throughput x%.2f, batch-1 latency x%.2f (noise margin %.0f %%)\n",
                c.faster_than_dense ? "FASTER" : "NOT faster", c.throughput_ratio, c.latency_ratio, 100 * ss::kSpeedNoise);
    std::printf("latency    p50 %.3f ms, p95 %.3f ms (batch 1, %d thread%s)\n", e.latency_p50_ms, e.latency_p95_ms, e.threads,
                e.threads > 1 ? "s" : "");
    std::printf("throughput %.0f samples/s\n", e.throughput_sps);
    std::printf("weights    %lld bytes, sparsity %.4f\n", (long long)e.weight_bytes, e.sparsity);
    return 0;
}

} // namespace cli
