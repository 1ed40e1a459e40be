// hf_config.h - a Hugging Face decoder's config.json, read and checked before anything is loaded.
//
// Families: LlamaForCausalLM, MixtralForCausalLM, Qwen2MoeForCausalLM, OlmoeForCausalLM,
// GraniteMoeForCausalLM. Anything this reader does not implement exactly (another architecture,
// sliding-window attention shorter than the context, rope_scaling, an activation other than silu,
// MLP biases ...) is refused with one message naming the file and the field: never run approximately.
#pragma once

#include <set>
#include <string>

namespace ss {

enum class HfFamily { Llama, Mixtral, Qwen2Moe, Olmoe, GraniteMoe };

struct HfConfig {
    std::string path;          // config.json, for messages
    std::string architecture;  // as written, e.g. "MixtralForCausalLM"
    HfFamily family = HfFamily::Llama;
    int vocab = 0;
    int dim = 0;               // hidden_size
    int layers = 0;            // num_hidden_layers
    int heads = 0;             // num_attention_heads
    int kv_heads = 0;          // num_key_value_heads (GQA); = heads when absent
    int head_dim = 0;          // head_dim, or hidden_size / heads
    int intermediate = 0;      // dense MLP hidden size (intermediate_size)
    int max_positions = 0;     // max_position_embeddings
    double rms_eps = 1e-6;
    double rope_theta = 10000.0;
    bool tied_embeddings = false;
    int bos = -1, eos = -1;
    bool qkv_bias = false;     // q/k/v projections have biases (Qwen2-MoE; attention_bias)
    bool o_bias = false;       // o_proj has a bias (Llama/OLMoE attention_bias)
    // MoE
    int experts = 0;           // 0: no MoE layers
    int top_k = 0;             // num_experts_per_tok
    int expert_intermediate = 0; // moe_intermediate_size, else intermediate_size
    bool norm_topk_prob = false;
    int shared_intermediate = 0; // Qwen2-MoE shared expert; 0: none
    int sparse_step = 1;         // Qwen2-MoE decoder_sparse_step
    std::set<int> mlp_only_layers;
    double clip_qkv = 0.0;       // OLMoE; 0: none
    // GraniteMoE
    double embedding_multiplier = 1.0;
    double attention_multiplier = 0.0; // 0: 1/sqrt(head_dim)
    double residual_multiplier = 1.0;
    double logits_scaling = 1.0;

    bool is_moe_layer(int layer) const; // the family's rule for which layers have experts
};

// Throws ss::Error("PATH: field 'F' ...") for a missing, mistyped or out-of-range field and for
// anything not implemented.
HfConfig parse_hf_config(const std::string& json_text, const std::string& path);

// True when the text looks like a Hugging Face config (has "architectures"), not classifier-v1.
bool is_hf_config(const std::string& json_text);

} // namespace ss
