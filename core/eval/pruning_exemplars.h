// pruning_exemplars.h - the samples compression takes away every time: right under the dense model
// and wrong under every one of several compressed runs of it (Hooker et al. 2019, "What Do
// Compressed Deep Neural Networks Forget?", call them pruning-identified exemplars). Across a
// sparsity sweep they are the atypical, hard or mislabelled minority an average hides.
#pragma once

#include "eval/run_record.h"

#include <string>
#include <vector>

namespace ss {

struct PruningExemplar {
    int sample = 0;              // index in the evaluated data
    int label = 0;
    int dense_pred = 0;          // == label
    std::vector<int> preds;      // (runs) each run's prediction
    double mean_p_true = 0.0;    // mean over the runs of p(true class)
    float dense_p_true = 0.0f;
};

struct ExemplarReport {
    std::vector<int64_t> run_ids;         // the runs compared, in the order given
    int samples = 0;                      // evaluated samples (the same in every run)
    std::vector<PruningExemplar> exemplars; // by mean p(true) ascending: the most surely forgotten first
    std::vector<int> per_class;           // (classes seen) exemplars per true class
};

// Runs must share the model, the data (path and SHA-256) and the sample count, and each must have
// been compared with the dense model; else ss::Error naming the first run that differs and how.
// At least one run.
ExemplarReport pruning_identified_exemplars(const std::vector<const RunRecord*>& runs);

} // namespace ss
