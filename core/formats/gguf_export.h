// gguf_export.h - a language model, dense or compressed, as a GGUF file llama.cpp runs.
//
// Llama and Mixtral layouts (llama.cpp's "llama" architecture): token_embd, blk.N.attn_norm,
// attn_q / attn_k (rows permuted from Hugging Face's rotate-half order to the adjacent pairs
// llama.cpp's rope expects), attn_v, attn_output, ffn_norm, then ffn_gate / ffn_up / ffn_down
// (dense) or ffn_gate_inp + ffn_gate_exps / ffn_up_exps / ffn_down_exps (experts stacked into one
// 3-D tensor each), output_norm and output; the hyperparameters under llama.*, the tokenizer
// under tokenizer.ggml.* (a SentencePiece vocabulary; a model without a tokenizer gets
// placeholder pieces "<tok_N>" so token ids still run), and the compression under sparsescope.*.
//
// Matrices the model keeps quantized are written with their values unchanged: int8 as Q8_0,
// int4 / int3 / int2 (symmetric, groups of whole 32-blocks) as Q4_0, fp16 as F16, bf16 as BF16.
// The others (and pruned matrices, their zeros kept) take `dense_type`: F32, F16, BF16, or Q8_0 /
// Q4_0 rounded by ggml's reference quantizer. Norms stay F32, as does the router unless the model
// quantized it. A model llama.cpp's llama architecture cannot express (biases, q/k norms, clipping,
// residual or logit multipliers, shared experts, experts of different sizes, another routing
// rule) is refused with the reason, before anything is written.
#pragma once

#include "formats/gguf_writer.h"
#include "model/model.h"

#include <optional>
#include <string>
#include <vector>

namespace ss {

struct GgufExportOptions {
    GgmlType dense_type = GgmlType::F32;
    std::string name;                                            // general.name; the model's own when empty
    std::vector<std::pair<std::string, std::string>> metadata;   // extra string keys (sparsescope.plan, ...)
};

// Parses "f32", "f16", "bf16", "q8_0", "q4_0" (any case); nullopt otherwise.
std::optional<GgmlType> parse_ggml_type(const std::string& s);

// Writes `model` (a language model) to PATH. Returns one line per tensor type used, e.g.
// "Q4_0: 96 tensors", for the caller to report. Throws ss::Error naming the model and the rule.
std::vector<std::string> export_gguf(const Model& model, const std::string& path, const GgufExportOptions& options);

// The row of q/k weights that lands at row r after llama.cpp's permutation, for heads of
// head_dim rows: within a head, row 2i + s comes from row s * head_dim / 2 + i.
inline int gguf_rope_source_row(int r, int head_dim) {
    const int h = r / head_dim, j = r % head_dim;
    return h * head_dim + (j % 2) * (head_dim / 2) + j / 2;
}

} // namespace ss
