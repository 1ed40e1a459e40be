// adam.h - Adam / AdamW over a model's parameter vectors (Kingma & Ba; decoupled weight decay of
// Loshchilov & Hutter), with the learning-rate schedule every SparseScope trainer uses: cosine
// from the peak to 0 over all steps.
#pragma once

#include "model/model.h"

#include <cstdint>
#include <vector>

namespace ss {

class Adam {
public:
    // `model` fixes the shapes; the moments start at zero.
    explicit Adam(const Model& model);

    // One update of `params` (parameter_vectors of the trained model) by `grads` (the same
    // vectors of the gradient model), at learning rate lr; `step` is 1-based.
    void update(const std::vector<WeightData*>& params, const std::vector<WeightData*>& grads, int64_t step, double lr,
                double weight_decay);

private:
    Model m1_, m2_; // first and second moments, the model's shapes
    std::vector<WeightData*> m_, v_;
};

// lr at 1-based `step` of `total_steps`: peak * (1 + cos(pi (step - 1) / total)) / 2.
double cosine_learning_rate(double peak, int64_t step, int64_t total_steps);

} // namespace ss
