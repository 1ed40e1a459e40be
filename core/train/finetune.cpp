// finetune.cpp
#include "train/finetune.h"

#include "error.h"
#include "eval/evaluate.h"
#include "kernels/prepared_matrix.h"
#include "kernels/thread_pool.h"
#include "model/forward.h"
#include "model/matrices.h"
#include "train/adam.h"
#include "train/backprop.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>

namespace ss {

namespace {

// The plan's structural part: dropped experts, top-k and pruning; no quantization.
CompressionPlan structural_part(const CompressionPlan& plan) {
    CompressionPlan p = plan;
    p.quant = QuantSpec{};
    p.quant_by_use = QuantByUse{};
    for (auto it = p.layers.begin(); it != p.layers.end();) {
        it->second.quant.reset();
        if (!it->second.prune) it = p.layers.erase(it);
        else ++it;
    }
    return p;
}

// The plan's quantization part alone.
CompressionPlan quantization_part(const CompressionPlan& plan) {
    CompressionPlan q;
    q.quant = plan.quant;
    q.quant_by_use = plan.quant_by_use;
    q.calibration_samples = plan.calibration_samples;
    for (const auto& [key, o] : plan.layers)
        if (o.quant) q.layers[key].quant = o.quant;
    return q;
}

// Pruning alone (for a schedule's steps): the plan's method at sparsity s, its per-layer prune overrides.
CompressionPlan pruning_at(const CompressionPlan& plan, double s) {
    CompressionPlan p;
    p.prune = plan.prune;
    p.prune.sparsity = s;
    p.calibration_samples = plan.calibration_samples;
    for (const auto& [key, o] : plan.layers)
        if (o.prune) p.layers[key].prune = o.prune;
    return p;
}

// Trainable copy: fp32 weights, no low-precision form and no kernels (both would go stale).
void make_trainable(Model& m) {
    restore_dense_weights(m);
    for_each_matrix(m, [](LinearWeights& l) {
        l.quant.reset();
        l.kernels.reset();
        if (l.weight.empty() && l.weight_count() > 0) throw Error("fine-tuning: matrix '" + l.name + "' has no fp32 weights to train");
    }, MatrixScope::All);
}

// Per matrix (for_each_matrix order, MatrixScope::All): 1 where the weight may train, 0 where
// pruning removed it (0 in `pruned`, nonzero in `before`). Empty vector: nothing pruned there.
using Masks = std::vector<std::vector<uint8_t>>;

Masks pruned_masks(const Model& before, Model pruned) {
    restore_dense_weights(pruned);
    std::vector<const LinearWeights*> a, b;
    for_each_matrix(before, [&](const LinearWeights& l) { a.push_back(&l); }, MatrixScope::All);
    for_each_matrix(pruned, [&](const LinearWeights& l) { b.push_back(&l); }, MatrixScope::All);
    if (a.size() != b.size()) throw Error("fine-tuning: pruning changed the number of matrices");
    Masks masks(a.size());
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i]->weight.size() != b[i]->weight.size()) throw Error("fine-tuning: pruning changed the shape of '" + a[i]->name + "'");
        const float* w0 = a[i]->weight.data();
        const float* w1 = b[i]->weight.data();
        const size_t n = a[i]->weight.size();
        bool any = false;
        std::vector<uint8_t> m(n, 1);
        for (size_t j = 0; j < n; ++j)
            if (w1[j] == 0.0f && w0[j] != 0.0f) m[j] = 0, any = true;
        if (any) masks[i] = std::move(m);
    }
    return masks;
}

// A mask only ever removes more: combine (AND) b into a.
void merge_masks(Masks& a, const Masks& b) {
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
        if (b[i].empty()) continue;
        if (a[i].empty()) a[i] = b[i];
        else
            for (size_t j = 0; j < a[i].size(); ++j) a[i][j] &= b[i][j];
    }
}

void apply_masks(Model& m, const Masks& masks) {
    size_t i = 0;
    for_each_matrix(m, [&](LinearWeights& l) {
        const std::vector<uint8_t>& mask = masks[i++];
        if (mask.empty()) return;
        float* w = l.weight.data();
        for (size_t j = 0; j < mask.size(); ++j)
            if (!mask[j]) w[j] = 0.0f;
    }, MatrixScope::All);
}

