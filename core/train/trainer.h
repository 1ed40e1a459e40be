// trainer.h - trains a classifier-v1 MLP / MoE from scratch: Adam, cross-entropy, load balancing.
#pragma once

#include "data/dataset.h"
#include "model/model.h"

#include <cstdint>
#include <functional>

namespace ss {

struct TrainOptions {
    int epochs = 12;
    int batch_size = 128;
    float learning_rate = 1e-3f; // peak; cosine-decayed to 0 over all steps
    float aux_weight = 0.01f;    // load-balancing loss weight
    float weight_decay = 0.0f;   // decoupled (AdamW); 0 = plain Adam
    uint64_t seed = 1;
    int threads = 1;
};

struct EpochReport {
    int epoch = 0; // 1-based
    double loss = 0.0;     // mean cross-entropy over the epoch
    double aux = 0.0;      // mean load-balancing term
    double train_accuracy = 0.0;
    double seconds = 0.0;
};

// Fills every weight and bias of a config skeleton like PyTorch's nn.Linear default:
// U(-1/sqrt(in), 1/sqrt(in)), from a generator seeded with `seed`.
void init_weights(Model& model, uint64_t seed);

// Trains `model` in place on `data`. on_epoch is called after each epoch; return false to stop.
// on_step (may be empty) gets the fraction of all steps done.
void train_model(Model& model, const Dataset& data, const TrainOptions& opt,
                 const std::function<bool(const EpochReport&)>& on_epoch,
                 const std::function<void(float)>& on_step = {});

} // namespace ss
