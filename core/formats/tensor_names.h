// tensor_names.h - the one table of tensor names: classifier-v1 (PyTorch naming) and the Hugging
// Face decoder families (Llama, Mixtral, Qwen2-MoE, OLMoE, GraniteMoE).
#pragma once

#include "model/model.h"

#include <string>

namespace ss::tensor_names {

inline std::string weight(const std::string& prefix) { return prefix + ".weight"; }
inline std::string bias(const std::string& prefix) { return prefix + ".bias"; }
inline std::string weight_scale(const std::string& prefix) { return prefix + ".weight_scale"; }   // quantized storage
inline std::string weight_packed(const std::string& prefix) { return prefix + ".weight_packed"; } // packed low-bit codes
inline std::string weight_zero(const std::string& prefix) { return prefix + ".weight_zero"; }     // asymmetric zero points
inline std::string moe_gate(const std::string& moe) { return moe + ".gate"; }
inline std::string moe_expert(const std::string& moe, int expert) { return moe + ".experts." + std::to_string(expert); }
inline std::string moe_fc1(const std::string& moe, int expert) { return moe_expert(moe, expert) + ".fc1"; }
inline std::string moe_fc2(const std::string& moe, int expert) { return moe_expert(moe, expert) + ".fc2"; }


// An expert's three matrices: fc1 (gate_proj / w1), up (up_proj / w3), fc2 (down_proj / w2).
enum class ExpertPart { Fc1, Up, Fc2 };
inline const char* expert_part(ExpertNaming n, ExpertPart p) {
    static const char* names[3][3] = {{"fc1", "up", "fc2"}, {"w1", "w3", "w2"}, {"gate_proj", "up_proj", "down_proj"}};
    return names[int(n)][int(p)];
}
inline std::string expert_matrix(ExpertNaming n, const std::string& moe, int expert, ExpertPart p) {
    return moe_expert(moe, expert) + "." + expert_part(n, p);
}

// Hugging Face decoders.
inline const char* hf_embedding() { return "model.embed_tokens"; }
inline const char* hf_final_norm() { return "model.norm"; }
inline const char* hf_lm_head() { return "lm_head"; }
inline std::string hf_block(int layer) { return "model.layers." + std::to_string(layer); }
inline std::string hf_attn(const std::string& block, const char* part) { return block + ".self_attn." + part; } // q_proj, q_norm, ...
inline std::string hf_attn_norm(const std::string& block) { return block + ".input_layernorm"; }
inline std::string hf_ffn_norm(const std::string& block) { return block + ".post_attention_layernorm"; }
inline std::string hf_mlp(const std::string& block, ExpertPart p) { return block + ".mlp." + expert_part(ExpertNaming::HfProj, p); }
inline std::string hf_shared_expert(const std::string& moe, ExpertPart p) { return moe + ".shared_expert." + expert_part(ExpertNaming::HfProj, p); }
inline std::string hf_shared_expert_gate(const std::string& moe) { return moe + ".shared_expert_gate"; }

} // namespace ss::tensor_names
