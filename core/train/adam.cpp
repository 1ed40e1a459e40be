// adam.cpp
#include "train/adam.h"

#include "train/backprop.h"

#include <cmath>

namespace ss {

Adam::Adam(const Model& model) : m1_(make_zero_gradients(model)), m2_(make_zero_gradients(model)) {
    m_ = parameter_vectors(m1_);
    v_ = parameter_vectors(m2_);
}

void Adam::update(const std::vector<WeightData*>& params, const std::vector<WeightData*>& grads, int64_t step, double lr,
                  double weight_decay) {
    constexpr float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
    const double bc1 = 1.0 - std::pow(beta1, double(step)), bc2 = 1.0 - std::pow(beta2, double(step));
    for (size_t p = 0; p < params.size(); ++p) {
        float* w = params[p]->data();
        const float* g = grads[p]->data();
        float* mm = m_[p]->data();
        float* vv = v_[p]->data();
        const size_t len = params[p]->size();
        for (size_t i = 0; i < len; ++i) {
            mm[i] = beta1 * mm[i] + (1 - beta1) * g[i];
            vv[i] = beta2 * vv[i] + (1 - beta2) * g[i] * g[i];
            const double update = (mm[i] / bc1) / (std::sqrt(vv[i] / bc2) + eps);
            w[i] -= float(lr * (update + weight_decay * w[i]));
        }
    }
}

double cosine_learning_rate(double peak, int64_t step, int64_t total_steps) {
    return peak * 0.5 * (1.0 + std::cos(M_PI * double(step - 1) / double(total_steps)));
}

} // namespace ss
