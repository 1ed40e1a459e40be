// sensitivity.cpp
#include "compress/sensitivity.h"

#include "formats/tensor_names.h"
#include "model/overloaded.h"

#include "compress/compression.h"
#include "error.h"
#include "model/forward.h"

#include <algorithm>
#include <numeric>

namespace ss {

LayerProfile profile_forward(const Model& model, const Dataset& data, int samples) {
    check_dataset_matches(data, model.input_features(), model.num_classes(), model.name);
    LayerProfile prof;
    ForwardWorkspace ws;
    std::vector<float> x(size_t(model.input_features())), y(size_t(model.num_classes()));
    const int n = std::min(samples, data.count);
    for (int pass = 0; pass < 2; ++pass) { // pass 0 warms up; pass 1 is measured
        ws.profile = pass ? &prof : nullptr;
        for (int i = 0; i < n; ++i) {
            preprocess_input(model.input, data.sample(i), x.size(), x.data());
            forward(model, x.data(), 1, y.data(), {}, ws, nullptr);
        }
    }
    return prof;
}

std::vector<SensitivityRow> sensitivity_sweep(const Model& model, const Dataset& data, const CompressionPlan& unit_plan,
                                              const Dataset* calibration, int limit, const ProgressFn& progress) {
    if (unit_plan.prune.method == PruneMethod::Neurons)
        throw Error("sensitivity: neurons pruning changes shapes across layers and cannot be applied to one unit");
    LayerOverride o;
    o.prune = unit_plan.prune;
    if (o.prune->method == PruneMethod::Magnitude) o.prune->method = PruneMethod::MagnitudeLayer;
    o.quant = unit_plan.quant;

    // Units, their dense bytes and measured time.
    struct Unit {
        std::string name;
        int64_t bytes = 0;
        double ns = 0.0;
    };
    std::vector<Unit> units;
    const LayerProfile prof = profile_forward(model, data, std::min(200, limit > 0 ? limit : data.count));
    double total_ns = 0.0;
    for (double v : prof.layer_ns) total_ns += v;
    int moe_index = 0;
    for (size_t li = 0; li < model.layers.size(); ++li)
        std::visit(Overloaded{
                       [&](const LinearWeights& lin) { units.push_back({lin.name, lin.weight_count() * 4, prof.layer_ns[li]}); },
                       [&](const MoeLayer& moe) {
                           for (size_t e = 0; e < moe.experts.size(); ++e) {
                               const auto& ex = moe.experts[e];
                               units.push_back({tensor_names::moe_expert(moe.name, ex.id), (ex.fc1.weight_count() + ex.fc2.weight_count()) * 4,
                                                prof.expert_ns[size_t(moe_index)][e]});
                           }
                           ++moe_index;
                       },
                       [&](const Conv2dLayer& c) { units.push_back({c.w.name, c.w.weight_count() * 4, prof.layer_ns[li]}); },
                       [&](const ResidualLayer& r) {
                           if (r.has_projection) units.push_back({r.projection.w.name, r.projection.w.weight_count() * 4, prof.layer_ns[li]});
                       },
                       [](const BatchNorm2dLayer&) {},
                       [](const SpatialLayer&) {},
                       [](const ActivationLayer&) {}, // no weights
                       [](const LayerNormLayer&) {},  // not compressed
                       [](const DropoutLayer&) {},
                       [](const EmbeddingLayer&) { refuse_layer_kind("sensitivity", "embedding"); },
                       [](const RmsNormLayer&) { refuse_layer_kind("sensitivity", "RMSNorm"); },
                       [](const DecoderBlock&) { refuse_layer_kind("sensitivity", "decoder block"); },
                   },
                   model.layers[li]);
    const double total_bytes = double(weight_bytes(model));

    EvalOptions opt;
    opt.limit = limit;
    opt.latency_samples = 0;
    opt.latency_warmup = 0;
    const BaselineOutputs baseline = compute_baseline(model, data, limit);
    opt.baseline = &baseline;
    std::vector<SensitivityRow> rows;
    for (size_t u = 0; u < units.size(); ++u) {
        CompressionPlan p;
        p.layers[units[u].name] = o;
        p.calibration_samples = unit_plan.calibration_samples;
        const CompressedModel c = compress(model, p, calibration);
        const EvalResult r = evaluate(c, data, opt);
        SensitivityRow row;
        row.unit = units[u].name;
        row.accuracy = r.accuracy;
        row.accuracy_delta = r.comparison.accuracy_delta;
        row.agreement = r.comparison.agreement;
        row.mean_kl = r.comparison.mean_kl;
        row.bytes_share = total_bytes > 0 ? double(units[u].bytes) / total_bytes : 0.0;
        row.latency_share = total_ns > 0 ? units[u].ns / total_ns : 0.0;
        row.bytes_saved = int64_t(total_bytes) - c.weight_bytes;
        rows.push_back(row);
        if (progress && !progress(float(u + 1) / float(units.size()))) break;
    }
    return rows;
}

} // namespace ss
