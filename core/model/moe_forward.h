// moe_forward.h - one mixture-of-experts layer, rows grouped per expert.
//
// For each row x: g = gate x; S = top_k(g); w = softmax(g[S]);
// y = sum_{j in S} w_j fc2_j(act(fc1_j(x))); output = x + y when residual, else y.
//
// Dispatch: the (row, slot) pairs are counting-sorted by expert (stable: rows stay in order within
// an expert), each expert's rows are gathered into one contiguous panel, the expert runs once on
// its panel (one kernel call per matrix), and its outputs are scatter-added with the routing
// weights. Each output row receives its slots' contributions in slot order, whatever the experts'
// order, so results do not depend on how rows were grouped.
#pragma once

#include "model/model.h"

#include <cstdint>
#include <vector>

namespace ss {

struct MoeScratch {
    std::vector<float> gate;     // (n, E)
    std::vector<int> idx;        // (n, k)
    std::vector<float> w;        // (n, k)
    std::vector<int> offset;     // (E + 1) start of each expert's pairs in `pairs`
    std::vector<int> pairs;      // (n * k) row * k + slot, sorted by expert
    std::vector<float> gathered; // (m, dim) the current expert's rows
    std::vector<float> hidden;   // (m, hidden)
    std::vector<int> gate_cursor; // (E) fill positions during the sort
    std::vector<float> expert_out; // (m, dim) the current expert's outputs
    std::vector<float> out;      // (n * k, dim) each pair's expert output, by pair
    double* expert_ns = nullptr; // (E) when set: time spent in each expert is added here
    double* dispatch_ns = nullptr; // when set: routing, sorting, gathering and scattering time
};

struct ForwardObserver;

// x (n, dim) -> y (n, dim); y must not alias x. top_k in 1..E. When expert_slots is not null,
// expert_slots[j] (E entries) is incremented by the number of (row, slot) pairs routed to j.
// An observer sees each expert matrix's input and the routing (as MoE layer `moe_index`).
void moe_forward(const MoeLayer& moe, int top_k, const float* x, int n, float* y, MoeScratch& s,
                 int64_t* expert_slots, ForwardObserver* observer = nullptr, int moe_index = 0);

} // namespace ss
