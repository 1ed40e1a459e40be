// finetune.h - recovery fine-tuning of a compressed classifier (MLP or MoE): training goes on with
// the pruning mask held fixed, or grown step by step by gradual magnitude pruning, quantization-
// aware through the straight-through estimator, optionally distilled from the dense model's logits.
//
// The plan is applied in two parts. Its structural part (dropped experts, top-k, pruning) makes the
// model that is trained: weights pruned by it stay exactly 0 after every step (the mask is "was
// pruned", so weights that were 0 in the dense model remain free). Its quantization part is applied
// afresh before every step: the forward and backward pass see the quantized weights, and their
// gradient updates the fp32 weights underneath as if quantization were the identity (STE; Bengio
// et al. 2013). The result is the trained weights compressed by the whole plan.
#pragma once

#include "compress/calibration.h"
#include "compress/compression.h"
#include "data/dataset.h"
#include "eval/recovery.h"
#include "model/model.h"
#include "train/gmp_schedule.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ss {

struct FinetuneOptions {
    CompressionPlan plan;        // what the recovered model satisfies
    int epochs = 5;
    int batch_size = 128;
    float learning_rate = 5e-4f; // peak, cosine-decayed to 0 over all steps
    float aux_weight = 0.01f;    // MoE load balancing, as in training
    uint64_t seed = 1;           // batch order
    int threads = 1;
    bool distill = false;        // learn the dense model's logits too (train/backprop.h Distillation)
    float distill_weight = 0.5f;
    float temperature = 2.0f;
    GmpSchedule schedule;        // prune gradually from dense instead of fine-tuning the one-shot mask
    int test_limit = 0;          // > 0: the per-epoch test accuracy on this many samples only
    const std::atomic<bool>* cancel = nullptr; // set: stop at the next step
};

// The method in words for the run's record ("5 epochs, lr 0.0005, batch 128, distilled T=2 ...").
std::string finetune_method(const FinetuneOptions& opt);

// Throws ss::Error when the options cannot work for this plan: a schedule needs a pruning method
// with a sparsity to reach (magnitude, magnitude-layer, wanda); neurons pruning and dropped experts
// change shapes and are not scheduled.
void check_finetune_options(const FinetuneOptions& opt);

struct FinetuneResult {
    CompressedModel model;           // the recovered model, compressed by opt.plan
    std::vector<RecoveryEpoch> curve; // epoch 0 (the start) and every epoch run
    std::vector<std::string> notes;  // what compression decided on calibration data
    bool cancelled = false;          // stopped by opt.cancel or on_epoch: `model` is not set
};

// dense: the model as loaded (never modified); train: the samples trained on; test (may be null):
// the held-out split for the curve; calibration: for plans that need it (Wanda, dropping K experts,
// bits by use) - the train split will do. on_epoch sees each point of the curve as it is made
// (return false to stop); on_step gets the fraction of all steps done. Throws ss::Error for a plan
// or data that does not fit the model, or a loss that stops being finite.
FinetuneResult finetune(const Model& dense, const Dataset& train, const Dataset* test, const FinetuneOptions& opt,
                        const CalibrationSet& calibration = {},
                        const std::function<bool(const RecoveryEpoch&)>& on_epoch = {},
                        const std::function<void(float)>& on_step = {});

} // namespace ss
