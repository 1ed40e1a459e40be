// cli_eval.cpp - `sparsescope-cli eval`.
#include "cli_args.h"
#include "cli_commands.h"

#include "compression.h"
#include "dataset.h"
#include "error.h"
#include "evaluate.h"
#include "model_io.h"
#include "result_json.h"
#include "run_record.h"

#include <cstdio>

namespace cli {

int cmd_eval(int argc, char** argv) {
    const Args a(argc, argv, 2, {"--data", "--labels", "--label-column", "--prune", "--quant", "--top-k", "--limit", "--threads",
                                 "--input-scale", "--input-mean", "--input-std"}, {"--json"});
    if (a.positional.size() != 1) throw UsageError("eval takes exactly one MODEL");
    const ss::CompressionSpec spec = compression_spec_from(a);
    ss::EvalOptions opt;
    opt.limit = int(a.get_int("--limit", 0, 1, 1L << 30));
    opt.threads = int(a.get_int("--threads", 1, 1, 256));

    ss::Model model = ss::load_model(a.positional[0]);
    // Preprocessing overrides (ONNX models carry none: their default is x = raw / 255).
    model.input.scale = a.get_double("--input-scale", model.input.scale, -1e30, 1e30);
    model.input.mean = a.get_double("--input-mean", model.input.mean, -1e30, 1e30);
    model.input.std = a.get_double("--input-std", model.input.std, 1e-30, 1e30);
    if (spec.top_k > 0) {
        for (const ss::MoeLayer* moe : model.moe_layers())
            if (spec.top_k > int(moe->experts.size()))
                throw UsageError("--top-k " + std::to_string(spec.top_k) + " exceeds the " + std::to_string(moe->experts.size()) +
                                 " experts of MoE layer '" + moe->name + "'");
        if (model.moe_layers().empty()) throw UsageError("--top-k given but the model has no MoE layer");
    }
    const ss::Dataset data = ss::load_dataset(a.get("--data", ss::kDefaultDatasetDir), {a.get("--labels", ""), a.get("--label-column", "")});
    const ss::CompressedModel cm = ss::compress(model, spec);
    ss::RunRecord r = ss::make_run_record(model, data, spec);
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

} // namespace cli
