// expert_drop.cpp
#include "compress/expert_drop.h"

#include "error.h"

#include <algorithm>
#include <numeric>
#include <utility>

namespace ss {

void drop_experts(MoeLayer& moe, std::vector<int> positions) {
    std::sort(positions.begin(), positions.end());
    positions.erase(std::unique(positions.begin(), positions.end()), positions.end());
    const int E = int(moe.experts.size());
    if (positions.empty()) return;
    if (int(positions.size()) >= E)
        throw Error("drop experts: cannot drop " + std::to_string(positions.size()) + " of the " + std::to_string(E) + " experts of '" + moe.name + "'");
    for (int p : positions)
        if (p < 0 || p >= E) throw Error("drop experts: '" + moe.name + "' has no expert at position " + std::to_string(p));
    std::vector<MoeExpert> kept;
    std::vector<float> gate;
    const float* g = std::as_const(moe.gate.weight).data();
    for (int e = 0; e < E; ++e) {
        if (std::binary_search(positions.begin(), positions.end(), e)) continue;
        kept.push_back(std::move(moe.experts[size_t(e)]));
        gate.insert(gate.end(), g + size_t(e) * moe.dim, g + size_t(e + 1) * moe.dim);
    }
    moe.experts = std::move(kept);
    moe.gate.weight = WeightData(std::move(gate));
    moe.gate.out = int(moe.experts.size());
    moe.gate.quant.reset();
    moe.top_k = std::min(moe.top_k, int(moe.experts.size()));
}

std::vector<int> least_used_experts(const std::vector<double>& share, int count) {
    std::vector<int> order(share.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return share[size_t(a)] < share[size_t(b)] || (share[size_t(a)] == share[size_t(b)] && a > b); });
    order.resize(std::min(order.size(), size_t(std::max(count, 0))));
    return order;
}

std::pair<std::string, int> parse_expert_name(const std::string& name) {
    const size_t dot = name.rfind('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == name.size())
        throw Error("expert '" + name + "': expected MOE_LAYER.INDEX, e.g. moe.3");
    const std::string idx = name.substr(dot + 1);
    if (!std::all_of(idx.begin(), idx.end(), [](char c) { return c >= '0' && c <= '9'; }) || idx.size() > 6)
        throw Error("expert '" + name + "': expected MOE_LAYER.INDEX, e.g. moe.3");
    return {name.substr(0, dot), std::stoi(idx)};
}

} // namespace ss
