// model_export.h - writing a compressed model back out as classifier-v1 safetensors.
#pragma once

#include "compression.h"

#include <string>

namespace ss {

// SHA-256 over the files a model was loaded from (config.json first for a directory, then the
// safetensors files in name order); empty for a model built in memory.
std::string model_source_sha256(const Model& model);

// Writes `c` to OUT (a directory, or a single file when OUT ends in .safetensors): pruned weights
// as zeros, int8 weights as I8 + F32 scales, a top-k override written into the config, and
// __metadata__ keys sparsescope.prune / .quant / .top_k / .source_sha256 / .source_name /
// .sparsity. Loading OUT gives bit-identical predictions to evaluating `c` directly.
void export_compressed_model(const CompressedModel& c, const Model& source, const std::string& out);

} // namespace ss
