// gguf_export.cpp
#include "formats/gguf_export.h"

#include "error.h"
#include "formats/ggml_blocks.h"
#include "formats/tokenizer.h"
#include "kernels/prepared_matrix.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <map>
#include <memory>

namespace ss {

namespace {

// A matrix and how its rows go out: `source_row(r)` is the model row written as row r.
struct MatrixOut {
    const LinearWeights* l = nullptr;
    std::function<int(int)> source_row; // identity when empty
};

// A quantized matrix's codes in the integer kernels' blocks: the kernel's own copy when the plan
// made one (no conversion), else built from l.quant.
std::shared_ptr<const QMatrix> codes_of(const LinearWeights& l) {
    if (auto q = prepared(l).qmat) return q;
    return std::make_shared<QMatrix>(qmatrix_from(*quantized_weights_of(l)));
}

// The type a matrix is written as: its own quantized form exactly, else `dense`.
GgmlType type_of(const LinearWeights& l, GgmlType dense, const std::string& gguf_name) {
    if (!l.quant) return dense;
    const QuantSpec& s = l.quant->spec;
    if (s.scheme == QuantScheme::F16) return GgmlType::F16;
    if (s.scheme == QuantScheme::BF16) return GgmlType::BF16;
    const GgmlType t = s.bits() == 8 ? GgmlType::Q8_0 : GgmlType::Q4_0;
    std::string why;
    if (s.asym) why = "asymmetric zero points have no Q8_0 / Q4_0 form (" + s.label() + ")";
    else if (!qmatrix_supports(*l.quant) && !prepared(l).qmat) why = "groups of " + std::to_string(s.group) + " are not whole blocks of 32";
    if (why.empty() && ggml_blocks_exact(*codes_of(l), t, &why)) return t;
    throw Error("GGUF export: " + l.name + " (" + gguf_name + ") cannot be written as " + ggml_type_name(t) + ": " + why);
}

// Rows of one or more matrices (stacked experts) of one type -> bytes.
void fill_rows(const std::vector<MatrixOut>& parts, GgmlType t, std::vector<uint8_t>& out) {
    uint64_t bytes = 0;
    for (const MatrixOut& m : parts) bytes += ggml_row_bytes(t, m.l->in) * uint64_t(m.l->out);
    out.reserve(bytes);
    for (const MatrixOut& m : parts) {
        const LinearWeights& l = *m.l;
        auto row = [&](int r) { return m.source_row ? m.source_row(r) : r; };
        if (l.quant && (t == GgmlType::Q8_0 || t == GgmlType::Q4_0)) {
            const auto q = codes_of(l);
            for (int r = 0; r < l.out; ++r) ggml_encode_codes_row(*q, row(r), t, out);
        } else {
            const std::vector<float> w = dense_weights(l);
            for (int r = 0; r < l.out; ++r) ggml_encode_row(t, w.data() + size_t(row(r)) * l.in, l.in, out);
        }
    }
}

void refuse(const Model& m, const std::string& why) { throw Error("GGUF export: " + m.name + ": " + why + "; llama.cpp's llama architecture has no place for it"); }

std::string lower(std::string s) {
    for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

uint32_t file_type(GgmlType t) {
    switch (t) { // llama_ftype: ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q4_0 2, MOSTLY_Q8_0 7, MOSTLY_BF16 32
    case GgmlType::F32: return 0;
    case GgmlType::F16: return 1;
    case GgmlType::Q4_0: return 2;
    case GgmlType::Q8_0: return 7;
    case GgmlType::BF16: return 32;
    }
    return 0;
}

// Placeholder pieces for a model without a tokenizer: <unk>, <s>, </s>, the 256 byte pieces
// <0x00> .. <0xFF> (llama.cpp's SentencePiece vocabulary looks some of them up, "<0x0A>" for a
// newline), then <tok_N>.
TokenizerVocabulary placeholder_vocabulary(int vocab) {
    TokenizerVocabulary v;
    v.model = "llama";
    static const char* hex = "0123456789ABCDEF";
    for (int i = 0; i < vocab; ++i) {
        if (i < 3) {
            v.tokens.push_back(i == 0 ? "<unk>" : i == 1 ? "<s>" : "</s>");
            v.types.push_back(i == 0 ? 2 : 3);
        } else if (i < 3 + 256) {
            const int b = i - 3;
            v.tokens.push_back(std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">");
            v.types.push_back(6);
        } else {
            v.tokens.push_back("<tok_" + std::to_string(i) + ">");
            v.types.push_back(1);
        }
        v.scores.push_back(i < 3 + 256 ? 0.0f : -float(i));
    }
    v.unk = 0;
    v.bos = vocab > 1 ? 1 : -1;
    v.eos = vocab > 2 ? 2 : -1;
    return v;
}

} // namespace

std::optional<GgmlType> parse_ggml_type(const std::string& s) {
    const std::string t = lower(s);
    if (t == "f32") return GgmlType::F32;
    if (t == "f16") return GgmlType::F16;
    if (t == "bf16") return GgmlType::BF16;
    if (t == "q8_0") return GgmlType::Q8_0;
    if (t == "q4_0") return GgmlType::Q4_0;
    return std::nullopt;
}

std::vector<std::string> export_gguf(const Model& model, const std::string& path, const GgufExportOptions& o) {
    if (model.task != EvalTask::LanguageModeling) throw Error("GGUF export: " + model.name + " is not a language model (GGUF holds llama.cpp's decoders)");
    const EmbeddingLayer* embed = nullptr;
    const RmsNormLayer* final_norm = nullptr;
    const LinearWeights* head = nullptr;
    std::vector<const DecoderBlock*> blocks;
    for (const Layer& layer : model.layers) {
        if (const auto* e = std::get_if<EmbeddingLayer>(&layer)) embed = e;
        else if (const auto* b = std::get_if<DecoderBlock>(&layer)) blocks.push_back(b);
        else if (const auto* n = std::get_if<RmsNormLayer>(&layer)) final_norm = n;
        else if (const auto* l = std::get_if<LinearWeights>(&layer)) head = l;
        else refuse(model, "a layer that is not embedding, decoder block, final norm or lm_head");
    }
    if (!embed || !final_norm || !head || blocks.empty()) refuse(model, "no embedding, decoder blocks, final norm and lm_head");
    // What the llama architecture cannot express.
    if (embed->multiplier != 1.0f) refuse(model, "an embedding multiplier");
    if (model.lm.logits_scaling != 1.0) refuse(model, "logits scaling");
    if (head->has_bias) refuse(model, "a bias on lm_head");
    const DecoderBlock& b0 = *blocks.front();
    const int dim = b0.dim, heads = b0.attn.heads, kv_heads = b0.attn.kv_heads, hd = b0.attn.head_dim;
    int hidden = 0, experts = 0, top_k = 0;
    for (const DecoderBlock* b : blocks) {
        const AttentionWeights& a = b->attn;
        if (b->residual_multiplier != 1.0f) refuse(model, b->name + ": a residual multiplier");
        if (a.clip_qkv > 0 || a.q_norm.dim > 0 || a.k_norm.dim > 0) refuse(model, b->name + ": q/k norms or clipping");
        if (a.q.has_bias || a.k.has_bias || a.v.has_bias || a.o.has_bias) refuse(model, b->name + ": attention biases");
        if (a.scale != 0.0 && std::abs(a.scale * std::sqrt(double(hd)) - 1.0) > 1e-6) refuse(model, b->name + ": an attention scale other than 1/sqrt(head_dim)");
        if (a.heads != heads || a.kv_heads != kv_heads || a.head_dim != hd || a.rope_theta != b0.attn.rope_theta || b->attn_norm.eps != b0.attn_norm.eps)
            refuse(model, b->name + ": blocks of different shapes");
        if (b->is_moe != b0.is_moe) refuse(model, b->name + ": dense and MoE blocks mixed");
        if (b->is_moe) {
            const MoeLayer& m = b->moe;
            if (m.has_shared) refuse(model, b->name + ": a shared expert");
            // Softmax over the k largest logits equals the full softmax's k largest renormalised.
            if (m.rule == RoutingRule::SoftmaxTopK) refuse(model, b->name + ": routing weights that are not renormalised over the top k");
            if (m.activation != Activation::Silu) refuse(model, b->name + ": an expert activation other than SiLU");
            if (experts && (int(m.experts.size()) != experts || m.top_k != top_k)) refuse(model, b->name + ": blocks with different expert counts");
            experts = int(m.experts.size());
            top_k = m.top_k;
            for (const MoeExpert& e : m.experts) {
                if (!e.gated() || e.fc1.has_bias || e.fc2.has_bias || e.up.has_bias) refuse(model, b->name + ": experts that are not bias-free gated MLPs");
                if (hidden && e.fc1.out != hidden) refuse(model, b->name + ": experts of different hidden sizes (structured pruning); stacked expert tensors need one size");
                hidden = e.fc1.out;
            }
        } else {
            if (b->mlp.fc1.has_bias || b->mlp.fc2.has_bias || b->mlp.up.has_bias) refuse(model, b->name + ": MLP biases");
            if (hidden && b->mlp.fc1.out != hidden) refuse(model, b->name + ": blocks with different MLP sizes");
            hidden = b->mlp.fc1.out;
        }
    }
    if (hd % 2 != 0) refuse(model, "an odd head dimension");

    GgufWriter w;
    w.add_string("general.architecture", "llama");
    w.add_string("general.name", o.name.empty() ? model.name : o.name);
    w.add_u32("general.file_type", file_type(o.dense_type));
    w.add_u32("general.quantization_version", 2);
    w.add_u32("llama.context_length", uint32_t(model.lm.max_positions));
    w.add_u32("llama.embedding_length", uint32_t(dim));
    w.add_u32("llama.block_count", uint32_t(blocks.size()));
    w.add_u32("llama.feed_forward_length", uint32_t(b0.is_moe ? b0.moe.hidden : hidden));
    w.add_u32("llama.attention.head_count", uint32_t(heads));
    w.add_u32("llama.attention.head_count_kv", uint32_t(kv_heads));
    w.add_u32("llama.attention.key_length", uint32_t(hd));
    w.add_u32("llama.attention.value_length", uint32_t(hd));
    w.add_u32("llama.rope.dimension_count", uint32_t(hd));
    w.add_f32("llama.rope.freq_base", float(b0.attn.rope_theta));
    w.add_f32("llama.attention.layer_norm_rms_epsilon", float(b0.attn_norm.eps));
    w.add_u32("llama.vocab_size", uint32_t(head->out));
    if (experts) {
        w.add_u32("llama.expert_count", uint32_t(experts));
        w.add_u32("llama.expert_used_count", uint32_t(top_k));
    }
    // Tokenizer: the model's own when it has one, padded with unused pieces up to the embedding rows.
    TokenizerVocabulary v = model.lm.tokenizer_path.empty() ? placeholder_vocabulary(head->out) : load_tokenizer(model.lm.tokenizer_path)->vocabulary();
    if (int(v.tokens.size()) > head->out)
        throw Error("GGUF export: " + model.lm.tokenizer_path + " has " + std::to_string(v.tokens.size()) + " tokens, more than the model's " + std::to_string(head->out) + " output rows");
    while (int(v.tokens.size()) < head->out) {
        v.tokens.push_back("<unused_" + std::to_string(v.tokens.size()) + ">");
        v.scores.push_back(-1e9f);
        v.types.push_back(5);
    }
    w.add_string("tokenizer.ggml.model", v.model);
    w.add_strings("tokenizer.ggml.tokens", v.tokens);
    w.add_f32s("tokenizer.ggml.scores", v.scores);
    w.add_i32s("tokenizer.ggml.token_type", v.types);
    const int bos = model.lm.bos >= 0 ? model.lm.bos : v.bos, eos = model.lm.eos >= 0 ? model.lm.eos : v.eos;
    if (bos >= 0) w.add_u32("tokenizer.ggml.bos_token_id", uint32_t(bos));
    if (eos >= 0) w.add_u32("tokenizer.ggml.eos_token_id", uint32_t(eos));
    if (v.unk >= 0) w.add_u32("tokenizer.ggml.unknown_token_id", uint32_t(v.unk));
    w.add_bool("tokenizer.ggml.add_bos_token", bos >= 0);
    w.add_bool("tokenizer.ggml.add_eos_token", false);
    for (const auto& [k, val] : o.metadata) w.add_string(k, val);

    std::map<std::string, int> counts;
    auto matrix = [&](const std::string& name, std::vector<MatrixOut> parts, std::vector<int64_t> ne, bool router = false) {
        const GgmlType dense = router && (o.dense_type == GgmlType::Q8_0 || o.dense_type == GgmlType::Q4_0) ? GgmlType::F32 : o.dense_type;
        const GgmlType t = type_of(*parts.front().l, dense, name);
        for (const MatrixOut& p : parts)
            if (type_of(*p.l, dense, name) != t) throw Error("GGUF export: the experts stacked into " + name + " are not all of one type (per-expert quantization); one tensor holds one type");
        ++counts[ggml_type_name(t)];
        w.add_tensor(name, std::move(ne), t, [parts = std::move(parts), t](std::vector<uint8_t>& out) { fill_rows(parts, t, out); });
    };
    auto vector = [&](const std::string& name, const WeightData& values, int n) {
        ++counts["F32"];
        w.add_tensor(name, {n}, GgmlType::F32, [&values, n](std::vector<uint8_t>& out) { ggml_encode_row(GgmlType::F32, values.data(), n, out); });
    };
    matrix("token_embd.weight", {{&embed->table, {}}}, {embed->table.in, embed->table.out});
    for (size_t i = 0; i < blocks.size(); ++i) {
        const DecoderBlock& b = *blocks[i];
        const std::string p = "blk." + std::to_string(i) + ".";
        vector(p + "attn_norm.weight", b.attn_norm.weight, dim);
        auto rope_rows = [hd](int r) { return gguf_rope_source_row(r, hd); };
        matrix(p + "attn_q.weight", {{&b.attn.q, rope_rows}}, {dim, b.attn.q.out});
        matrix(p + "attn_k.weight", {{&b.attn.k, rope_rows}}, {dim, b.attn.k.out});
        matrix(p + "attn_v.weight", {{&b.attn.v, {}}}, {dim, b.attn.v.out});
        matrix(p + "attn_output.weight", {{&b.attn.o, {}}}, {b.attn.o.in, dim});
        vector(p + "ffn_norm.weight", b.ffn_norm.weight, dim);
        if (b.is_moe) {
            const MoeLayer& m = b.moe;
            matrix(p + "ffn_gate_inp.weight", {{&m.gate, {}}}, {dim, experts}, true);
            std::vector<MatrixOut> gate, up, down;
            for (const MoeExpert& e : m.experts) {
                gate.push_back({&e.fc1, {}});
                up.push_back({&e.up, {}});
                down.push_back({&e.fc2, {}});
            }
            matrix(p + "ffn_gate_exps.weight", gate, {dim, hidden, experts});
            matrix(p + "ffn_up_exps.weight", up, {dim, hidden, experts});
            matrix(p + "ffn_down_exps.weight", down, {hidden, dim, experts});
        } else {
            matrix(p + "ffn_gate.weight", {{&b.mlp.fc1, {}}}, {dim, hidden});
            matrix(p + "ffn_up.weight", {{&b.mlp.up, {}}}, {dim, hidden});
            matrix(p + "ffn_down.weight", {{&b.mlp.fc2, {}}}, {hidden, dim});
        }
    }
    vector("output_norm.weight", final_norm->weight, dim);
    matrix("output.weight", {{head, {}}}, {dim, head->out});
    w.write(path);
    std::vector<std::string> lines;
    for (const auto& [t, n] : counts) lines.push_back(t + ": " + std::to_string(n) + " tensors");
    return lines;
}

} // namespace ss