// What quantization does to each matrix (for_each_matrix order, MatrixScope::All), decided once
// on the starting model (bits by use among it); scheme None where it leaves the matrix as is.
std::vector<QuantSpec> quant_specs(const Model& m, const CompressionPlan& quant, const CalibrationSet& calib) {
    std::vector<QuantSpec> specs;
    const CompressedModel c = compress(m, quant, calib);
    for_each_matrix(c.model, [&](const LinearWeights& l) { specs.push_back(l.quant ? l.quant->spec : QuantSpec{}); },
                    MatrixScope::All);
    return specs;
}

// eff: master with every matrix quantized and dequantized by its spec; pruned weights stay 0.
void quantize_dequantize(const Model& master, const std::vector<QuantSpec>& specs, const Masks& masks, Model& eff) {
    std::vector<const LinearWeights*> src;
    for_each_matrix(master, [&](const LinearWeights& l) { src.push_back(&l); }, MatrixScope::All);
    size_t i = 0;
    for_each_matrix(eff, [&](LinearWeights& l) {
        const LinearWeights& from = *src[i];
        const QuantSpec& spec = specs[i];
        const std::vector<uint8_t>& mask = masks[i];
        ++i;
        if (spec.scheme == QuantScheme::None) {
            l.weight = from.weight;
            return;
        }
        std::vector<float> w = dequantize_weights(quantize_weights(from.weight.data(), from.out, from.in, spec));
        for (size_t j = 0; j < mask.size(); ++j)
            if (!mask[j]) w[j] = 0.0f;
        l.weight = WeightData(std::move(w));
    }, MatrixScope::All);
    for (size_t li = 0; li < master.layers.size(); ++li) // biases and norms: as trained
        if (std::holds_alternative<LayerNormLayer>(master.layers[li])) eff.layers[li] = master.layers[li];
    for_each_matrix(eff, [&, k = size_t(0)](LinearWeights& l) mutable { l.bias = src[k++]->bias; }, MatrixScope::All);
}

// The point of the curve for `m` as the plan would leave it (compressed by the quantization
// part): its sparsity, and its test accuracy (NaN without test data).
void measure_point(const Model& m, const CompressionPlan& quant, const Dataset* test, const CalibrationSet& calib, int limit, int threads,
                   RecoveryEpoch& point) {
    const CompressedModel c = compress(m, quant, calib);
    point.sparsity = c.sparsity;
    if (!test || test->count == 0) return;
    EvalOptions eo;
    eo.limit = limit;
    eo.latency_samples = 0;
    eo.latency_warmup = 0;
    eo.threads = threads;
    point.test_accuracy = evaluate(c, *test, eo).accuracy;
}

std::string format_number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

} // namespace

std::string finetune_method(const FinetuneOptions& opt) {
    std::string s = std::to_string(opt.epochs) + (opt.epochs == 1 ? " epoch" : " epochs");
    s += ", lr " + format_number(opt.learning_rate) + ", batch " + std::to_string(opt.batch_size);
    if (opt.distill) s += ", distilled T=" + format_number(opt.temperature) + " weight " + format_number(opt.distill_weight);
    if (opt.schedule.enabled) s += ", gmp:" + format_number(opt.schedule.start) + ":" + format_number(opt.schedule.end);
    else if (opt.plan.prune.method != PruneMethod::None) s += ", mask fixed";
    if (opt.plan.quant.scheme != QuantScheme::None || opt.plan.quant_by_use.enabled) s += ", quantization-aware (STE)";
    return s;
}

