// model_export.h - writing a compressed model back out as classifier-v1 safetensors.
#pragma once

#include "compress/compression.h"

#include <string>

namespace ss {

// SHA-256 over the files a model was loaded from (config.json first for a directory, then the
// safetensors files in name order); empty for a model built in memory.
std::string model_source_sha256(const Model& model);

// Writes `c` to OUT (a directory, or a single file when OUT ends in .safetensors): pruned weights
// as zeros, quantized weights in their stored form, dropped experts gone and top-k in the config,
// and __metadata__ keys sparsescope.plan (JSON) / .prune / .quant / .sparsity / .notes /
// .source_name / .source_sha256. Loading OUT gives bit-identical predictions to evaluating `c`.
void export_compressed_model(const CompressedModel& c, const Model& source, const std::string& out);

} // namespace ss
