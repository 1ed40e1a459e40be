// model_card.h - a model card (Markdown) for one measured run of a compressed model: what the
// model is, how it was compressed, what was measured on which data and machine, where it got
// worse, and the limits of those measurements. Every figure comes from the run record.
#pragma once

#include "eval/run_record.h"

#include <string>
#include <vector>

namespace ss {

struct ModelCardOptions {
    std::vector<std::string> labels; // class names; empty: "class 0", "class 1", ...
    std::string session_path;        // where the run is kept, for provenance; may be empty
    double regression_points = 1.0;  // a class that lost more than this many points is listed as a regression
    bool model_index = true;         // begin with the YAML front matter (model_index_yaml)
};

std::string model_card_markdown(const RunRecord& run, const ModelCardOptions& options = {});

// YAML front matter in the Hugging Face model-index format ("---" ... "---"): the task, the
// dataset, and the measured metrics (accuracy, ECE, flipped samples, corruption accuracy and mCE,
// OOD AUROC and FPR95; perplexity and KL for language models), each `verified: false`.
std::string model_index_yaml(const RunRecord& run);

} // namespace ss
