// token_inspection.cpp
#include "eval/token_inspection.h"

#include "error.h"
#include "model/lm_forward.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace ss {

namespace {
// Keeps every MoE layer's routing of one forward, as (token, layer, k).
class RouteKeeper final : public ForwardObserver {
public:
    RouteKeeper(int layers, int n) : layers_(layers), n_(n) {}
    void routing(int layer, const int* idx, const float* w, int n, int k) override {
        if (k_ == 0) {
            k_ = k;
            idx_.assign(size_t(n_) * layers_ * k, -1);
            w_.assign(idx_.size(), 0.0f);
        }
        for (int t = 0; t < n && t < n_; ++t)
            for (int s = 0; s < std::min(k, k_); ++s) {
                idx_[(size_t(t) * layers_ + layer) * k_ + s] = idx[size_t(t) * k + s];
                w_[(size_t(t) * layers_ + layer) * k_ + s] = w[size_t(t) * k + s];
            }
    }
    int layers_, n_, k_ = 0;
    std::vector<int32_t> idx_;
    std::vector<float> w_;
};

// log-softmax of z (V) -> the NLL of `target` and the kInspectTop most likely tokens.
void read_row(const float* z, int V, int target, double* nll, std::array<int32_t, kInspectTop>& top, std::array<float, kInspectTop>& top_p,
              std::vector<int32_t>& order) {
    const double mx = *std::max_element(z, z + V);
    double sum = 0.0;
    for (int i = 0; i < V; ++i) sum += std::exp(double(z[i]) - mx);
    const double lse = mx + std::log(sum);
    if (nll) *nll = target >= 0 ? lse - double(z[target]) : std::numeric_limits<double>::quiet_NaN();
    order.resize(size_t(V));
    std::iota(order.begin(), order.end(), 0);
    const int k = std::min(kInspectTop, V);
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) { return z[a] > z[b] || (z[a] == z[b] && a < b); });
    top.fill(-1);
    top_p.fill(0.0f);
    for (int i = 0; i < k; ++i) {
        top[size_t(i)] = order[size_t(i)];
        top_p[size_t(i)] = float(std::exp(double(z[order[size_t(i)]]) - lse));
    }
}
} // namespace

std::vector<int> TokenInspection::worst(int n) const {
    std::vector<int> idx;
    for (size_t i = 0; i < tokens.size(); ++i)
        if (!std::isnan(tokens[i].nll)) idx.push_back(int(i));
    std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) {
        return tokens[size_t(a)].nll - tokens[size_t(a)].dense_nll > tokens[size_t(b)].nll - tokens[size_t(b)].dense_nll;
    });
    if (int(idx.size()) > n) idx.resize(size_t(n));
    return idx;
}

TokenInspection inspect_tokens(const Model& dense, const Model& compressed, const std::vector<int32_t>& tokens, int ctx, int chunk) {
    if (ctx < 2 || ctx > compressed.lm.max_positions)
        throw Error("inspect tokens: ctx " + std::to_string(ctx) + " is outside 2 .. max_position_embeddings " + std::to_string(compressed.lm.max_positions));
    if (chunk < 0 || (int64_t(chunk) + 1) * ctx > int64_t(tokens.size()))
        throw Error("inspect tokens: chunk " + std::to_string(chunk) + " of " + std::to_string(ctx) + " tokens lies outside the " +
                    std::to_string(tokens.size()) + " tokens");
    const int V = compressed.lm.vocab;
    TokenInspection r;
    r.first = chunk * ctx;
    const int32_t* t = tokens.data() + r.first;
    for (const MoeLayer* moe : compressed.moe_layers()) {
        r.moe_layer_names.push_back(moe->name);
        r.expert_ids.emplace_back();
        for (const MoeExpert& x : moe->experts) r.expert_ids.back().push_back(x.id);
    }
    r.moe_layers = int(r.moe_layer_names.size());
    std::vector<float> logits(size_t(ctx) * V), dense_logits(size_t(ctx) * V);
    LmWorkspace ws;
    KvCache cache = make_kv_cache(compressed, ctx);
    RouteKeeper keep(r.moe_layers, ctx);
    lm_forward(compressed, t, ctx, cache, logits.data(), true, ws, &keep);
    KvCache dense_cache = make_kv_cache(dense, ctx);
    lm_forward(dense, t, ctx, dense_cache, dense_logits.data(), true, ws);
    r.top_k = keep.k_;
    r.route_idx = std::move(keep.idx_);
    r.route_w = std::move(keep.w_);
    r.tokens.resize(size_t(ctx));
    std::vector<int32_t> order;
    for (int i = 0; i < ctx; ++i) {
        InspectedToken& x = r.tokens[size_t(i)];
        x.id = t[i];
        if (i == 0) { // nothing before it: no prediction
            x.nll = x.dense_nll = std::numeric_limits<double>::quiet_NaN();
            x.top.fill(-1);
            x.dense_top.fill(-1);
            continue;
        }
        read_row(&logits[size_t(i - 1) * V], V, t[i], &x.nll, x.top, x.top_p, order);
        read_row(&dense_logits[size_t(i - 1) * V], V, t[i], &x.dense_nll, x.dense_top, x.dense_top_p, order);
    }
    return r;
}

std::vector<FlippedToken> flipped_tokens(const TokenInspection& t) {
    std::vector<FlippedToken> out;
    for (size_t i = 1; i < t.tokens.size(); ++i) { // the first token has no prediction
        const InspectedToken& k = t.tokens[i];
        const bool dense_right = k.dense_top[0] == k.id, right = k.top[0] == k.id;
        if (dense_right == right) continue;
        out.push_back({t.first + int(i), k.id, k.dense_top[0], k.top[0], float(std::exp(-k.dense_nll)), float(std::exp(-k.nll))});
    }
    std::stable_sort(out.begin(), out.end(), [](const FlippedToken& a, const FlippedToken& b) { return std::fabs(a.dense_p - a.p) > std::fabs(b.dense_p - b.p); });
    return out;
}

} // namespace ss
