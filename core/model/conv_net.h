// conv_net.h - the activation shapes of a classifier's layers, and BatchNorm folding at load.
//
// A sample flows through a classifier as (C, H, W): the input's shape ({C, H, W}; {H, W} is one
// channel; {F} is F flat features), convolutions and pooling change it, Flatten and linear layers
// make it flat (features = C * H * W; a linear layer flattens what it is given, as the classifier-v1
// MLPs always did with {28, 28} images).
#pragma once

#include "model/model.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ss {

struct ActivationShape {
    int c = 0, h = 1, w = 1;
    bool flat = false; // features only: convolutions and pooling refuse it
    int64_t features() const { return int64_t(c) * h * w; }
    bool operator==(const ActivationShape&) const = default;
};

ActivationShape input_activation_shape(const InputSpec& in);

// The activation entering each layer, then the model's output: (layers + 1). Throws ss::Error
// naming `where`, the layer (index, kind and name), the field and the rule when a layer does not
// fit what reaches it (channels, spatial size, features, a residual add without a save).
std::vector<ActivationShape> activation_shapes(const Model& m, const std::string& where);

// Whether the model has convolutional or spatial layers (then activations are (N, C, H, W)).
bool is_conv_net(const Model& m);

// Each BatchNorm2dLayer that directly follows a Conv2dLayer (or a residual projection's place,
// never) is folded into that convolution and removed; the others stay and run as per-channel
// affine maps. Throws ss::Error (batchnorm_fold.h) naming the layer for bad statistics.
void fold_batchnorm_layers(Model& m);

// A short name of a layer's kind for messages and the layer tree: "conv2d", "maxpool2d", ...
std::string layer_kind_name(const Layer& layer);

} // namespace ss
