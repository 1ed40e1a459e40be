// quantize_int8.cpp
#include "quantize_int8.h"

#include <algorithm>
#include <cmath>

namespace ss {

Int8Weights quantize_int8_per_channel(const LinearWeights& l) {
    Int8Weights r;
    r.q.resize(size_t(l.out) * l.in);
    r.scale.resize(size_t(l.out));
    for (int o = 0; o < l.out; ++o) {
        const float* w = l.weight.data() + size_t(o) * l.in;
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

std::vector<float> dequantize_int8(const Int8Weights& q, int out, int in) {
    std::vector<float> w(q.q.size());
    for (int o = 0; o < out; ++o)
        for (int i = 0; i < in; ++i) {
            const size_t k = size_t(o) * in + i;
            w[k] = float(q.q[k]) * q.scale[size_t(o)];
        }
    return w;
}

void quantize_model_int8(Model& model) {
    if (model.weight_format == WeightFormat::Int8PerChannel) return;
    for_each_compressible_linear(model, [](LinearWeights& l) {
        auto q = std::make_shared<Int8Weights>(quantize_int8_per_channel(l));
        l.weight = WeightData(dequantize_int8(*q, l.out, l.in));
        l.int8 = std::move(q);
    });
    model.weight_format = WeightFormat::Int8PerChannel;
}

} // namespace ss
