// prune_channels.cpp
#include "compress/prune_channels.h"

#include "error.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ss {

void prune_channels(Conv2dLayer& first, Conv2dLayer& second, double sparsity) {
    const int C = first.shape.out_channels;
    if (first.shape.groups != 1 || second.shape.groups != 1)
        throw Error("prune channels: '" + first.w.name + "' and '" + second.w.name + "' must both have groups = 1");
    if (second.shape.in_channels != C)
        throw Error("prune channels: '" + first.w.name + "' gives " + std::to_string(C) + " channels but '" + second.w.name + "' takes " +
                    std::to_string(second.shape.in_channels));
    const int remove = std::min(C - 1, int(std::llround(sparsity * C)));
    if (remove <= 0) return;
    const int K1 = first.w.in;                                            // C_in * kh * kw of first
    const int taps = second.shape.kernel_h * second.shape.kernel_w;       // kh * kw of second
    const int O2 = second.shape.out_channels;
    const std::vector<float> w1 = first.w.weight.to_vector(), w2 = second.w.weight.to_vector();
    if (w1.size() != size_t(C) * K1 || w2.size() != size_t(O2) * C * taps)
        throw Error("prune channels: '" + first.w.name + "' or '" + second.w.name + "' holds no fp32 weights of its shape");
    std::vector<double> norm(size_t(C), 0.0);
    for (int c = 0; c < C; ++c) {
        for (int k = 0; k < K1; ++k) norm[size_t(c)] += double(w1[size_t(c) * K1 + k]) * w1[size_t(c) * K1 + k];
        for (int o = 0; o < O2; ++o)
            for (int t = 0; t < taps; ++t) {
                const double v = w2[(size_t(o) * C + c) * taps + t];
                norm[size_t(c)] += v * v;
            }
    }
    std::vector<int> order(static_cast<size_t>(C));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return norm[size_t(a)] < norm[size_t(b)] || (norm[size_t(a)] == norm[size_t(b)] && a > b); });
    std::vector<bool> keep(size_t(C), true);
    for (int t = 0; t < remove; ++t) keep[size_t(order[size_t(t)])] = false;
    const int kept = C - remove;

    std::vector<float> n1, b1, n2(size_t(O2) * kept * taps);
    const std::vector<float> bias1 = first.w.has_bias ? first.w.bias.to_vector() : std::vector<float>{};
    for (int c = 0; c < C; ++c)
        if (keep[size_t(c)]) {
            n1.insert(n1.end(), w1.begin() + ptrdiff_t(size_t(c) * K1), w1.begin() + ptrdiff_t(size_t(c + 1) * K1));
            if (first.w.has_bias) b1.push_back(bias1[size_t(c)]);
        }
    for (int o = 0; o < O2; ++o)
        for (int c = 0, v = 0; c < C; ++c)
            if (keep[size_t(c)]) {
                std::copy_n(w2.begin() + ptrdiff_t((size_t(o) * C + c) * taps), taps, n2.begin() + ptrdiff_t((size_t(o) * kept + v) * taps));
                ++v;
            }
    first.shape.out_channels = kept;
    first.w.out = kept;
    first.w.weight = WeightData(std::move(n1));
    if (first.w.has_bias) first.w.bias = WeightData(std::move(b1));
    if (!first.w.tensor_shape.empty()) first.w.tensor_shape[0] = kept;
    second.shape.in_channels = kept;
    second.w.in = kept * taps;
    second.w.weight = WeightData(std::move(n2));
    if (!second.w.tensor_shape.empty()) second.w.tensor_shape[1] = kept;
    for (LinearWeights* l : {&first.w, &second.w}) {
        l->quant.reset();
        l->kernels.reset();
    }
}

} // namespace ss
