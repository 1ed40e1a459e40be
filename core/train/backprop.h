// backprop.h - loss and gradients of a classifier-v1 model on one batch.
//
// Loss = mean cross-entropy + aux_weight * sum over MoE layers of the load-balancing term
// E * sum_e f_e P_e (Switch Transformer), where f_e is the fraction of (row, slot) pairs routed
// to expert e (not differentiated) and P_e the mean over rows of softmax(gate logits)_e.
// The top-k selection itself is piecewise constant; the gradient flows through the softmax over
// the selected logits and through the load-balancing term.
#pragma once

#include "model/model.h"

#include <vector>

namespace ss {

// Gradients with the model's exact shapes: a Model whose weight/bias vectors hold dL/dparam.
Model make_zero_gradients(const Model& model);
void zero_gradients(Model& grads);

// Every parameter vector of `m` (weights, biases, gates) in one fixed order.
std::vector<WeightData*> parameter_vectors(Model& m);

// Knowledge distillation (Hinton et al., 2015): the logits' loss becomes
//   (1 - weight) * CE(labels) + weight * T^2 * KL(softmax(teacher / T) || softmax(z / T)),
// the T^2 keeping the soft term's gradient on the scale of the hard one's.
struct Distillation {
    const float* teacher_logits = nullptr; // (n, classes): the dense model's, on the same rows
    float weight = 0.5f;                   // in [0, 1]
    float temperature = 2.0f;              // > 0
};

struct BatchLoss {
    double cross_entropy = 0.0; // mean over rows (the hard term, before any distillation weight)
    double distill = 0.0;       // mean over rows of T^2 * KL (0 without distillation)
    double aux = 0.0;           // load-balancing term (already multiplied by aux_weight)
    int correct = 0;            // rows whose argmax logit equals the label
};

// x (n, features) preprocessed, labels (n) -> loss; adds dL/dparam to grads. With `distill`
// the logits' gradient is that of the distillation loss above.
BatchLoss loss_and_gradients(const Model& model, const float* x, const int* labels, int n, float aux_weight,
                             Model& grads, const Distillation* distill = nullptr);

} // namespace ss
