// prune_channels.h - structured pruning of a conv net: whole output channels of a convolution
// removed, and the matching input channels of the convolution it feeds, so both layers really
// shrink (the "neurons" method on conv nets; docs/compression.md).
#pragma once

#include "model/model.h"

namespace ss {

// `first` feeds `second` through layers that keep channels apart (activations, dropout, max or
// average pooling); both have groups == 1. Removes the round(sparsity * C) output channels of
// `first` with the smallest L2 norm of [its filter ; second's weights on that channel] (ties: the
// higher index goes first), at least one kept: rows and bias entries of first, the channel's
// kh * kw columns of second. Quantized forms and kernel copies are dropped.
void prune_channels(Conv2dLayer& first, Conv2dLayer& second, double sparsity);

} // namespace ss
