// run_record.h - one evaluated configuration: what was asked, on what, and what was measured.
#pragma once

#include "compress/compression.h"
#include "data/token_data.h"
#include "eval/evaluate.h"
#include "eval/recovery.h"
#include "model/model.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ss {

struct RunRecord {
    int64_t id = 0;         // 1-based within a session
    std::string created_at; // UTC, ISO 8601 ("2026-11-28T12:00:00Z")
    std::string model_name;
    std::string model_path;
    std::string dataset_path;
    std::string dataset_sha256; // empty when unknown (sessions written before schema 2)
    std::string model_sha256;   // of the model's files; empty when unknown (sessions before schema 6)
    std::string dataset_card;   // the dataset's card as JSON (dataset_card.h); empty when none (token data, sessions before schema 11)
    std::string app_version;    // SparseScope that measured it; empty before schema 6
    std::vector<std::string> tags;
    std::string grid_key;       // the sweep grid point it measured (sweep_grid.h); empty outside sweeps
    InputSpec input;            // preprocessing used: x = (raw * scale - mean) / std
    CompressionPlan plan;
    EvalResult result;
    RecoveryInfo recovery;  // set when the model was fine-tuned to recover accuracy (train/finetune.h)
    std::string note; // the user's own words about the run
    bool hidden = false;    // the user hid it: left out of the table and the plots until shown again
    std::string deleted_at; // UTC, ISO 8601, when the user deleted it; empty: not deleted (purging removes it for good)
    bool deleted() const { return !deleted_at.empty(); }
};

std::string utc_now_iso8601();

// A record of evaluating `model` (compressed by `spec`) on `data`, with `result` filled by the caller.
RunRecord make_run_record(const Model& model, const Dataset& data, const CompressionPlan& plan);
// The same for a language model's evaluation text.
RunRecord make_run_record(const Model& model, const TokenData& data, const CompressionPlan& plan);

} // namespace ss
