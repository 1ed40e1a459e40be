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

struct LoadOptions {
    bool allow_nonfinite = false; // load NaN / infinite weights (Model::nonfinite says where the first one is)
    // Hugging Face directories: BF16 / F16 tensors stay in the mapped file as deferred weights
    // (model/weight_data.h), converted to fp32 when first read - for a model that is only
    // compressed (eval --cached-baseline), never evaluated dense from several threads.
    bool defer_16bit = false;
};

// Throws ss::Error naming the file and the tensor for a missing file, a missing or extra tensor,
// a shape mismatch or a corrupt container — and for a NaN or infinite weight, unless
// `allow_nonfinite` (then Model::nonfinite says where the first one is).
Model load_model(const std::string& path, const LoadOptions& options);
inline Model load_model(const std::string& path, bool allow_nonfinite = false) { return load_model(path, LoadOptions{allow_nonfinite, false}); }

// Gives every deferred weight of `model` fp32 values of its own (as a plain load would have) and
// plans its kernels: what a model loaded with defer_16bit needs before it is evaluated dense.
void materialize_deferred(Model& model);

// Writes OUT as a single file when it ends in .safetensors, else as OUT/config.json +
// OUT/model.safetensors. The config always goes into __metadata__["config"] too, with
// `extra_metadata` beside it. Quantized matrices are stored in their low-precision form (see
// docs/model-format.md), everything else as F32. Experts are numbered by position.
void save_model(const Model& model, const std::string& out, const std::map<std::string, std::string>& extra_metadata);

// save_model(model, dir, {}) for a directory.
void save_model_dir(const Model& model, const std::string& dir);

} // namespace ss
