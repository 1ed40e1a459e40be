// hf_model.h - a Hugging Face decoder directory (config.json + model.safetensors or a sharded
// index, F32 / F16 / BF16) as a SparseScope language model.
//
// Tensors are memory-mapped; F32 tensors are viewed in place, F16 / BF16 converted once to fp32.
// Per-expert tensors (experts.E.w1 / gate_proj ...), the fused layout (experts.gate_up_proj
// [E, 2I, D], gate half first; experts.down_proj [E, D, I]) and GraniteMoE's input_linear /
// output_linear are all read into per-expert matrices named experts.E.gate_proj / up_proj /
// down_proj (Mixtral: w1 / w3 / w2), the names compression plans use.
#pragma once

#include "model/model.h"

#include <map>
#include <string>

namespace ss {

// Throws ss::Error naming the file, the tensor or field and the rule: unknown architecture or
// unimplemented feature (hf_config.h), missing or extra tensor, a shape that disagrees with the
// config, a tied model that also stores lm_head. `defer_16bit`: BF16 / F16 matrices stay deferred
// in the mapping (LoadOptions::defer_16bit) and kernels are not planned.
Model load_hf_model(const std::string& dir, bool defer_16bit = false);

// Writes a language model as a Hugging Face directory DIR: config.json (the source config with the
// expert count and top-k as the model has them now), model.safetensors with every matrix as F32
// values exactly as the model computes with them (pruned zeros, dequantized codes), experts
// renumbered by position (GraniteMoE: fused input_linear / output_linear), `metadata` in
// __metadata__, and the tokenizer file copied. Throws ss::Error when MoE layers now differ in
// expert count or top-k (one config field holds them all).
void save_hf_model(const Model& model, const std::string& dir, const std::map<std::string, std::string>& metadata);

} // namespace ss
