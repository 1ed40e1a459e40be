// token_inspection.h - one chunk of text seen token by token, dense against compressed: how
// surprised each model was by each token (NLL), what each predicted there, and which experts every
// MoE layer sent the token to - what the window's token inspector colours and explains.
#pragma once

#include "model/model.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace ss {

inline constexpr int kInspectTop = 5; // predictions kept per position

struct InspectedToken {
    int32_t id = 0;
    // -log p(this token | the tokens before it), nats; NaN for the chunk's first token.
    double nll = 0.0, dense_nll = 0.0;
    // What each model predicted for this position (from the tokens before it), most likely first;
    // for the first token, nothing (-1).
    std::array<int32_t, kInspectTop> top{}, dense_top{};
    std::array<float, kInspectTop> top_p{}, dense_top_p{};
};

struct TokenInspection {
    int first = 0;         // index of the chunk's first token in the token data
    int moe_layers = 0, top_k = 0;
    std::vector<std::string> moe_layer_names;
    std::vector<InspectedToken> tokens;    // (ctx)
    std::vector<int32_t> route_idx;        // (ctx, moe_layers, top_k): the compressed model's experts for each token
    std::vector<float> route_w;            // same shape: their weights
    std::vector<std::vector<int>> expert_ids; // (moe layer, position): expert ids as numbered in the loaded model

    // The tokens by how much worse the compressed model predicted them (nll - dense_nll), worst first.
    std::vector<int> worst(int n) const;
};

// A next token the two models disagree on: dense's top prediction was the token and the compressed
// model's was not (lost), or the reverse (gained) - a language model's flipped samples.
struct FlippedToken {
    int position = 0;          // index in the token data
    int32_t id = 0;            // the token that came
    int32_t dense_pred = 0, pred = 0; // each model's top prediction there
    float dense_p = 0.0f, p = 0.0f;   // each model's probability of the token that came
    bool lost() const { return dense_pred == id; }
};

// Every flipped token of `inspection`, the largest change in p(token) first.
std::vector<FlippedToken> flipped_tokens(const TokenInspection& inspection);

// Chunk `chunk` (tokens chunk*ctx .. chunk*ctx+ctx-1) through both models from an empty cache.
// Throws ss::Error when the chunk lies outside `tokens` or ctx exceeds max_position_embeddings.
TokenInspection inspect_tokens(const Model& dense, const Model& compressed, const std::vector<int32_t>& tokens, int ctx, int chunk);

} // namespace ss
