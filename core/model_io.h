// model_io.h - loading and saving classifier-v1 models (config JSON + safetensors).
//
// A model is either a directory holding config.json + model.safetensors, or a single .safetensors
// file whose __metadata__["config"] holds the config JSON as a string.
#pragma once

#include "model.h"

#include <string>

namespace ss {

// Throws ss::Error naming the file and the tensor for a missing file, a missing or extra tensor,
// a shape mismatch or a corrupt container.
Model load_model(const std::string& path);

// Writes DIR/config.json and DIR/model.safetensors (F32, config also in __metadata__).
void save_model_dir(const Model& model, const std::string& dir);

} // namespace ss
