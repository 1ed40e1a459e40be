// prune_neurons.h - structured pruning: remove whole hidden units, making matrices smaller.
#pragma once

#include "model/model.h"

namespace ss {

// `first` (h, in) feeds `second` (out, h) through elementwise layers only; a gated MLP's `up`
// (h, in), when given, multiplies first's activated output unit by unit. Removes the
// round(sparsity * h) hidden units with the smallest L2 norm of [row of first ; row of up ;
// column of second] (ties: the higher index goes first), deleting those rows (and bias entries)
// of `first` and `up` and columns of `second`. At least one unit is kept. Quantized forms are
// dropped.
void prune_neurons(LinearWeights& first, LinearWeights& second, double sparsity, LinearWeights* up = nullptr);

// Every expert's and shared expert's fc1/(up)/fc2, a decoder block's MLP (dense or experts; its
// attention keeps its heads), every linear -> (activation | dropout)* -> linear chain, and every
// conv -> (activation | dropout | max / average pooling)* -> conv chain (prune_channels.h; not
// across residual joins, whose channels the shortcut fixes).
void prune_neurons_model(Model& model, double sparsity);

} // namespace ss
