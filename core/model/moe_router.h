// moe_router.h - top-k expert selection and the routing weights, by each family's rule.
#pragma once

#include "model/model.h"

namespace ss {

// gate (E) logits of one row -> idx (k) expert indices, in descending logit order (ties: lower
// index first), and w (k) = softmax(gate[idx]).
void route_top_k(const float* gate, int experts, int k, int* idx, float* w);

// The same selection (the k largest logits, ties to the lower index) with weights by `rule`
// (model.h): softmax over the k, or the full softmax's values at the k, renormalised or not.
// probs (E) is scratch.
void route(const float* gate, int experts, int k, RoutingRule rule, int* idx, float* w, float* probs);

} // namespace ss
