// hf_model.cpp
#include "formats/hf_model.h"

#include "error.h"
#include "formats/file_io.h"
#include "formats/hf_config.h"
#include "formats/sha256.h"
#include "formats/tensor_names.h"
#include "formats/tensor_set.h"
#include "formats/tokenizer.h"
#include "kernels/kernel_plan.h"
#include "kernels/prepared_matrix.h"
#include "formats/safetensors.h"
#include "model/matrices.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <deque>
#include <set>
#include <filesystem>

namespace ss {

namespace {
namespace fs = std::filesystem;
namespace tn = tensor_names;
using tn::ExpertPart;

RmsNormLayer rms_norm(std::string name, int dim, double eps) {
    RmsNormLayer n;
    n.name = std::move(name);
    n.dim = dim;
    n.eps = eps;
    return n;
}

MoeExpert gated(int id, const std::string& fc1, const std::string& up, const std::string& fc2, int dim, int hidden) {
    MoeExpert e;
    e.id = id;
    e.fc1 = make_linear(fc1, dim, hidden, false);
    e.up = make_linear(up, dim, hidden, false);
    e.fc2 = make_linear(fc2, hidden, dim, false);
    return e;
}

MoeLayer moe_layer(const HfConfig& c, const std::string& block) {
    MoeLayer m;
    const bool block_sparse = c.family == HfFamily::Mixtral || c.family == HfFamily::GraniteMoe;
    m.name = block + (block_sparse ? ".block_sparse_moe" : ".mlp");
    m.dim = c.dim;
    m.hidden = c.expert_intermediate;
    m.top_k = c.top_k;
    m.activation = Activation::Silu;
    m.naming = c.family == HfFamily::Mixtral ? ExpertNaming::Mixtral : ExpertNaming::HfProj;
    m.rule = c.family == HfFamily::GraniteMoe ? RoutingRule::TopKSoftmax
             : c.norm_topk_prob               ? RoutingRule::SoftmaxTopKRenorm
                                              : RoutingRule::SoftmaxTopK;
    m.gate = make_linear(m.name + (c.family == HfFamily::GraniteMoe ? ".router.layer" : ".gate"), c.dim, c.experts, false);
    for (int e = 0; e < c.experts; ++e)
        m.experts.push_back(gated(e, tn::expert_matrix(m.naming, m.name, e, ExpertPart::Fc1), tn::expert_matrix(m.naming, m.name, e, ExpertPart::Up),
                                  tn::expert_matrix(m.naming, m.name, e, ExpertPart::Fc2), c.dim, c.expert_intermediate));
    if (c.family == HfFamily::Qwen2Moe && c.shared_intermediate > 0) {
        m.has_shared = true;
        m.shared = gated(-1, tn::hf_shared_expert(m.name, ExpertPart::Fc1), tn::hf_shared_expert(m.name, ExpertPart::Up),
                         tn::hf_shared_expert(m.name, ExpertPart::Fc2), c.dim, c.shared_intermediate);
        m.shared_gate = make_linear(tn::hf_shared_expert_gate(m.name), c.dim, 1, false);
    }
    return m;
}

Model build_model(const HfConfig& c) {
    Model m;
    m.task = EvalTask::LanguageModeling;
    m.lm.architecture = c.architecture;
    m.lm.vocab = c.vocab;
    m.lm.max_positions = c.max_positions;
    m.lm.bos = c.bos;
    m.lm.eos = c.eos;
    m.lm.logits_scaling = c.logits_scaling;
    m.lm.tied_embeddings = c.tied_embeddings;

    EmbeddingLayer emb;
    emb.table = make_linear(tn::hf_embedding(), c.dim, c.vocab, false);
    emb.multiplier = float(c.embedding_multiplier);
    m.layers.emplace_back(std::move(emb));
    const int q_out = c.heads * c.head_dim, kv_out = c.kv_heads * c.head_dim;
    for (int i = 0; i < c.layers; ++i) {
        DecoderBlock b;
        b.name = tn::hf_block(i);
        b.dim = c.dim;
        b.attn_norm = rms_norm(tn::hf_attn_norm(b.name), c.dim, c.rms_eps);
        AttentionWeights& a = b.attn;
        a.q = make_linear(tn::hf_attn(b.name, "q_proj"), c.dim, q_out, c.qkv_bias);
        a.k = make_linear(tn::hf_attn(b.name, "k_proj"), c.dim, kv_out, c.qkv_bias);
        a.v = make_linear(tn::hf_attn(b.name, "v_proj"), c.dim, kv_out, c.qkv_bias);
        a.o = make_linear(tn::hf_attn(b.name, "o_proj"), q_out, c.dim, c.o_bias);
        a.heads = c.heads;
        a.kv_heads = c.kv_heads;
        a.head_dim = c.head_dim;
        a.rope_theta = c.rope_theta;
        a.scale = c.family == HfFamily::GraniteMoe ? c.attention_multiplier : 1.0 / std::sqrt(double(c.head_dim));
        a.clip_qkv = c.clip_qkv;
        if (c.family == HfFamily::Olmoe) {
            a.q_norm = rms_norm(tn::hf_attn(b.name, "q_norm"), q_out, c.rms_eps);
            a.k_norm = rms_norm(tn::hf_attn(b.name, "k_norm"), kv_out, c.rms_eps);
        }
        b.ffn_norm = rms_norm(tn::hf_ffn_norm(b.name), c.dim, c.rms_eps);
        b.is_moe = c.is_moe_layer(i);
        if (b.is_moe) b.moe = moe_layer(c, b.name);
        else b.mlp = gated(0, tn::hf_mlp(b.name, ExpertPart::Fc1), tn::hf_mlp(b.name, ExpertPart::Up), tn::hf_mlp(b.name, ExpertPart::Fc2), c.dim, c.intermediate);
        b.residual_multiplier = float(c.residual_multiplier);
        m.layers.emplace_back(std::move(b));
    }
    m.layers.emplace_back(rms_norm(tn::hf_final_norm(), c.dim, c.rms_eps));
    m.layers.emplace_back(make_linear(tn::hf_lm_head(), c.dim, c.vocab, false));
    return m;
}

// Whether elements [offset, offset + n) of this tensor can stay deferred in the mapping: 16-bit
// floats at an aligned address.
bool deferrable(const SafetensorsFile& f, const SafetensorsEntry& e) {
    return (e.dtype == DType::BF16 || e.dtype == DType::F16) && reinterpret_cast<uintptr_t>(f.raw(e)) % alignof(uint16_t) == 0;
}

WeightData deferred_part(const SafetensorsFile& f, const SafetensorsEntry& e, size_t offset, size_t n) {
    const auto* p = reinterpret_cast<const uint16_t*>(f.raw(e)) + offset;
    return WeightData::deferred(f.source(), p, n, e.dtype == DType::BF16 ? DeferredType::BF16 : DeferredType::F16);
}

// A tensor as fp32 whose storage can be shared (tied embeddings, fused expert slices); deferred
// when asked and possible.
WeightData shared_f32(const SafetensorsFile& f, const SafetensorsEntry& e, bool defer) {
    if (defer && deferrable(f, e)) return deferred_part(f, e, 0, (e.end - e.begin) / 2);
    WeightData w = f.to_f32(e); // a view: into the mapping (aligned F32) or into converted storage
    if (std::as_const(w).data() != reinterpret_cast<const float*>(f.raw(e))) f.release(e); // converted: the file's pages can go
    return w;
}

WeightData slice(const WeightData& all, size_t offset, size_t n) {
    auto keep = std::make_shared<const WeightData>(all);
    return WeightData::view(keep, keep->data() + offset, n);
}

// Fused experts: gate_up [E, 2I, D] (gate half first) and down [E, D, I] into per-expert views
// (or per-expert deferred parts).
void load_fused(TensorSet& ts, MoeLayer& moe, const std::string& gate_up, const std::string& down, bool defer) {
    const int E = int(moe.experts.size()), I = moe.hidden, D = moe.dim;
    auto [fg, eg] = ts.take(gate_up, {E, 2 * I, D}, moe.name, false);
    auto [fd, ed] = ts.take(down, {E, D, I}, moe.name, false);
    const size_t mat = size_t(I) * size_t(D);
    if (defer && deferrable(*fg, *eg) && deferrable(*fd, *ed)) {
        for (int e = 0; e < E; ++e) {
            MoeExpert& x = moe.experts[size_t(e)];
            x.fc1.weight = deferred_part(*fg, *eg, size_t(e) * 2 * mat, mat);
            x.up.weight = deferred_part(*fg, *eg, size_t(e) * 2 * mat + mat, mat);
            x.fc2.weight = deferred_part(*fd, *ed, size_t(e) * mat, mat);
        }
        return;
    }
    const WeightData gu = shared_f32(*fg, *eg, false), dn = shared_f32(*fd, *ed, false);
    for (int e = 0; e < E; ++e) {
        MoeExpert& x = moe.experts[size_t(e)];
        x.fc1.weight = slice(gu, size_t(e) * 2 * mat, mat);
        x.up.weight = slice(gu, size_t(e) * 2 * mat + mat, mat);
        x.fc2.weight = slice(dn, size_t(e) * mat, mat);
    }
}
} // namespace

Model load_hf_model(const std::string& dir, bool defer_16bit) {
    ModelDirectory d = open_model_directory(dir);
    const HfConfig c = parse_hf_config(d.config_text, d.config_path);
    // Hashing starts now, beside the loading; it checks nothing the loader relies on.
    Model m = build_model(c);
    m.lm.config_json = d.config_text;
    m.name = fs::path(dir).filename().string();
    if (m.name.empty()) m.name = fs::path(dir).parent_path().filename().string();
    m.source_path = dir;
    TensorSet& ts = d.tensors;

    // Expert tensors stored fused, per MoE layer.
    for (MoeLayer* moe : m.moe_layers()) {
        const std::string hf_fused = moe->name + ".experts.gate_up_proj";
        if (c.family == HfFamily::GraniteMoe) load_fused(ts, *moe, moe->name + ".input_linear.weight", moe->name + ".output_linear.weight", defer_16bit);
        else if (ts.find(hf_fused)) load_fused(ts, *moe, hf_fused, moe->name + ".experts.down_proj", defer_16bit);
    }
    WeightData embedding;
    for (int li = 0; li < int(m.layers.size()); ++li) {
        for_each_layer_matrix(m, li, MatrixScope::All, [&](LinearWeights& l, const MatrixInfo& info) {
            const bool expert = info.role == MatrixRole::ExpertFc1 || info.role == MatrixRole::ExpertUp || info.role == MatrixRole::ExpertFc2;
            if (expert && !l.weight.empty()) return; // from a fused tensor
            if (info.role == MatrixRole::Output && c.tied_embeddings) {
                if (ts.find(tn::weight(l.name)))
                    throw Error(d.config_path + ": field 'tie_word_embeddings' is true but the weights also hold a separate '" +
                                tn::weight(l.name) + "'");
                l.weight = embedding; // shares the table's storage
                return;
            }
            auto [f, e] = ts.take(tn::weight(l.name), {l.out, l.in}, info.name, false);
            l.weight = shared_f32(*f, *e, defer_16bit);
            if (info.role == MatrixRole::Embedding) embedding = l.weight;
            if (l.has_bias) {
                auto [fb, eb] = ts.take(tn::bias(l.name), {l.out}, info.name, false);
                l.bias = fb->to_f32(*eb);
            }
        });
        for_each_layer_vector(m, li, [&](WeightData& v, const VectorInfo& info) {
            auto [f, e] = ts.take(info.tensor, {info.size}, info.owner, false);
            v = f->to_f32(*e);
        });
    }
    for (const std::string& name : ts.names()) // buffers some checkpoints carry: not parameters
        if (name.ends_with(".rotary_emb.inv_freq")) ts.ignore(name);
    ts.check_all_used();
    m.source = ts.info();
    m.sha256_pending = hash_files_async(d.files);
    m.lm.tokenizer_path = tokenizer_in_directory(dir);
    if (!defer_16bit) plan_kernels(m); // deferred: planned after compression (or materialize_deferred)
    return m;
}

namespace {
// Hidden sizes as they are now (neurons pruning shrinks them) into the config: one per kind, as
// Hugging Face configs hold them, or a refusal naming the field when a kind's sizes now differ.
void set_intermediate_sizes(const Model& model, nlohmann::json& cfg, const std::string& dir) {
    std::map<std::string, std::set<int>> sizes; // config field -> hidden sizes found
    const std::string expert_field = cfg.contains("moe_intermediate_size") ? "moe_intermediate_size" : "intermediate_size";
    for (const auto& layer : model.layers) {
        const auto* b = std::get_if<DecoderBlock>(&layer);
        if (!b) continue;
        if (!b->is_moe) {
            sizes["intermediate_size"].insert(b->mlp.fc1.out);
            continue;
        }
        for (const MoeExpert& e : b->moe.experts) sizes[expert_field].insert(e.fc1.out);
        if (b->moe.has_shared) sizes["shared_expert_intermediate_size"].insert(b->moe.shared.fc1.out);
    }
    for (const auto& [field, found] : sizes) {
        if (found.size() > 1)
            throw Error(dir + "/config.json: " + field + " would need " + std::to_string(found.size()) +
                        " different values (the plan gave matrices of one kind different hidden sizes); a Hugging Face config holds one");
        cfg[field] = *found.begin();
    }
}
} // namespace

void save_hf_model(const Model& model, const std::string& dir, const std::map<std::string, std::string>& metadata) {
    nlohmann::json cfg = nlohmann::json::parse(model.lm.config_json);
    const auto moes = model.moe_layers();
    if (!moes.empty()) {
        for (const MoeLayer* moe : moes)
            if (moe->experts.size() != moes.front()->experts.size() || moe->top_k != moes.front()->top_k)
                throw Error(dir + ": MoE layers now differ in expert count or top-k; a Hugging Face config holds one of each (drop the same number per layer)");
        const bool local = cfg.contains("num_local_experts");
        cfg[local ? "num_local_experts" : "num_experts"] = int(moes.front()->experts.size());
        cfg["num_experts_per_tok"] = moes.front()->top_k;
    }
    set_intermediate_sizes(model, cfg, dir);
    const bool granite = model.lm.architecture == "GraniteMoeForCausalLM";
    std::deque<std::vector<float>> values; // each tensor's F32 values, alive until written
    std::vector<SafetensorsTensorOut> out;
    auto add = [&](const std::string& name, std::vector<int64_t> shape, std::vector<float> v) {
        values.push_back(std::move(v));
        out.push_back({name, DType::F32, std::move(shape), values.back().data()});
    };
    for (int li = 0; li < int(model.layers.size()); ++li) {
        for_each_layer_matrix(const_cast<Model&>(model), li, MatrixScope::All, [&](const LinearWeights& l, const MatrixInfo& info) {
            if (info.role == MatrixRole::Output && model.lm.tied_embeddings) return;
            const bool expert = info.role == MatrixRole::ExpertFc1 || info.role == MatrixRole::ExpertUp || info.role == MatrixRole::ExpertFc2;
            if (granite && expert) return; // fused below
            add(tn::weight(info.stored_name), {l.out, l.in}, dense_weights(l));
            if (l.has_bias) add(tn::bias(info.stored_name), {l.out}, l.bias.to_vector());
        });
        for_each_layer_vector(const_cast<Model&>(model), li, [&](WeightData& v, const VectorInfo& info) { add(info.tensor, {info.size}, v.to_vector()); });
    }
    if (granite)
        for (const MoeLayer* moe : moes) {
            const int64_t E = int64_t(moe->experts.size()), I = moe->experts.front().fc1.out, D = moe->dim;
            std::vector<float> in, outw;
            for (const MoeExpert& e : moe->experts) {
                for (const LinearWeights* l : {&e.fc1, &e.up}) {
                    const auto w = dense_weights(*l);
                    in.insert(in.end(), w.begin(), w.end());
                }
                const auto w2 = dense_weights(e.fc2);
                outw.insert(outw.end(), w2.begin(), w2.end());
            }
            add(moe->name + ".input_linear.weight", {E, 2 * I, D}, std::move(in));
            add(moe->name + ".output_linear.weight", {E, D, I}, std::move(outw));
        }
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw Error(dir + ": cannot create directory: " + ec.message());
    std::map<std::string, std::string> meta = metadata;
    meta["format"] = "pt";
    write_safetensors((fs::path(dir) / "model.safetensors").string(), out, meta);
    const std::string text = cfg.dump(2);
    write_file_bytes((fs::path(dir) / "config.json").string(), std::vector<uint8_t>(text.begin(), text.end()));
    if (!model.lm.tokenizer_path.empty()) {
        const auto tok = read_file_bytes(model.lm.tokenizer_path);
        write_file_bytes((fs::path(dir) / fs::path(model.lm.tokenizer_path).filename()).string(), tok);
    }
}

} // namespace ss
