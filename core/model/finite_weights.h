// finite_weights.h - whether a model's weights are all finite numbers.
//
// A NaN or infinity in a weight makes every figure measured on the model meaningless, and
// quantizing one is undefined; loaders refuse such models unless asked to load them anyway.
#pragma once

#include "model/model.h"

#include <string>

namespace ss {

// "tensor 'stem.weight' element 17 is NaN" for the first non-finite value (matrices, their biases
// and scales, then norm and embedding vectors), or "" when every value is finite.
std::string first_nonfinite_weight(const Model& model);

} // namespace ss
