// moe_router.cpp
#include "model/moe_router.h"

#include <cmath>

namespace ss {

void route_top_k(const float* gate, int experts, int k, int* idx, float* w) {
    // Selection by repeated scans: E is small (<= a few hundred) and k smaller still. A strict '>'
    // keeps the lower index on ties; NaN logits are never selected over a number.
    for (int s = 0; s < k; ++s) {
        int best = -1;
        for (int e = 0; e < experts; ++e) {
            bool taken = false;
            for (int t = 0; t < s; ++t) taken |= idx[t] == e;
            if (taken) continue;
            if (best < 0 || gate[e] > gate[best]) best = e;
        }
        idx[s] = best;
    }
    const float mx = gate[idx[0]];
    float sum = 0.0f;
    for (int s = 0; s < k; ++s) {
        w[s] = std::exp(gate[idx[s]] - mx);
        sum += w[s];
    }
    for (int s = 0; s < k; ++s) w[s] /= sum;
}

void route(const float* gate, int experts, int k, RoutingRule rule, int* idx, float* w, float* probs) {
    route_top_k(gate, experts, k, idx, w); // the selection, and the TopKSoftmax weights
    if (rule == RoutingRule::TopKSoftmax) return;
    // Softmax over every expert (as PyTorch: max subtracted, fp32), then its values at the k.
    float mx = gate[0];
    for (int e = 1; e < experts; ++e) mx = std::fmax(mx, gate[e]);
    float sum = 0.0f;
    for (int e = 0; e < experts; ++e) sum += probs[e] = std::exp(gate[e] - mx);
    float picked = 0.0f;
    for (int s = 0; s < k; ++s) picked += w[s] = probs[idx[s]] / sum;
    if (rule == RoutingRule::SoftmaxTopKRenorm)
        for (int s = 0; s < k; ++s) w[s] /= picked;
}

} // namespace ss
