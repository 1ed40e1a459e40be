// moe_router.h - top-k expert selection and the softmax over the selected gate logits.
#pragma once

namespace ss {

// gate (E) logits of one row -> idx (k) expert indices, in descending logit order (ties: lower
// index first), and w (k) = softmax(gate[idx]).
void route_top_k(const float* gate, int experts, int k, int* idx, float* w);

} // namespace ss
