// model_io.h - loading and saving classifier-v1 models (config JSON + safetensors).
//
// A model is either a directory holding config.json + model.safetensors (or a sharded
// model.safetensors.index.json), a single .safetensors file whose __metadata__["config"] holds the
// config JSON as a string, or an .onnx file (see onnx_import.h; preprocessing x = raw / 255).
#pragma once

#include "model/model.h"

#include <map>
#include <string>

namespace ss {

// Throws ss::Error naming the file and the tensor for a missing file, a missing or extra tensor,
// a shape mismatch or a corrupt container — and for a NaN or infinite weight, unless
// `allow_nonfinite` (then Model::nonfinite says where the first one is).
Model load_model(const std::string& path, bool allow_nonfinite = false);

// Writes OUT as a single file when it ends in .safetensors, else as OUT/config.json +
// OUT/model.safetensors. The config always goes into __metadata__["config"] too, with
// `extra_metadata` beside it. Quantized matrices are stored in their low-precision form (see
// docs/model-format.md), everything else as F32. Experts are numbered by position.
void save_model(const Model& model, const std::string& out, const std::map<std::string, std::string>& extra_metadata);

// save_model(model, dir, {}) for a directory.
void save_model_dir(const Model& model, const std::string& dir);

} // namespace ss
