// conv_net.cpp
#include "model/conv_net.h"

#include "error.h"
#include "model/batchnorm_fold.h"
#include "model/overloaded.h"

#include <algorithm>

namespace ss {

ActivationShape input_activation_shape(const InputSpec& in) {
    ActivationShape s;
    if (in.shape.size() == 3) s = {in.shape[0], in.shape[1], in.shape[2], false};
    else if (in.shape.size() == 2) s = {1, in.shape[0], in.shape[1], false};
    else s = {in.features(), 1, 1, true};
    return s;
}

std::string layer_kind_name(const Layer& layer) {
    return std::visit(Overloaded{
                          [](const LinearWeights&) -> std::string { return "linear"; },
                          [](const ActivationLayer& a) -> std::string { return activation_name(a.kind); },
                          [](const MoeLayer&) -> std::string { return "moe"; },
                          [](const LayerNormLayer&) -> std::string { return "layernorm"; },
                          [](const DropoutLayer&) -> std::string { return "dropout"; },
                          [](const EmbeddingLayer&) -> std::string { return "embedding"; },
                          [](const RmsNormLayer&) -> std::string { return "rmsnorm"; },
                          [](const DecoderBlock&) -> std::string { return "decoder block"; },
                          [](const Conv2dLayer&) -> std::string { return "conv2d"; },
                          [](const BatchNorm2dLayer&) -> std::string { return "batchnorm2d"; },
                          [](const SpatialLayer& s) -> std::string {
                              switch (s.op) {
                              case SpatialOp::MaxPool: return "maxpool2d";
                              case SpatialOp::AvgPool: return "avgpool2d";
                              case SpatialOp::GlobalAvgPool: return "global_avgpool";
                              case SpatialOp::Flatten: return "flatten";
                              }
                              return "spatial";
                          },
                          [](const ResidualLayer& r) -> std::string { return r.add ? "residual_add" : "residual_save"; },
                      },
                      layer);
}

namespace {

std::string shape_text(const ActivationShape& s) {
    if (s.flat) return std::to_string(s.features()) + " features";
    return "(" + std::to_string(s.c) + ", " + std::to_string(s.h) + ", " + std::to_string(s.w) + ")";
}

// The output of convolution c on `in`, checked.
ActivationShape conv_out(const Conv2dLayer& c, const ActivationShape& in, const std::string& lw) {
    if (in.flat) throw Error(lw + ": a convolution needs (C, H, W) activations, but it is given " + shape_text(in) + " (after a flatten or linear layer)");
    if (in.c != c.shape.in_channels)
        throw Error(lw + ": 'in_channels' = " + std::to_string(c.shape.in_channels) + " but the previous layer gives " + std::to_string(in.c) +
                    " channels");
    validate_conv2d(c.shape, in.h, in.w, lw);
    if (c.w.out != c.shape.out_channels || int64_t(c.w.in) * c.w.out != c.shape.weight_count())
        throw Error(lw + ": the weight matrix is " + std::to_string(c.w.out) + " x " + std::to_string(c.w.in) + ", the shape needs " +
                    std::to_string(c.shape.out_channels) + " x " + std::to_string(c.shape.group_in() * c.shape.kernel_h * c.shape.kernel_w));
    return {c.shape.out_channels, c.shape.out_h(in.h), c.shape.out_w(in.w), false};
}

} // namespace

std::vector<ActivationShape> activation_shapes(const Model& m, const std::string& where) {
    std::vector<ActivationShape> out;
    out.reserve(m.layers.size() + 1);
    ActivationShape cur = input_activation_shape(m.input);
    std::vector<ActivationShape> saved;
    out.push_back(cur);
    for (size_t i = 0; i < m.layers.size(); ++i) {
        const Layer& layer = m.layers[i];
        const std::string lw = where + ": layer " + std::to_string(i) + " (" + layer_kind_name(layer) + ")";
        auto named = [&](const std::string& name) { return name.empty() ? lw : lw.substr(0, lw.size() - 1) + " '" + name + "')"; };
        std::visit(Overloaded{
                       [&](const LinearWeights& l) {
                           if (cur.features() != l.in)
                               throw Error(named(l.name) + ": 'in' = " + std::to_string(l.in) + " but the previous layer gives " + shape_text(cur));
                           cur = {l.out, 1, 1, true};
                       },
                       [&](const ActivationLayer&) {},
                       [&](const DropoutLayer&) {},
                       [&](const MoeLayer& moe) {
                           if (cur.features() != moe.dim)
                               throw Error(named(moe.name) + ": 'dim' = " + std::to_string(moe.dim) + " but the previous layer gives " + shape_text(cur));
                           cur = {moe.dim, 1, 1, true};
                       },
                       [&](const LayerNormLayer& ln) {
                           if (cur.features() != ln.dim)
                               throw Error(named(ln.name) + ": 'dim' = " + std::to_string(ln.dim) + " but the previous layer gives " + shape_text(cur));
                           cur = {ln.dim, 1, 1, true};
                       },
                       [&](const EmbeddingLayer&) {},
                       [&](const RmsNormLayer&) {},
                       [&](const DecoderBlock&) {},
                       [&](const Conv2dLayer& c) { cur = conv_out(c, cur, named(c.w.name)); },
                       [&](const BatchNorm2dLayer& bn) {
                           if (cur.c != bn.channels || (cur.flat && cur.features() != bn.channels))
                               throw Error(named(bn.name) + ": 'channels' = " + std::to_string(bn.channels) + " but the previous layer gives " +
                                           shape_text(cur));
                       },
                       [&](const SpatialLayer& s) {
                           if (s.op == SpatialOp::Flatten) {
                               cur = {int(cur.features()), 1, 1, true};
                               return;
                           }
                           if (cur.flat) throw Error(lw + ": pooling needs (C, H, W) activations, but it is given " + shape_text(cur));
                           if (s.op == SpatialOp::GlobalAvgPool) {
                               cur = {cur.c, 1, 1, false};
                               return;
                           }
                           validate_pool2d(s.pool, cur.h, cur.w, lw);
                           if (s.op == SpatialOp::AvgPool && (s.pool.dilation_h != 1 || s.pool.dilation_w != 1))
                               throw Error(lw + ": average pooling has no dilation (PyTorch's nn.AvgPool2d has none)");
                           cur = {cur.c, s.pool.out_h(cur.h), s.pool.out_w(cur.w), false};
                       },
                       [&](const ResidualLayer& r) {
                           if (!r.add) {
                               saved.push_back(cur);
                               return;
                           }
                           if (saved.empty()) throw Error(lw + ": a residual add with nothing saved before it (a residual_save must come first)");
                           ActivationShape s = saved.back();
                           saved.pop_back();
                           if (r.has_projection) s = conv_out(r.projection, s, named(r.projection.w.name));
                           if (s.features() != cur.features() || (!s.flat && !cur.flat && !(s == cur)))
                               throw Error(lw + ": adds " + shape_text(s) + " to " + shape_text(cur) + "; the shapes must be equal" +
                                           (r.has_projection ? "" : " (give the shortcut a projection)"));
                       },
                   },
                   layer);
        out.push_back(cur);
    }
    if (!saved.empty()) throw Error(where + ": " + std::to_string(saved.size()) + " residual_save layer(s) without a residual_add after them");
    return out;
}

bool is_conv_net(const Model& m) {
    for (const Layer& l : m.layers)
        if (std::holds_alternative<Conv2dLayer>(l) || std::holds_alternative<SpatialLayer>(l) || std::holds_alternative<ResidualLayer>(l) ||
            std::holds_alternative<BatchNorm2dLayer>(l))
            return true;
    return false;
}

namespace {
void fold_into(Conv2dLayer& conv, const BatchNorm2dLayer& bn) {
    BatchNormParams p;
    p.gamma = bn.weight.to_vector();
    p.beta = bn.bias.to_vector();
    p.mean = bn.mean.to_vector();
    p.var = bn.var.to_vector();
    p.eps = bn.eps;
    LinearWeights& w = conv.w;
    std::vector<float> weight = w.weight.to_vector();
    std::vector<float> bias = w.has_bias ? w.bias.to_vector() : std::vector<float>{};
    fold_batchnorm(weight, bias, conv.shape.out_channels, p, "batchnorm2d '" + bn.name + "' folded into conv2d '" + w.name + "'");
    w.weight = WeightData(std::move(weight));
    w.bias = WeightData(std::move(bias));
    w.has_bias = true;
    w.quant.reset();
    w.kernels.reset();
}
} // namespace

void fold_batchnorm_layers(Model& m) {
    for (Layer& layer : m.layers)
        if (auto* r = std::get_if<ResidualLayer>(&layer); r && r->has_projection_bn) {
            fold_into(r->projection, r->projection_bn);
            r->has_projection_bn = false;
            r->projection_bn = BatchNorm2dLayer{};
        }
    std::vector<Layer> kept;
    kept.reserve(m.layers.size());
    for (Layer& layer : m.layers) {
        auto* bn = std::get_if<BatchNorm2dLayer>(&layer);
        Conv2dLayer* conv = kept.empty() ? nullptr : std::get_if<Conv2dLayer>(&kept.back());
        if (!bn || !conv) {
            kept.push_back(std::move(layer));
            continue;
        }
        fold_into(*conv, *bn);
    }
    m.layers = std::move(kept);
}

} // namespace ss
