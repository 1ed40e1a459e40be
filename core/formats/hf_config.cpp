// hf_config.cpp
#include "formats/hf_config.h"

#include "error.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>

namespace ss {

namespace {
using json = nlohmann::json;

struct Family {
    const char* architecture;
    HfFamily family;
};
constexpr Family kFamilies[] = {
    {"LlamaForCausalLM", HfFamily::Llama},       {"MixtralForCausalLM", HfFamily::Mixtral}, {"Qwen2MoeForCausalLM", HfFamily::Qwen2Moe},
    {"OlmoeForCausalLM", HfFamily::Olmoe},       {"GraniteMoeForCausalLM", HfFamily::GraniteMoe},
};

// Typed access to config fields; every message names the file and the field.
class Fields {
public:
    Fields(const json& j, const std::string& path) : j_(j), path_(path) {}

    [[noreturn]] void fail(const std::string& field, const std::string& rule) const {
        throw Error(path_ + ": field '" + field + "' " + rule);
    }
    bool has(const char* f) const { return j_.contains(f) && !j_[f].is_null(); }

    int integer(const char* f, int lo, int hi) const {
        if (!has(f)) fail(f, "is missing");
        return integer_or(f, 0, lo, hi);
    }
    int integer_or(const char* f, int fallback, int lo, int hi) const {
        if (!has(f)) return fallback;
        const json& v = j_[f];
        if (!v.is_number_integer()) fail(f, "must be an integer");
        const long long x = v.get<long long>();
        if (x < lo || x > hi) fail(f, "= " + std::to_string(x) + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
        return int(x);
    }
    double number_or(const char* f, double fallback, double lo, double hi) const {
        if (!has(f)) return fallback;
        const json& v = j_[f];
        if (!v.is_number()) fail(f, "must be a number");
        const double x = v.get<double>();
        if (!std::isfinite(x) || x < lo || x > hi) fail(f, "= " + v.dump() + " must be a finite number in [" + json(lo).dump() + ", " + json(hi).dump() + "]");
        return x;
    }
    bool boolean_or(const char* f, bool fallback) const {
        if (!has(f)) return fallback;
        if (!j_[f].is_boolean()) fail(f, "must be true or false");
        return j_[f].get<bool>();
    }
    std::string string_or(const char* f, const std::string& fallback) const {
        if (!has(f)) return fallback;
        if (!j_[f].is_string()) fail(f, "must be a string");
        return j_[f].get<std::string>();
    }
    // A token id, or the first of a list (eos_token_id may be a list).
    int token_or(const char* f, int vocab) const {
        if (!has(f)) return -1;
        const json& v = j_[f];
        const json& first = v.is_array() && !v.empty() ? v[0] : v;
        if (!first.is_number_integer()) fail(f, "must be a token id (or a list of them)");
        const long long x = first.get<long long>();
        if (x < 0 || x >= vocab) fail(f, "= " + std::to_string(x) + " is not a token id of the " + std::to_string(vocab) + "-token vocabulary");
        return int(x);
    }
    const json& raw(const char* f) const { return j_[f]; }

private:
    const json& j_;
    const std::string& path_;
};

constexpr int kMaxDim = 1 << 16;
constexpr int kMaxVocab = 1 << 24;
} // namespace

bool HfConfig::is_moe_layer(int layer) const {
    switch (family) {
    case HfFamily::Llama: return false;
    case HfFamily::Qwen2Moe: return experts > 0 && !mlp_only_layers.count(layer) && (layer + 1) % sparse_step == 0;
    case HfFamily::Mixtral:
    case HfFamily::Olmoe:
    case HfFamily::GraniteMoe: return true;
    }
    return false;
}

bool is_hf_config(const std::string& json_text) {
    try {
        const json j = json::parse(json_text);
        return j.is_object() && j.contains("architectures");
    } catch (const std::exception&) {
        return false;
    }
}

HfConfig parse_hf_config(const std::string& json_text, const std::string& path) {
    json j;
    try {
        j = json::parse(json_text);
    } catch (const std::exception& e) {
        throw Error(path + ": not valid JSON: " + e.what());
    }
    if (!j.is_object()) throw Error(path + ": must hold a JSON object");
    const Fields f(j, path);
    HfConfig c;
    c.path = path;

    if (!f.has("architectures") || !f.raw("architectures").is_array() || f.raw("architectures").size() != 1 || !f.raw("architectures")[0].is_string())
        f.fail("architectures", "must be a list of one architecture name");
    c.architecture = f.raw("architectures")[0].get<std::string>();
    bool known = false;
    for (const Family& fam : kFamilies)
        if (c.architecture == fam.architecture) {
            c.family = fam.family;
            known = true;
        }
    if (!known)
        f.fail("architectures", "= " + c.architecture +
                                    " is not supported (supported: LlamaForCausalLM, MixtralForCausalLM, Qwen2MoeForCausalLM, OlmoeForCausalLM, "
                                    "GraniteMoeForCausalLM)");
    const HfFamily fam = c.family;

    c.vocab = f.integer("vocab_size", 2, kMaxVocab);
    c.dim = f.integer("hidden_size", 1, kMaxDim);
    c.layers = f.integer("num_hidden_layers", 1, 4096);
    c.heads = f.integer("num_attention_heads", 1, 4096);
    c.kv_heads = f.integer_or("num_key_value_heads", c.heads, 1, c.heads);
    if (c.heads % c.kv_heads) f.fail("num_key_value_heads", "= " + std::to_string(c.kv_heads) + " must divide num_attention_heads = " + std::to_string(c.heads));
    c.head_dim = f.integer_or("head_dim", 0, 2, kMaxDim);
    if (c.head_dim == 0) {
        if (c.dim % c.heads) f.fail("hidden_size", "= " + std::to_string(c.dim) + " must be a multiple of num_attention_heads when head_dim is not given");
        c.head_dim = c.dim / c.heads;
    }
    if (c.head_dim % 2) f.fail("head_dim", "= " + std::to_string(c.head_dim) + " must be even (rotary pairs)");
    if (fam != HfFamily::Llama && fam != HfFamily::Mixtral && c.head_dim * c.heads != c.dim)
        f.fail("head_dim", "must equal hidden_size / num_attention_heads for " + c.architecture);
    c.max_positions = f.integer("max_position_embeddings", 2, 1 << 24);
    c.rms_eps = f.number_or("rms_norm_eps", fam == HfFamily::Mixtral || fam == HfFamily::Olmoe ? 1e-5 : 1e-6, 0.0, 1.0);
    double theta = fam == HfFamily::Mixtral ? 1e6 : 10000.0;
    if (f.has("rope_parameters")) {
        const json& rp = f.raw("rope_parameters");
        if (!rp.is_object()) f.fail("rope_parameters", "must be an object");
        const std::string type = rp.value("rope_type", std::string("default"));
        if (type != "default") f.fail("rope_parameters", "rope_type '" + type + "' is not implemented (only the default rotary embedding)");
        if (rp.contains("rope_theta")) {
            if (!rp["rope_theta"].is_number() || !(rp["rope_theta"].get<double>() > 0)) f.fail("rope_parameters", "rope_theta must be a positive number");
            theta = rp["rope_theta"].get<double>();
        }
    }
    c.rope_theta = f.number_or("rope_theta", theta, 1e-6, 1e12);
    if (f.has("rope_scaling")) f.fail("rope_scaling", "= " + f.raw("rope_scaling").dump() + " is not implemented (only unscaled rotary embeddings)");
    const std::string act = f.string_or("hidden_act", "silu");
    if (act != "silu") f.fail("hidden_act", "= " + act + " is not implemented (only silu)");
    if (f.has("sliding_window") && f.boolean_or("use_sliding_window", fam != HfFamily::Qwen2Moe)) {
        const int w = f.integer("sliding_window", 1, std::numeric_limits<int>::max());
        if (w < c.max_positions)
            f.fail("sliding_window", "= " + std::to_string(w) + " is shorter than max_position_embeddings = " + std::to_string(c.max_positions) +
                                         ": sliding-window attention is not implemented");
    }
    if (f.boolean_or("mlp_bias", false)) f.fail("mlp_bias", "= true is not implemented");
    if (f.has("position_embedding_type") && f.string_or("position_embedding_type", "rope") != "rope")
        f.fail("position_embedding_type", "must be rope");
    c.tied_embeddings = f.boolean_or("tie_word_embeddings", false);
    c.bos = f.token_or("bos_token_id", c.vocab);
    c.eos = f.token_or("eos_token_id", c.vocab);
    const bool attention_bias = f.boolean_or("attention_bias", false);
    c.qkv_bias = fam == HfFamily::Qwen2Moe ? f.boolean_or("qkv_bias", true) : attention_bias;
    c.o_bias = fam == HfFamily::Qwen2Moe ? false : attention_bias;
    c.intermediate = f.integer_or("intermediate_size", 0, 1, 1 << 20);

    if (fam != HfFamily::Llama) {
        const char* experts_field = fam == HfFamily::Mixtral || fam == HfFamily::GraniteMoe ? "num_local_experts" : "num_experts";
        c.experts = f.integer(experts_field, 1, 4096);
        c.top_k = f.integer("num_experts_per_tok", 1, c.experts);
        c.expert_intermediate = fam == HfFamily::Qwen2Moe || fam == HfFamily::Olmoe ? f.integer_or("moe_intermediate_size", c.intermediate, 1, 1 << 20)
                                                                                      : c.intermediate;
        if (c.expert_intermediate <= 0) f.fail("intermediate_size", "is missing");
        c.norm_topk_prob = fam == HfFamily::Mixtral ? true : f.boolean_or("norm_topk_prob", false);
    }
    if (fam == HfFamily::Llama || fam == HfFamily::Qwen2Moe)
        if (c.intermediate <= 0) f.fail("intermediate_size", "is missing");
    if (fam == HfFamily::Qwen2Moe) {
        c.shared_intermediate = f.integer_or("shared_expert_intermediate_size", 5632, 0, 1 << 20);
        c.sparse_step = f.integer_or("decoder_sparse_step", 1, 1, c.layers);
        if (f.has("mlp_only_layers")) {
            if (!f.raw("mlp_only_layers").is_array()) f.fail("mlp_only_layers", "must be a list of layer indices");
            for (const json& v : f.raw("mlp_only_layers")) {
                if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() >= c.layers)
                    f.fail("mlp_only_layers", "must hold layer indices in [0, " + std::to_string(c.layers) + ")");
                c.mlp_only_layers.insert(v.get<int>());
            }
        }
    }
    if (fam == HfFamily::Olmoe) c.clip_qkv = f.number_or("clip_qkv", 0.0, 0.0, 1e30);
    if (fam == HfFamily::GraniteMoe) {
        c.embedding_multiplier = f.number_or("embedding_multiplier", 1.0, -1e30, 1e30);
        c.attention_multiplier = f.number_or("attention_multiplier", 1.0, -1e30, 1e30);
        c.residual_multiplier = f.number_or("residual_multiplier", 1.0, -1e30, 1e30);
        c.logits_scaling = f.number_or("logits_scaling", 1.0, 1e-30, 1e30);
    }
    return c;
}

} // namespace ss