void check_finetune_options(const FinetuneOptions& opt) {
    if (opt.epochs < 1) throw Error("fine-tuning: epochs must be at least 1");
    if (opt.batch_size < 1) throw Error("fine-tuning: batch must be at least 1");
    if (!(opt.learning_rate > 0.0f)) throw Error("fine-tuning: the learning rate must be > 0");
    if (opt.distill && !(opt.distill_weight >= 0.0f && opt.distill_weight <= 1.0f))
        throw Error("fine-tuning: the distillation weight must lie in [0, 1]");
    if (opt.distill && !(opt.temperature > 0.0f)) throw Error("fine-tuning: the distillation temperature must be > 0");
    if (!opt.schedule.enabled) return;
    const PruneMethod m = opt.plan.prune.method;
    if (m != PruneMethod::Magnitude && m != PruneMethod::MagnitudeLayer && m != PruneMethod::Wanda)
        throw Error("--schedule gmp needs --prune magnitude:S, magnitude-layer:S or wanda:S (a sparsity to reach); the plan prunes by " +
                    (m == PruneMethod::None ? std::string("nothing") : opt.plan.prune.label()));
    if (opt.plan.drop_experts > 0 || !opt.plan.drop_expert_names.empty())
        throw Error("--schedule gmp with dropped experts: drop them in a plan of their own first (dropping changes the model's shape)");
    for (const auto& [key, o] : opt.plan.layers)
        if (o.prune && o.prune->method == PruneMethod::Neurons)
            throw Error("--schedule gmp: layer '" + key + "' is pruned by neurons, which changes its shape; schedules prune weights only");
}

