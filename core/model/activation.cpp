// activation.cpp
#include "model/activation.h"

#include "model/gelu.h"
#include "kernels/thread_pool.h"

#include <cmath>

namespace ss {

namespace {
constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;
constexpr float kSqrt2OverPi = 0.79788456080286536f;
inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
} // namespace

void apply_activation(Activation a, float* x, size_t n, float negative_slope) {
    switch (a) {
    case Activation::Relu:
        for (size_t i = 0; i < n; ++i) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
        break;
    case Activation::LeakyRelu:
        for (size_t i = 0; i < n; ++i) x[i] = x[i] >= 0.0f ? x[i] : x[i] * negative_slope;
        break;
    case Activation::Gelu: // vectorized (gelu.h), split over the threads for large arrays
        parallel_for(int64_t(n), 16384, [x](int64_t b, int64_t e) { gelu_erf_inplace(x + b, size_t(e - b)); }, 8.0 * double(n));
        break;
    case Activation::GeluTanh:
        for (size_t i = 0; i < n; ++i) {
            const float u = kSqrt2OverPi * (x[i] + 0.044715f * x[i] * x[i] * x[i]);
            x[i] = 0.5f * x[i] * (1.0f + std::tanh(u));
        }
        break;
    case Activation::Silu:
        for (size_t i = 0; i < n; ++i) x[i] = x[i] * sigmoid(x[i]);
        break;
    case Activation::Tanh:
        for (size_t i = 0; i < n; ++i) x[i] = std::tanh(x[i]);
        break;
    case Activation::Sigmoid:
        for (size_t i = 0; i < n; ++i) x[i] = sigmoid(x[i]);
        break;
    }
}

void activation_backward(Activation a, const float* x, const float* dy, float* dx, size_t n, float negative_slope) {
    switch (a) {
    case Activation::Relu:
        for (size_t i = 0; i < n; ++i) dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
        break;
    case Activation::LeakyRelu:
        for (size_t i = 0; i < n; ++i) dx[i] = x[i] >= 0.0f ? dy[i] : dy[i] * negative_slope;
        break;
    case Activation::Gelu:
        for (size_t i = 0; i < n; ++i) {
            const float cdf = 0.5f * (1.0f + std::erf(x[i] * kInvSqrt2));
            const float pdf = kInvSqrt2Pi * std::exp(-0.5f * x[i] * x[i]);
            dx[i] = dy[i] * (cdf + x[i] * pdf);
        }
        break;
    case Activation::GeluTanh:
        for (size_t i = 0; i < n; ++i) {
            const float x3 = x[i] * x[i] * x[i];
            const float t = std::tanh(kSqrt2OverPi * (x[i] + 0.044715f * x3));
            const float du = kSqrt2OverPi * (1.0f + 3.0f * 0.044715f * x[i] * x[i]);
            dx[i] = dy[i] * (0.5f * (1.0f + t) + 0.5f * x[i] * (1.0f - t * t) * du);
        }
        break;
    case Activation::Silu:
        for (size_t i = 0; i < n; ++i) {
            const float s = sigmoid(x[i]);
            dx[i] = dy[i] * s * (1.0f + x[i] * (1.0f - s));
        }
        break;
    case Activation::Tanh:
        for (size_t i = 0; i < n; ++i) {
            const float t = std::tanh(x[i]);
            dx[i] = dy[i] * (1.0f - t * t);
        }
        break;
    case Activation::Sigmoid:
        for (size_t i = 0; i < n; ++i) {
            const float s = sigmoid(x[i]);
            dx[i] = dy[i] * s * (1.0f - s);
        }
        break;
    }
}

} // namespace ss
