// moe_forward.cpp
#include "moe_forward.h"

#include "activation.h"
#include "dense_linear.h"
#include "forward.h"
#include "moe_router.h"

#include <chrono>
#include <cstring>

namespace ss {

void moe_forward(const MoeLayer& moe, int top_k, const float* x, int n, float* y, MoeScratch& s,
                 int64_t* expert_slots, ForwardObserver* observer, int moe_index) {
    const int E = int(moe.experts.size());
    const int k = top_k;
    const size_t dim = size_t(moe.dim);
    s.gate.resize(size_t(n) * E);
    s.idx.resize(size_t(n) * k);
    s.w.resize(size_t(n) * k);
    linear_forward(moe.gate, x, n, s.gate.data());
    for (int r = 0; r < n; ++r) route_top_k(&s.gate[size_t(r) * E], E, k, &s.idx[size_t(r) * k], &s.w[size_t(r) * k]);
    if (observer) observer->routing(moe_index, s.idx.data(), n, k);

    if (moe.residual)
        std::memcpy(y, x, sizeof(float) * n * dim);
    else
        std::memset(y, 0, sizeof(float) * n * dim);

    for (int e = 0; e < E; ++e) {
        s.rows.clear();
        s.weights.clear();
        for (int r = 0; r < n; ++r)
            for (int t = 0; t < k; ++t)
                if (s.idx[size_t(r) * k + t] == e) {
                    s.rows.push_back(r);
                    s.weights.push_back(s.w[size_t(r) * k + t]);
                }
        const int m = int(s.rows.size());
        if (expert_slots) expert_slots[e] += m;
        if (m == 0) continue;
        const MoeExpert& ex = moe.experts[size_t(e)];
        const auto t0 = s.expert_ns ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
        s.gathered.resize(size_t(m) * dim);
        s.hidden.resize(size_t(m) * ex.fc1.out);
        s.out.resize(size_t(m) * dim);
        for (int i = 0; i < m; ++i) std::memcpy(&s.gathered[size_t(i) * dim], x + size_t(s.rows[i]) * dim, sizeof(float) * dim);
        if (observer) observer->linear_input(ex.fc1, s.gathered.data(), m);
        linear_forward(ex.fc1, s.gathered.data(), m, s.hidden.data());
        apply_activation(moe.activation, s.hidden.data(), s.hidden.size());
        if (observer) observer->linear_input(ex.fc2, s.hidden.data(), m);
        linear_forward(ex.fc2, s.hidden.data(), m, s.out.data());
        if (s.expert_ns) s.expert_ns[e] += std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
        for (int i = 0; i < m; ++i) {
            float* yr = y + size_t(s.rows[i]) * dim;
            const float* o = &s.out[size_t(i) * dim];
            const float wi = s.weights[i];
            for (size_t c = 0; c < dim; ++c) yr[c] += wi * o[c];
        }
    }
}

} // namespace ss
