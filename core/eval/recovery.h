// recovery.h - how a run's model was brought back by fine-tuning (train/finetune.h): the method
// in words and the curve, epoch by epoch. Kept with the run in sessions (schema 12).
#pragma once

#include <limits>
#include <string>
#include <vector>

namespace ss {

struct RecoveryEpoch {
    int epoch = 0;              // 0: the starting point, before any step (the one-shot model, or dense under a schedule)
    double loss = std::numeric_limits<double>::quiet_NaN();           // mean training loss over the epoch (NaN at epoch 0)
    double train_accuracy = std::numeric_limits<double>::quiet_NaN(); // 0..1, over the epoch's batches as trained (NaN at 0)
    double test_accuracy = std::numeric_limits<double>::quiet_NaN();  // 0..1 on the held-out split, compressed as planned; NaN: none
    double sparsity = 0.0;      // of the compressible weights at the epoch's end, as the plan leaves them (quantization may add zeros)
    double seconds = 0.0;       // the epoch's training time (evaluation excluded)
};

struct RecoveryInfo {
    std::string method;                // "5 epochs, lr 0.0005, batch 128, distilled T=2 weight 0.5, gmp:0:3"
    std::vector<RecoveryEpoch> curve;  // epoch 0 first
    bool present() const { return !method.empty(); }
};

} // namespace ss
