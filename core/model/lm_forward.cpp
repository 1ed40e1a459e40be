// lm_forward.cpp
#include "model/lm_forward.h"

#include "error.h"
#include "formats/safetensors.h" // bf16_to_f32
#include "kernels/dense_linear.h"
#include "model/overloaded.h"

#include <algorithm>
#include <cstring>

namespace ss {

KvCache make_kv_cache(const Model& model, int capacity) {
    KvCache c;
    c.capacity = capacity;
    for (const Layer& layer : model.layers)
        if (std::holds_alternative<DecoderBlock>(layer)) c.blocks.emplace_back();
    return c;
}

void lm_forward(const Model& model, const int32_t* tokens, int n, KvCache& cache, float* logits, bool all_logits, LmWorkspace& ws,
                ForwardObserver* observer, int top_k_override, int logits_from) {
    if (model.task != EvalTask::LanguageModeling) throw Error("lm_forward: '" + model.name + "' is not a language model");
    if (n <= 0) return;
    const int pos0 = cache.length;
    if (pos0 + n > cache.capacity)
        throw Error("lm_forward: " + std::to_string(pos0 + n) + " positions exceed the cache's " + std::to_string(cache.capacity));
    int dim = 0, block_index = 0, moe_index = 0;
    const float* cur = nullptr; // the rows the final layers read
    for (const Layer& layer : model.layers)
        std::visit(Overloaded{
                       [&](const EmbeddingLayer& e) {
                           dim = e.table.in;
                           ws.x.resize(size_t(n) * dim);
                           if (e.table.weight.empty()) throw Error("lm_forward: the embedding table holds no values");
                           const uint16_t* bf16 = e.table.weight.bf16_data(); // deferred: rows read from the BF16 table
                           const float* table = bf16 ? nullptr : e.table.weight.data();
                           for (int t = 0; t < n; ++t) {
                               const int32_t id = tokens[t];
                               if (id < 0 || id >= e.table.out)
                                   throw Error("lm_forward: token id " + std::to_string(id) + " is outside the vocabulary of " + std::to_string(e.table.out));
                               float* x = &ws.x[size_t(t) * dim];
                               if (bf16) {
                                   const uint16_t* row = bf16 + size_t(id) * dim;
                                   for (int c = 0; c < dim; ++c) x[c] = bf16_to_f32(row[c]) * e.multiplier;
                               } else {
                                   const float* row = table + size_t(id) * dim;
                                   for (int c = 0; c < dim; ++c) x[c] = row[c] * e.multiplier;
                               }
                           }
                           cur = ws.x.data();
                       },
                       [&](const DecoderBlock& b) {
                           ws.h.resize(size_t(n) * dim);
                           ws.y.resize(size_t(n) * dim);
                           const float r = b.residual_multiplier;
                           rms_norm_forward(b.attn_norm.weight.data(), dim, b.attn_norm.eps, ws.x.data(), n, ws.h.data());
                           if (observer) {
                               for (const LinearWeights* l : {&b.attn.q, &b.attn.k, &b.attn.v}) observer->linear_input(*l, ws.h.data(), n);
                           }
                           attention_forward(b.attn, ws.h.data(), n, pos0, cache.blocks[size_t(block_index)], cache.capacity, ws.y.data(), ws.attn);
                           if (observer) observer->linear_input(b.attn.o, ws.attn.out.data(), n);
                           for (size_t i = 0; i < ws.x.size(); ++i) ws.x[i] += r * ws.y[i];
                           rms_norm_forward(b.ffn_norm.weight.data(), dim, b.ffn_norm.eps, ws.x.data(), n, ws.h.data());
                           if (b.is_moe) {
                               const int E = int(b.moe.experts.size());
                               const int k = top_k_override > 0 ? std::clamp(top_k_override, 1, E) : b.moe.top_k;
                               moe_forward(b.moe, k, ws.h.data(), n, ws.y.data(), ws.moe, nullptr, observer, moe_index++);
                           } else {
                               expert_forward(b.mlp, Activation::Silu, ws.h.data(), n, ws.y.data(), ws.moe, observer);
                           }
                           for (size_t i = 0; i < ws.x.size(); ++i) ws.x[i] += r * ws.y[i];
                           ++block_index;
                       },
                       [&](const RmsNormLayer& norm) { rms_norm_forward(norm.weight.data(), dim, norm.eps, ws.x.data(), n, ws.x.data()); },
                       [&](const LinearWeights& head) { // lm_head, on every row or the last one
                           const int first = all_logits ? std::clamp(logits_from, 0, n - 1) : n - 1;
                           const int rows = n - first;
                           const float* in = cur + size_t(first) * dim;
                           if (observer) observer->linear_input(head, in, rows);
                           linear_forward(head, in, rows, logits);
                           if (model.lm.logits_scaling != 1.0) {
                               const float d = float(model.lm.logits_scaling);
                               for (size_t i = 0; i < size_t(rows) * head.out; ++i) logits[i] /= d;
                           }
                       },
                       [](const MoeLayer&) { refuse_layer_kind("language-model forward", "classifier MoE"); },
                       [](const ActivationLayer&) { refuse_layer_kind("language-model forward", "activation"); },
                       [](const LayerNormLayer&) { refuse_layer_kind("language-model forward", "layer norm"); },
                       [](const DropoutLayer&) { refuse_layer_kind("language-model forward", "dropout"); },
                       [](const Conv2dLayer&) { refuse_layer_kind("language-model forward", "conv2d"); },
                       [](const BatchNorm2dLayer&) { refuse_layer_kind("language-model forward", "batchnorm2d"); },
                       [](const SpatialLayer&) { refuse_layer_kind("language-model forward", "pooling"); },
                       [](const ResidualLayer&) { refuse_layer_kind("language-model forward", "residual"); },
                   },
                   layer);
    cache.length += n;
}

} // namespace ss
