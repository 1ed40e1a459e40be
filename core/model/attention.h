// attention.h - causal self-attention of one decoder block over new tokens, with a KV cache.
#pragma once

#include "model/model.h"

#include <vector>

namespace ss {

// The keys and values one block has seen: (capacity, kv_heads * head_dim) each, rows by position.
struct KvBlock {
    std::vector<float> k, v;
};

// Buffers reused across calls.
struct AttentionScratch {
    std::vector<float> q, k, v;  // (n, heads*hd), (n, kv_heads*hd) x 2
    std::vector<float> out;      // (n, heads*hd) before o_proj
    std::vector<float> cos, sin; // (n, hd/2) rotary factors of the new positions
};

// Rotary factors for positions pos0 .. pos0+n-1 as Hugging Face computes them in fp32:
// inv_freq[j] = 1 / theta^(2j/hd), angle = position * inv_freq[j]; cos, sin (n, hd/2).
void rope_factors(int pos0, int n, int head_dim, double theta, std::vector<float>& cos, std::vector<float>& sin);

// h (n, dim), normalized input of the block, for positions pos0 .. pos0+n-1 -> y (n, dim), o_proj
// applied. Appends the new keys and values to `cache` at rows pos0 ..; rows 0 .. pos0-1 must hold
// the earlier positions. capacity: rows `cache` holds.
void attention_forward(const AttentionWeights& a, const float* h, int n, int pos0, KvBlock& cache, int capacity, float* y,
                       AttentionScratch& s);

// Plain loops over every position, the reference attention_forward is tested against.
void attention_reference(const AttentionWeights& a, const float* h, int n, int pos0, KvBlock& cache, int capacity, float* y);

// y = x / sqrt(mean(x^2) + eps) * w over rows of `dim`; x (n, dim) -> y (n, dim) (may alias).
void rms_norm_forward(const float* w, int dim, double eps, const float* x, int n, float* y);

} // namespace ss
