// quantize_int8.cpp
#include "quantize_int8.h"

#include <algorithm>
#include <cmath>

namespace ss {

QuantizedInt8 quantize_int8_per_channel(const LinearWeights& l) {
    QuantizedInt8 r;
    r.out = l.out;
    r.in = l.in;
    r.q.resize(size_t(l.out) * l.in);
    r.scale.resize(size_t(l.out));
    for (int o = 0; o < l.out; ++o) {
        const float* w = &l.weight[size_t(o) * l.in];
        float amax = 0.0f;
        for (int i = 0; i < l.in; ++i) amax = std::max(amax, std::fabs(w[i]));
        const float scale = amax / 127.0f;
        r.scale[size_t(o)] = scale;
        int8_t* q = &r.q[size_t(o) * l.in];
        if (scale == 0.0f) {
            std::fill(q, q + l.in, int8_t(0));
            continue;
        }
        for (int i = 0; i < l.in; ++i) {
            const float v = std::nearbyint(w[i] / scale);
            q[i] = int8_t(std::clamp(v, -127.0f, 127.0f));
        }
    }
    return r;
}

void dequantize_int8(const QuantizedInt8& q, std::vector<float>& weight) {
    weight.resize(q.q.size());
    for (int o = 0; o < q.out; ++o)
        for (int i = 0; i < q.in; ++i) {
            const size_t k = size_t(o) * q.in + i;
            weight[k] = float(q.q[k]) * q.scale[size_t(o)];
        }
}

void quantize_model_int8(Model& model) {
    for_each_compressible_linear(model, [](LinearWeights& l) { dequantize_int8(quantize_int8_per_channel(l), l.weight); });
}

} // namespace ss
