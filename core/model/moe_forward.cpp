// moe_forward.cpp
#include "model/moe_forward.h"

#include "model/activation.h"
#include "kernels/dense_linear.h"
#include "model/forward.h"
#include "model/moe_router.h"

#include <chrono>
#include <cmath>
#include <cstring>

namespace ss {

void expert_forward(const MoeExpert& ex, Activation act, const float* x, int m, float* y, MoeScratch& s, ForwardObserver* observer) {
    s.hidden.resize(size_t(m) * ex.fc1.out);
    if (observer) observer->linear_input(ex.fc1, x, m);
    linear_forward(ex.fc1, x, m, s.hidden.data());
    apply_activation(act, s.hidden.data(), s.hidden.size());
    if (ex.gated()) { // act(fc1 x) * (up x)
        s.up.resize(s.hidden.size());
        if (observer) observer->linear_input(ex.up, x, m);
        linear_forward(ex.up, x, m, s.up.data());
        for (size_t i = 0; i < s.hidden.size(); ++i) s.hidden[i] *= s.up[i];
    }
    if (observer) observer->linear_input(ex.fc2, s.hidden.data(), m);
    linear_forward(ex.fc2, s.hidden.data(), m, y);
}

namespace {
using Clock = std::chrono::steady_clock;
double ns_since(Clock::time_point t0) { return std::chrono::duration<double, std::nano>(Clock::now() - t0).count(); }
} // namespace

void moe_forward(const MoeLayer& moe, int top_k, const float* x, int n, float* y, MoeScratch& s,
                 int64_t* expert_slots, ForwardObserver* observer, int moe_index) {
    const int E = int(moe.experts.size());
    const int k = top_k;
    const size_t dim = size_t(moe.dim);
    const bool timed = s.expert_ns || s.dispatch_ns;
    auto t0 = timed ? Clock::now() : Clock::time_point{};

    // Routing: gate logits, top-k and their softmax weights per row.
    s.gate.resize(size_t(n) * E);
    s.idx.resize(size_t(n) * k);
    s.w.resize(size_t(n) * k);
    linear_forward(moe.gate, x, n, s.gate.data());
    s.probs.resize(size_t(E));
    for (int r = 0; r < n; ++r) route(&s.gate[size_t(r) * E], E, k, moe.rule, &s.idx[size_t(r) * k], &s.w[size_t(r) * k], s.probs.data());
    if (observer) observer->routing(moe_index, s.idx.data(), s.w.data(), n, k);

    // Counting sort of the (row, slot) pairs by expert.
    s.offset.assign(size_t(E) + 1, 0);
    for (size_t p = 0; p < size_t(n) * k; ++p) ++s.offset[size_t(s.idx[p]) + 1];
    for (int e = 0; e < E; ++e) s.offset[size_t(e) + 1] += s.offset[size_t(e)];
    s.pairs.resize(size_t(n) * k);
    {
        std::vector<int>& next = s.gate_cursor;
        next.assign(s.offset.begin(), s.offset.end() - 1);
        for (int p = 0; p < n * k; ++p) s.pairs[size_t(next[size_t(s.idx[size_t(p)])]++)] = p;
    }
    s.out.resize(size_t(n) * k * dim);
    double dispatch = timed ? ns_since(t0) : 0.0;

    for (int e = 0; e < E; ++e) {
        const int begin = s.offset[size_t(e)], m = s.offset[size_t(e) + 1] - begin;
        if (expert_slots) expert_slots[e] += m;
        if (m == 0) continue;
        const MoeExpert& ex = moe.experts[size_t(e)];
        const int* pr = &s.pairs[size_t(begin)];
        if (timed) t0 = Clock::now();
        s.gathered.resize(size_t(m) * dim);
        for (int i = 0; i < m; ++i) std::memcpy(&s.gathered[size_t(i) * dim], x + size_t(pr[i] / k) * dim, sizeof(float) * dim);
        if (timed) {
            dispatch += ns_since(t0);
            t0 = Clock::now();
        }
        s.expert_out.resize(size_t(m) * dim);
        expert_forward(ex, moe.activation, s.gathered.data(), m, s.expert_out.data(), s, observer);
        if (s.expert_ns) s.expert_ns[e] += ns_since(t0);
        if (timed) t0 = Clock::now();
        for (int i = 0; i < m; ++i) std::memcpy(&s.out[size_t(pr[i]) * dim], &s.expert_out[size_t(i) * dim], sizeof(float) * dim);
        if (timed) dispatch += ns_since(t0);
    }

    // Qwen2-MoE's shared expert, on every row: sigmoid(shared_gate x) * shared(x).
    if (moe.has_shared) {
        s.shared_out.resize(size_t(n) * dim);
        s.shared_weight.resize(size_t(n));
        expert_forward(moe.shared, moe.activation, x, n, s.shared_out.data(), s, observer);
        linear_forward(moe.shared_gate, x, n, s.shared_weight.data());
    }

    // Scatter-add: each row takes its slots' outputs in slot order.
    if (timed) t0 = Clock::now();
    for (int r = 0; r < n; ++r) {
        float* yr = y + size_t(r) * dim;
        if (moe.residual) std::memcpy(yr, x + size_t(r) * dim, sizeof(float) * dim);
        else std::memset(yr, 0, sizeof(float) * dim);
        for (int t = 0; t < k; ++t) {
            const float wt = s.w[size_t(r) * k + t];
            const float* o = &s.out[(size_t(r) * k + t) * dim];
            for (size_t c = 0; c < dim; ++c) yr[c] += wt * o[c];
        }
        if (moe.has_shared) {
            const float g = 1.0f / (1.0f + std::exp(-s.shared_weight[size_t(r)]));
            const float* o = &s.shared_out[size_t(r) * dim];
            for (size_t c = 0; c < dim; ++c) yr[c] += g * o[c];
        }
    }
    if (timed) dispatch += ns_since(t0);
    if (s.dispatch_ns) *s.dispatch_ns += dispatch;
}

} // namespace ss
