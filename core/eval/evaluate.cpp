// evaluate.cpp
#include "eval/evaluate.h"
#include "eval/machine_load.h"

#include "model/forward.h"
#include "kernels/kernel_plan.h"
#include "eval/machine_info.h"
#include "compress/sensitivity.h"
#include "kernels/thread_pool.h"

#include "error.h"

#include <cblas.h>
#include <optional>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>


namespace ss {

namespace {
using Clock = std::chrono::steady_clock;

int argmax(const float* v, int n) {
    int best = 0;
    for (int i = 1; i < n; ++i)
        if (v[i] > v[best]) best = i;
    return best;
}
} // namespace

double percentile(std::vector<double> values, double p) {
    if (values.empty()) return 0.0;
    std::sort(values.begin(), values.end());
    const size_t rank = size_t(std::ceil(p / 100.0 * double(values.size())));
    return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

EvalResult start_result(const CompressedModel& cm, int threads) {
    set_compute_threads(std::max(1, threads));
    EvalResult r;
    r.threads = std::max(1, threads);
    r.weight_bytes = cm.weight_bytes;
    r.sparsity = cm.sparsity;
    r.flops_per_sample = cm.flops_per_sample;
    r.kernels = kernel_summary(cm.model);
    r.machine = machine_summary();
    r.matrices = matrix_costs(cm.model);
    return r;
}

EvalResult evaluate(const CompressedModel& cm, const Dataset& data, const EvalOptions& opt) {
    const Model& model = cm.model;
    check_dataset_matches(data, model.input_features(), model.num_classes(), model.name);
    EvalResult r = start_result(cm, opt.threads);
    const CpuTicks ticks_at_start = cpu_ticks_now(); // how busy others keep the machine meanwhile
    const int n = opt.limit > 0 ? std::min(opt.limit, data.count) : data.count;
    const int classes = model.num_classes();
    const int features = model.input_features();
    const int lat_n = std::min(opt.latency_samples, n);
    const int batch = std::max(1, opt.batch_size);
    const double total_work = double(n) + double(lat_n + opt.latency_warmup) * 4.0; // a batch-1 call costs ~4 batched rows
    const ForwardOptions fo; // the plan's top-k is already in the compressed model
    for (const MoeLayer* moe : model.moe_layers()) {
        r.moe_layers.push_back(moe->name);
        r.expert_ids.emplace_back();
        for (const MoeExpert& x : moe->experts) r.expert_ids.back().push_back(x.id);
        if (r.top_k == 0) r.top_k = effective_top_k(*moe, fo);
    }

    ForwardWorkspace ws;
    ExpertSlotCounts counts = make_expert_slot_counts(model);
    std::vector<float> x(size_t(batch) * features), logits(size_t(batch) * classes);
    std::vector<int> correct(size_t(classes), 0);
    r.per_class_count.assign(size_t(classes), 0);
    int total_correct = 0;
    ExpertStatsObserver stats(model, classes);
    std::optional<ComparisonAccumulator> cmp;
    if (opt.baseline) {
        if (opt.baseline->samples < n || opt.baseline->classes != classes)
            throw Error("evaluate: the baseline covers " + std::to_string(opt.baseline->samples) + " samples of " +
                        std::to_string(opt.baseline->classes) + " classes; this evaluation needs " + std::to_string(n) + " of " + std::to_string(classes));
        cmp.emplace(*opt.baseline, classes);
    }

    // The dense model, when given, runs the same inputs side by side (alternating which goes first),
    // so speed ratios compare measurements taken at the same moment on this shared machine.
    ForwardWorkspace dense_ws;
    std::vector<float> dense_logits(logits.size());
    auto time_dense = [&](int m) {
        const auto t0 = Clock::now();
        forward(*opt.dense, x.data(), m, dense_logits.data(), {}, dense_ws, nullptr);
        return std::chrono::duration<double>(Clock::now() - t0).count();
    };
    std::vector<double> batch_ratio; // per batch: dense time / compressed time

    // Pass 1: the whole set in batches, for accuracy, routing and throughput.
    std::vector<double> batch_sps; // samples per second of each batch
    for (int start = 0, b = 0; start < n; start += batch, ++b) {
        const int m = std::min(batch, n - start);
        const auto seconds_since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
        const auto t0 = Clock::now();
        preprocess_input(model.input, data.sample(start), size_t(m) * features, x.data());
        const double prep_s = seconds_since(t0);
        const double dense_first_s = opt.dense && b % 2 ? time_dense(m) : 0.0; // odd batches: dense first
        const auto t1 = Clock::now();
        stats.labels = &data.labels[size_t(start)];
        forward(model, x.data(), m, logits.data(), fo, ws, &counts, &stats);
        const double forward_s = seconds_since(t1);
        batch_sps.push_back(m / std::max(1e-9, prep_s + forward_s));
        if (opt.dense) batch_ratio.push_back((b % 2 ? dense_first_s : time_dense(m)) / std::max(1e-9, forward_s));
        if (cmp) cmp->add(start, logits.data(), &data.labels[size_t(start)], m);
        for (int i = 0; i < m; ++i) {
            const int label = data.labels[size_t(start + i)];
            const bool ok = argmax(&logits[size_t(i) * classes], classes) == label;
            ++r.per_class_count[size_t(label)];
            correct[size_t(label)] += ok;
            total_correct += ok;
        }
        if (opt.progress && !opt.progress(float((start + m) / total_work))) {
            r.cancelled = true;
            return r;
        }
    }
    r.samples = n;
    r.accuracy = n ? double(total_correct) / n : 0.0;
    r.throughput_sps = median_throughput(batch_sps);
    for (int c = 0; c < classes; ++c)
        r.per_class_accuracy.push_back(r.per_class_count[size_t(c)] ? double(correct[size_t(c)]) / r.per_class_count[size_t(c)]
                                                                    : std::numeric_limits<double>::quiet_NaN());
    for (const auto& layer : counts) {
        int64_t sum = 0;
        for (int64_t c : layer) sum += c;
        std::vector<double> share;
        for (int64_t c : layer) share.push_back(sum ? double(c) / double(sum) : 0.0);
        r.expert_share.push_back(std::move(share));
    }
    r.expert_stats = stats.finish(r.expert_share);
    if (cmp) {
        r.has_comparison = true;
        r.comparison = cmp->finish();
    }
    r.metrics["accuracy"] = r.accuracy;
    if (r.has_comparison) {
        r.metrics["agreement"] = r.comparison.agreement;
        r.metrics["mean_kl"] = r.comparison.mean_kl;
        r.metrics["accuracy_delta"] = r.comparison.accuracy_delta;
        r.metrics["ece"] = r.comparison.calibration.ece;
        r.metrics["dense_ece"] = r.comparison.dense_calibration.ece;
    }

    // Pass 2: batch-1 latency over the first samples, after a warm-up.
    auto time_dense_one = [&](int s) { // preprocess + forward, like the compressed timing
        const auto t0 = Clock::now();
        preprocess_input(model.input, data.sample(s), size_t(features), x.data());
        forward(*opt.dense, x.data(), 1, dense_logits.data(), {}, dense_ws, nullptr);
        return std::chrono::duration<double>(Clock::now() - t0).count();
    };
    std::vector<double> lat_ms, dense_lat_ms;
    for (int i = 0; i < opt.latency_warmup + lat_n; ++i) {
        const int s = i % std::max(1, lat_n);
        const double dense_before = opt.dense && i % 2 ? 1e3 * time_dense_one(s) : 0.0;
        const auto t0 = Clock::now();
        preprocess_input(model.input, data.sample(s), size_t(features), x.data());
        forward(model, x.data(), 1, logits.data(), fo, ws, nullptr);
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        const double dense_ms = opt.dense ? (i % 2 ? dense_before : 1e3 * time_dense_one(s)) : 0.0;
        if (i >= opt.latency_warmup) {
            lat_ms.push_back(ms);
            if (opt.dense) dense_lat_ms.push_back(dense_ms);
        }
        if (i % 16 == 15 && opt.progress && !opt.progress(float((n + 4.0 * (i + 1)) / total_work))) {
            r.cancelled = true;
            return r;
        }
    }
    r.latency_samples_ms.assign(lat_ms.begin(), lat_ms.end());
    r.latency_p50_ms = percentile(lat_ms, 50);
    r.latency_p95_ms = percentile(lat_ms, 95);
    if (lat_n > 0) { // where batch-1 time goes: a separate profiled pass, so the timed one has no per-layer clocks
        const int profiled = std::min(lat_n, 50);
        r.layers = layer_costs(model, profile_forward(model, data, profiled), profiled);
    }
    if (r.has_comparison && opt.dense) { // measured side by side: the ratios to trust
        Comparison& c = r.comparison;
        c.throughput_ratio = percentile(batch_ratio, 50);
        c.latency_ratio = r.latency_p50_ms > 0 ? percentile(dense_lat_ms, 50) / r.latency_p50_ms : 0.0;
        c.faster_than_dense = beats_dense(c.throughput_ratio, c.latency_ratio);
    } else if (r.has_comparison && opt.baseline && opt.baseline->threads == r.threads) { // from the baseline's own timing
        Comparison& c = r.comparison;
        c.throughput_ratio = opt.baseline->throughput_sps > 0 ? r.throughput_sps / opt.baseline->throughput_sps : 0.0;
        c.latency_ratio = r.latency_p50_ms > 0 && !lat_ms.empty() ? opt.baseline->latency_p50_ms / r.latency_p50_ms : 0.0;
        c.faster_than_dense = beats_dense(c.throughput_ratio, c.latency_ratio);
    }
    r.others_cpus = others_busy_cpus(ticks_at_start, cpu_ticks_now());
    if (opt.progress) opt.progress(1.0f);
    return r;
}

} // namespace ss