FinetuneResult finetune(const Model& dense, const Dataset& train, const Dataset* test, const FinetuneOptions& opt,
                        const CalibrationSet& calibration, const std::function<bool(const RecoveryEpoch&)>& on_epoch,
                        const std::function<void(float)>& on_step) {
    if (dense.task != EvalTask::Classification) throw Error(dense.name + ": fine-tuning covers classifiers (MLP and MoE), not language models");
    check_finetune_options(opt);
    check_dataset_matches(train, dense.input_features(), dense.num_classes(), dense.name);
    if (test) check_dataset_matches(*test, dense.input_features(), dense.num_classes(), dense.name);
    set_compute_threads(std::max(1, opt.threads));

    FinetuneResult out;
    const CompressionPlan quant = quantization_part(opt.plan);
    const bool quantized = !quant.is_identity();
    const double final_sparsity = opt.plan.prune.sparsity;

    // The model trained: the one-shot structural compression, or (scheduled) dense with top-k applied.
    CompressionPlan start_plan = structural_part(opt.plan);
    if (opt.schedule.enabled) {
        start_plan.prune = PruneSpec{};
        start_plan.layers.clear();
    }
    CompressedModel start = compress(dense, start_plan, calibration);
    out.notes = start.notes;
    Model master = std::move(start.model);
    make_trainable(master);
    Masks masks;
    {
        // Against the model before pruning: the same plan without it (shapes differ only by neurons pruning).
        CompressionPlan unpruned = start_plan;
        unpruned.prune = PruneSpec{};
        for (auto it = unpruned.layers.begin(); it != unpruned.layers.end();)
            it = it->second.prune && it->second.prune->method != PruneMethod::Neurons ? unpruned.layers.erase(it) : std::next(it);
        bool shapes_differ = opt.plan.prune.method == PruneMethod::Neurons;
        for (const auto& [key, o] : start_plan.layers) shapes_differ |= o.prune && o.prune->method == PruneMethod::Neurons;
        if (shapes_differ) {
            // Neurons pruning removed rows: what is left trains freely (its zeros are the dense model's).
            for_each_matrix(master, [&](const LinearWeights&) { masks.emplace_back(); }, MatrixScope::All);
        } else {
            masks = pruned_masks(compress(dense, unpruned, calibration).model, master);
        }
    }

    const int features = dense.input_features(), classes = dense.num_classes();
    const int batch = std::max(1, opt.batch_size);
    const int steps_per_epoch = (train.count + batch - 1) / batch;
    const int64_t total_steps = int64_t(steps_per_epoch) * opt.epochs;
    // A schedule recomputes the mask about 50 times over its ramp, and once when it ends.
    const int64_t ramp_steps = opt.schedule.enabled ? int64_t((opt.schedule.end - opt.schedule.start) * steps_per_epoch) : 0;
    const int64_t prune_every = std::max<int64_t>(1, ramp_steps / 50);
    double pruned_to = 0.0;

    RecoveryEpoch e0;
    measure_point(master, quant, test, calibration, opt.test_limit, opt.threads, e0);
    out.curve.push_back(e0);
    if (on_epoch && !on_epoch(e0)) {
        out.cancelled = true;
        return out;
    }

    // Quantization-aware: the weights each step sees (STE), rebuilt from master before every step.
    const std::vector<QuantSpec> specs = quantized ? quant_specs(master, quant, calibration) : std::vector<QuantSpec>{};
    Model eff = master;

    Model grads = make_zero_gradients(master);
    Adam adam(master);
    const auto params = parameter_vectors(master);
    const auto gvec = parameter_vectors(grads);
    std::vector<int> order(static_cast<size_t>(train.count));
    std::iota(order.begin(), order.end(), 0);
    std::vector<float> x(size_t(batch) * features), teacher(opt.distill ? size_t(batch) * classes : 0);
    std::vector<int> labels(static_cast<size_t>(batch));
    ForwardWorkspace teacher_ws;
    int64_t step = 0;
    for (int epoch = 1; epoch <= opt.epochs; ++epoch) {
        const auto t0 = std::chrono::steady_clock::now();
        std::mt19937_64 shuffle_rng(opt.seed * 1000003ull + uint64_t(epoch));
        std::shuffle(order.begin(), order.end(), shuffle_rng);
        RecoveryEpoch rep;
        rep.epoch = epoch;
        double loss = 0.0;
        int64_t correct = 0;
        for (int first = 0; first < train.count; first += batch) {
            if (opt.cancel && opt.cancel->load()) {
                out.cancelled = true;
                return out;
            }
            if (opt.schedule.enabled) {
                const double t = double(step) / steps_per_epoch;
                const double s = gmp_sparsity(opt.schedule, final_sparsity, t);
                const bool ramp_done = t >= opt.schedule.end;
                if (s > pruned_to && (step % prune_every == 0 || ramp_done)) {
                    merge_masks(masks, pruned_masks(master, compress(master, pruning_at(opt.plan, s), calibration).model));
                    apply_masks(master, masks);
                    pruned_to = s;
                }
            }
            const int n = std::min(batch, train.count - first);
            for (int i = 0; i < n; ++i) {
                const int s = order[size_t(first + i)];
                preprocess_input(dense.input, train.sample(s), size_t(features), &x[size_t(i) * features]);
                labels[size_t(i)] = train.labels[size_t(s)];
            }
            Distillation d;
            if (opt.distill) {
                forward(dense, x.data(), n, teacher.data(), ForwardOptions{}, teacher_ws, nullptr);
                d.teacher_logits = teacher.data();
                d.weight = opt.distill_weight;
                d.temperature = opt.temperature;
            }
            zero_gradients(grads);
            // STE: the pass sees the quantized weights; their gradient updates the fp32 ones.
            if (quantized) quantize_dequantize(master, specs, masks, eff);
            const BatchLoss bl = loss_and_gradients(quantized ? eff : master, x.data(), labels.data(), n, opt.aux_weight, grads,
                                                    opt.distill ? &d : nullptr);
            const double l = (opt.distill ? (1.0 - opt.distill_weight) * bl.cross_entropy + opt.distill_weight * bl.distill : bl.cross_entropy);
            if (!std::isfinite(l))
                throw Error("fine-tuning: the loss became " + std::to_string(l) + " at epoch " + std::to_string(epoch) + "; lower --lr");
            loss += l * n;
            correct += bl.correct;
            ++step;
            adam.update(params, gvec, step, cosine_learning_rate(opt.learning_rate, step, total_steps), 0.0);
            apply_masks(master, masks); // pruned weights stay exactly 0
            if (on_step) on_step(float(double(step) / double(total_steps)));
        }
        rep.loss = loss / train.count;
        rep.train_accuracy = double(correct) / train.count;
        rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        measure_point(master, quant, test, calibration, opt.test_limit, opt.threads, rep);
        out.curve.push_back(rep);
        if (on_epoch && !on_epoch(rep)) {
            out.cancelled = true;
            return out;
        }
    }
    out.model = compress(master, quant, calibration);
    out.model.plan = opt.plan;
    out.model.notes = out.notes;
    return out;
}

} // namespace ss
