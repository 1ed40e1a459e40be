// evaluate.h - measure a (compressed) model on a dataset: accuracy, routing, latency, throughput.
#pragma once

#include "eval/baseline_comparison.h"
#include "eval/eval_task.h"
#include "compress/compression.h"
#include "eval/expert_stats.h"
#include "eval/layer_cost.h"
#include "eval/ood_eval.h"
#include "eval/robustness.h"
#include "eval/slices.h"
#include "data/dataset.h"

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace ss {

// Called with the fraction done (0..1); return false to cancel. Called from the evaluating thread.
using ProgressFn = std::function<bool(float fraction)>;

struct EvalOptions {
    int limit = 0;             // evaluate the first `limit` samples; 0 = all
    const BaselineOutputs* baseline = nullptr; // the dense model's outputs, for the comparison
    const Model* dense = nullptr;              // when set: timed side by side for the speed ratios
    int batch_size = 256;      // rows per forward for accuracy / throughput
    int latency_samples = 200; // batch-1 forwards timed for p50 / p95
    int latency_warmup = 20;   // untimed batch-1 forwards before those
    int threads = 1;           // OpenBLAS threads
    ProgressFn progress;
};

struct EvalResult {
    bool cancelled = false;
    EvalTask task = EvalTask::Classification;
    std::map<std::string, double> metrics;  // the task's figures by name (eval_task.h); NaN where undefined
    int samples = 0;
    double accuracy = 0.0;                  // top-1, 0..1
    std::vector<double> per_class_accuracy; // (classes); NaN where the class has no samples
    std::vector<int> per_class_count;       // (classes) samples of each class
    std::vector<std::string> moe_layers;    // names, in model order
    std::vector<std::vector<double>> expert_share; // (moe layer, expert): share of routed (row, slot) pairs
    // (moe layer, expert): each position's expert id as numbered in the loaded model (they differ
    // from positions after experts were dropped); set by evaluations, not kept in session files.
    std::vector<std::vector<int>> expert_ids;
    double latency_p50_ms = 0.0;            // batch 1
    double latency_p95_ms = 0.0;
    std::vector<float> latency_samples_ms;  // each timed batch-1 forward, in order (ms)
    double throughput_sps = 0.0;            // samples per second, batched: the median over the batches
    int64_t weight_bytes = 0;
    double sparsity = 0.0;
    double flops_per_sample = 0.0;          // dense-equivalent
    int threads = 1;
    int top_k = 0; // effective top-k of the first MoE layer; 0 when there is none
    std::vector<ExpertLayerStats> expert_stats; // (moe layer)
    std::string kernels;                    // which kernels ran (kernel_plan.h)
    std::string machine;                    // what it ran on (machine_info.h)
    double others_cpus = std::numeric_limits<double>::quiet_NaN(); // CPUs other processes kept busy meanwhile (machine_load.h); NaN: unknown
    std::vector<LayerCost> layers;          // per top-level layer: batch-1 time and resident bytes
    std::vector<MatrixCost> matrices;       // per compressible matrix: zeros, precision, kernels (not kept in session files)
    bool has_comparison = false;            // false when evaluated without a baseline
    Comparison comparison;                  // against the dense model on the same samples
    bool has_robustness = false;            // measured when asked (RunRequest::robustness)
    RobustnessResult robustness;            // accuracy under corruptions, against dense
    bool has_ood = false;                   // measured when asked (RunRequest::ood)
    OodEvaluation ood;                      // in- vs out-of-distribution separation; its figures are also metrics
    std::vector<SliceResult> slices;        // user-defined slices against dense (RunRequest::slices); empty: none asked
};

// What every evaluation reports about the compressed model and the machine before measuring:
// threads, weight bytes, sparsity, FLOPs, kernels, machine. Sets the compute threads.
EvalResult start_result(const CompressedModel& cm, int threads);

// Throws ss::Error when the dataset does not match the model.
EvalResult evaluate(const CompressedModel& model, const Dataset& data, const EvalOptions& opt);

// Nearest-rank percentile of an unsorted sample (copied); p in 0..100.
double percentile(std::vector<double> values, double p);

} // namespace ss
