// sensitivity.h - compress one unit at a time (a linear layer, or one expert with both its
// matrices) and measure what that alone costs, so users see which parts are cheap to compress.
#pragma once

#include "compress/compression_plan.h"
#include "eval/evaluate.h"

#include <string>
#include <vector>

namespace ss {

struct SensitivityRow {
    std::string unit;           // "stem", "moe.experts.3", ...
    double accuracy = 0.0;      // with only this unit compressed
    double accuracy_delta = 0.0;// minus the dense accuracy (negative: a loss)
    double agreement = 0.0;     // top-1 agreement with the dense model
    double mean_kl = 0.0;       // nats
    double bytes_share = 0.0;   // the unit's share of all weight bytes (dense)
    double latency_share = 0.0; // the unit's share of batch-1 forward time (dense, measured)
    int64_t bytes_saved = 0;    // weight bytes the compression saves on this unit
};

// `unit_plan` gives the pruning (global magnitude acts per unit here; neurons is not supported)
// and the quantization applied to each unit in turn. `limit` samples are evaluated per unit.
std::vector<SensitivityRow> sensitivity_sweep(const Model& model, const Dataset& data, const CompressionPlan& unit_plan,
                                              const Dataset* calibration, int limit, const ProgressFn& progress = {});

// Share of batch-1 forward time per top-level layer and per expert, over `samples` samples.
LayerProfile profile_forward(const Model& model, const Dataset& data, int samples);

} // namespace ss
