// moe_forward.h - one mixture-of-experts layer, rows grouped per expert.
//
// For each row x: g = gate x; S = top_k(g); w by the layer's routing rule (moe_router.h);
// y = sum_{j in S} w_j expert_j(x) (+ sigmoid(shared_gate x) shared(x)); output = x + y when
// residual, else y. expert(x) = fc2(act(fc1 x)), or fc2(act(fc1 x) * up x) when gated.
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
    std::vector<float> probs;    // (E) softmax scratch for the routing rules
    std::vector<float> up;       // (m, hidden) a gated expert's up projection
    std::vector<float> shared_out;    // (n, dim) the shared expert's outputs
    std::vector<float> shared_weight; // (n) its gate logits
    double* expert_ns = nullptr; // (E) when set: time spent in each expert is added here
    double* dispatch_ns = nullptr; // when set: routing, sorting, gathering and scattering time
};

struct ForwardObserver;

// One expert (or dense gated MLP): x (m, dim) -> y (m, dim); uses s.hidden and s.up.
void expert_forward(const MoeExpert& ex, Activation act, const float* x, int m, float* y, MoeScratch& s, ForwardObserver* observer);

// x (n, dim) -> y (n, dim); y must not alias x. top_k in 1..E. When expert_slots is not null,
// expert_slots[j] (E entries) is incremented by the number of (row, slot) pairs routed to j.
// An observer sees each expert matrix's input and the routing (as MoE layer `moe_index`).
void moe_forward(const MoeLayer& moe, int top_k, const float* x, int n, float* y, MoeScratch& s,
                 int64_t* expert_slots, ForwardObserver* observer = nullptr, int moe_index = 0);

} // namespace ss
