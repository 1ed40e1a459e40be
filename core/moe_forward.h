// moe_forward.h - one mixture-of-experts layer, rows grouped per expert.
//
// For each row x: g = gate x; S = top_k(g); w = softmax(g[S]);
// y = sum_{j in S} w_j fc2_j(act(fc1_j(x))); output = x + y when residual, else y.
#pragma once

#include "model.h"

#include <cstdint>
#include <vector>

namespace ss {

struct MoeScratch {
    std::vector<float> gate;     // (n, E)
    std::vector<int> idx;        // (n, k)
    std::vector<float> w;        // (n, k)
    std::vector<int> rows;       // (m) rows routed to the current expert
    std::vector<float> weights;  // (m) their routing weights
    std::vector<float> gathered; // (m, dim)
    std::vector<float> hidden;   // (m, hidden)
    std::vector<float> out;      // (m, dim)
    double* expert_ns = nullptr; // (E) when set: time spent in each expert is added here
};

struct ForwardObserver;

// x (n, dim) -> y (n, dim); y must not alias x. top_k in 1..E. When expert_slots is not null,
// expert_slots[j] (E entries) is incremented by the number of (row, slot) pairs routed to j.
// An observer sees each expert matrix's input and the routing (as MoE layer `moe_index`).
void moe_forward(const MoeLayer& moe, int top_k, const float* x, int n, float* y, MoeScratch& s,
                 int64_t* expert_slots, ForwardObserver* observer = nullptr, int moe_index = 0);

} // namespace ss
