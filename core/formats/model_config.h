// model_config.h - the classifier-v1 config JSON <-> Model skeleton (shapes, no weights).
// The format is documented in docs/model-format.md.
#pragma once

#include "model/model.h"

#include <string>

namespace ss {

inline constexpr const char* kClassifierFormat = "sparsescope/classifier-v1";
inline constexpr const char* kQuantFormat = "sparsescope-quant-v1"; // config "quantization" section

// Parses a config; `where` prefixes every error ("model/config.json"). The returned Model has all
// layer shapes set and empty weight vectors. Throws ss::Error naming the field and the rule.
Model parse_model_config(const std::string& json_text, const std::string& where);

// The config JSON of a model (weights not included), pretty-printed.
std::string model_config_json(const Model& model);

} // namespace ss
