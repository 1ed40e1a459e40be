// model_config.cpp
#include "formats/model_config.h"

#include "model/conv_net.h"
#include "model/overloaded.h"
#include "model/matrices.h"

#include "error.h"
#include "formats/tensor_names.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <set>

namespace ss {

namespace {

using nlohmann::json;

constexpr int kMaxDim = 1 << 20; // refuse absurd sizes before anything is allocated

int get_dim(const json& j, const char* key, const std::string& where) {
    if (!j.contains(key) || !j[key].is_number_integer())
        throw Error(where + ": field '" + key + "' missing or not an integer");
    const int64_t v = j[key].get<int64_t>();
    if (v < 1 || v > kMaxDim)
        throw Error(where + ": field '" + key + "' = " + std::to_string(v) + " must be in 1.." + std::to_string(kMaxDim));
    return int(v);
}

std::string get_name(const json& j, const std::string& where, std::set<std::string>& seen) {
    if (!j.contains("name") || !j["name"].is_string() || j["name"].get<std::string>().empty())
        throw Error(where + ": field 'name' missing or not a non-empty string");
    std::string n = j["name"].get<std::string>();
    if (!seen.insert(n).second) throw Error(where + ": layer name '" + n + "' is used twice");
    return n;
}

double get_number(const json& j, const char* key, double fallback, const std::string& where) {
    if (!j.contains(key)) return fallback;
    if (!j[key].is_number()) throw Error(where + ": field '" + key + "' must be a number");
    return j[key].get<double>();
}

// A size given as N or [H, W]: both in lo..kMaxDim.
void get_pair(const json& j, const char* key, int fallback, int lo, const std::string& where, int* h, int* w) {
    if (!j.contains(key)) {
        *h = *w = fallback;
        return;
    }
    const json& v = j[key];
    auto one = [&](const json& x) {
        if (!x.is_number_integer() || x.get<int64_t>() < lo || x.get<int64_t>() > kMaxDim)
            throw Error(where + ": field '" + key + "' must be an integer in " + std::to_string(lo) + ".." + std::to_string(kMaxDim) +
                        " or a pair [h, w] of them");
        return int(x.get<int64_t>());
    };
    if (v.is_array()) {
        if (v.size() != 2) throw Error(where + ": field '" + key + "' must be an integer or a pair [h, w]");
        *h = one(v[0]);
        *w = one(v[1]);
    } else {
        *h = *w = one(v);
    }
}

bool get_bool(const json& j, const char* key, bool fallback, const std::string& where) {
    if (!j.contains(key)) return fallback;
    if (!j[key].is_boolean()) throw Error(where + ": field '" + key + "' must be true or false");
    return j[key].get<bool>();
}

// {"name", "in_channels", "out_channels", "kernel", "stride", "padding", "dilation", "groups", "bias"}
Conv2dLayer parse_conv(const json& lj, const std::string& lw, std::set<std::string>& names) {
    Conv2dLayer c;
    const std::string name = get_name(lj, lw, names);
    const std::string cw = lw + " ('" + name + "')";
    Conv2dShape& s = c.shape;
    s.in_channels = get_dim(lj, "in_channels", cw);
    s.out_channels = get_dim(lj, "out_channels", cw);
    get_pair(lj, "kernel", 0, 1, cw, &s.kernel_h, &s.kernel_w);
    if (!lj.contains("kernel")) throw Error(cw + ": field 'kernel' missing");
    get_pair(lj, "stride", 1, 1, cw, &s.stride_h, &s.stride_w);
    get_pair(lj, "padding", 0, 0, cw, &s.pad_h, &s.pad_w);
    get_pair(lj, "dilation", 1, 1, cw, &s.dilation_h, &s.dilation_w);
    s.groups = lj.contains("groups") ? get_dim(lj, "groups", cw) : 1;
    if (s.in_channels % s.groups || s.out_channels % s.groups)
        throw Error(cw + ": 'groups' = " + std::to_string(s.groups) + " must divide 'in_channels' and 'out_channels'");
    const int64_t in = int64_t(s.group_in()) * s.kernel_h * s.kernel_w;
    if (in > kMaxDim) throw Error(cw + ": in_channels / groups * kernel exceeds " + std::to_string(kMaxDim));
    c.w = make_linear(name, int(in), s.out_channels, get_bool(lj, "bias", true, cw));
    c.w.tensor_shape = {s.out_channels, s.group_in(), s.kernel_h, s.kernel_w};
    return c;
}

BatchNorm2dLayer parse_batchnorm(const json& lj, const std::string& lw, std::set<std::string>& names) {
    BatchNorm2dLayer bn;
    bn.name = get_name(lj, lw, names);
    bn.channels = get_dim(lj, "channels", lw);
    bn.eps = get_number(lj, "eps", 1e-5, lw);
    if (!(bn.eps > 0.0) || !std::isfinite(bn.eps)) throw Error(lw + " ('" + bn.name + "'): field 'eps' must be a finite number > 0");
    return bn;
}

json batchnorm_json(const BatchNorm2dLayer& bn) {
    return {{"type", "batchnorm2d"}, {"name", bn.name}, {"channels", bn.channels}, {"eps", bn.eps}};
}

Pool2dShape parse_pool(const json& lj, const std::string& lw) {
    Pool2dShape p;
    if (!lj.contains("kernel")) throw Error(lw + ": field 'kernel' missing");
    get_pair(lj, "kernel", 1, 1, lw, &p.kernel_h, &p.kernel_w);
    int sh = 0, sw = 0;
    get_pair(lj, "stride", 0, 1, lw, &sh, &sw);
    p.stride_h = lj.contains("stride") ? sh : p.kernel_h; // PyTorch: stride defaults to the kernel
    p.stride_w = lj.contains("stride") ? sw : p.kernel_w;
    get_pair(lj, "padding", 0, 0, lw, &p.pad_h, &p.pad_w);
    get_pair(lj, "dilation", 1, 1, lw, &p.dilation_h, &p.dilation_w);
    p.count_include_pad = get_bool(lj, "count_include_pad", true, lw);
    return p;
}

json conv_json(const Conv2dLayer& c) {
    const Conv2dShape& s = c.shape;
    return {{"type", "conv2d"},
            {"name", c.w.name},
            {"in_channels", s.in_channels},
            {"out_channels", s.out_channels},
            {"kernel", {s.kernel_h, s.kernel_w}},
            {"stride", {s.stride_h, s.stride_w}},
            {"padding", {s.pad_h, s.pad_w}},
            {"dilation", {s.dilation_h, s.dilation_w}},
            {"groups", s.groups},
            {"bias", c.w.has_bias}};
}

json pool_json(const char* type, const Pool2dShape& p, bool avg) {
    json j = {{"type", type},
              {"kernel", {p.kernel_h, p.kernel_w}},
              {"stride", {p.stride_h, p.stride_w}},
              {"padding", {p.pad_h, p.pad_w}}};
    if (avg) j["count_include_pad"] = p.count_include_pad;
    else j["dilation"] = {p.dilation_h, p.dilation_w};
    return j;
}

} // namespace

Model parse_model_config(const std::string& json_text, const std::string& where) {
    json j;
    try {
        j = json::parse(json_text);
    } catch (const std::exception& e) {
        throw Error(where + ": not valid JSON: " + e.what());
    }
    if (!j.is_object()) throw Error(where + ": config must be a JSON object");
    if (!j.contains("format") || j["format"] != kClassifierFormat)
        throw Error(where + ": field 'format' must be \"" + std::string(kClassifierFormat) + "\"");

    Model m;
    if (j.contains("name") && j["name"].is_string()) m.name = j["name"].get<std::string>();

    if (!j.contains("input") || !j["input"].is_object()) throw Error(where + ": field 'input' missing or not an object");
    const json& in = j["input"];
    if (!in.contains("shape") || !in["shape"].is_array() || in["shape"].empty())
        throw Error(where + ": field 'input.shape' missing or not a non-empty array");
    int64_t features = 1;
    for (const auto& d : in["shape"]) {
        if (!d.is_number_integer() || d.get<int64_t>() < 1 || d.get<int64_t>() > kMaxDim)
            throw Error(where + ": field 'input.shape' entries must be integers in 1.." + std::to_string(kMaxDim));
        features *= d.get<int64_t>();
        if (features > kMaxDim) throw Error(where + ": input.shape has more than " + std::to_string(kMaxDim) + " features");
        m.input.shape.push_back(d.get<int>());
    }
    m.input.scale = get_number(in, "scale", 1.0, where + ": input");
    m.input.mean = get_number(in, "mean", 0.0, where + ": input");
    m.input.std = get_number(in, "std", 1.0, where + ": input");
    if (!(m.input.std > 0.0) || !std::isfinite(m.input.std)) throw Error(where + ": field 'input.std' must be a finite number > 0");
    if (!std::isfinite(m.input.scale) || !std::isfinite(m.input.mean)) throw Error(where + ": fields 'input.scale' and 'input.mean' must be finite");

    if (!j.contains("labels") || !j["labels"].is_array() || j["labels"].empty())
        throw Error(where + ": field 'labels' missing or not a non-empty array of strings");
    for (const auto& l : j["labels"]) {
        if (!l.is_string()) throw Error(where + ": field 'labels' must hold strings only");
        m.labels.push_back(l.get<std::string>());
    }

    if (!j.contains("layers") || !j["layers"].is_array() || j["layers"].empty())
        throw Error(where + ": field 'layers' missing or not a non-empty array");
    std::set<std::string> names;
    int width = int(features); // features flowing into the next layer
    int index = 0;
    for (const auto& lj : j["layers"]) {
        const std::string lw = where + ": layers[" + std::to_string(index++) + "]";
        if (!lj.is_object() || !lj.contains("type") || !lj["type"].is_string())
            throw Error(lw + ": field 'type' missing or not a string");
        const std::string type = lj["type"].get<std::string>();
        Activation act;
        if (type == "linear") {
            std::string name = get_name(lj, lw, names);
            const int fin = get_dim(lj, "in", lw), fout = get_dim(lj, "out", lw);
            if (width >= 0 && fin != width)
                throw Error(lw + " ('" + name + "'): 'in' = " + std::to_string(fin) + " but the previous layer gives " + std::to_string(width) + " features");
            m.layers.emplace_back(make_linear(name, fin, fout, true));
            width = fout;
        } else if (parse_activation(type, &act)) {
            ActivationLayer a{act};
            if (act == Activation::LeakyRelu) a.negative_slope = float(get_number(lj, "negative_slope", 0.01, lw));
            m.layers.emplace_back(a);
        } else if (type == "moe") {
            MoeLayer moe;
            moe.name = get_name(lj, lw, names);
            const std::string mw = lw + " ('" + moe.name + "')";
            moe.dim = get_dim(lj, "dim", mw);
            moe.hidden = get_dim(lj, "hidden", mw);
            const int experts = get_dim(lj, "experts", mw);
            if (experts > 4096) throw Error(mw + ": field 'experts' = " + std::to_string(experts) + " exceeds 4096");
            moe.top_k = get_dim(lj, "top_k", mw);
            if (moe.top_k > experts)
                throw Error(mw + ": field 'top_k' = " + std::to_string(moe.top_k) + " exceeds 'experts' = " + std::to_string(experts));
            if (width >= 0 && moe.dim != width)
                throw Error(mw + ": 'dim' = " + std::to_string(moe.dim) + " but the previous layer gives " + std::to_string(width) + " features");
            const std::string a = lj.value("activation", std::string("gelu"));
            if (!parse_activation(a, &moe.activation)) throw Error(mw + ": unknown activation '" + a + "'");
            if (lj.contains("residual") && !lj["residual"].is_boolean()) throw Error(mw + ": field 'residual' must be true or false");
            moe.residual = lj.value("residual", false);
            moe.gate = make_linear(tensor_names::moe_gate(moe.name), moe.dim, experts, false);
            // Experts may have their own hidden sizes (after structured pruning): "expert_hidden".
            std::vector<int> hidden(size_t(experts), moe.hidden);
            if (lj.contains("expert_hidden")) {
                const json& eh = lj["expert_hidden"];
                if (!eh.is_array() || eh.size() != size_t(experts))
                    throw Error(mw + ": field 'expert_hidden' must be an array of " + std::to_string(experts) + " sizes");
                for (int e = 0; e < experts; ++e) {
                    if (!eh[size_t(e)].is_number_integer() || eh[size_t(e)].get<int64_t>() < 1 || eh[size_t(e)].get<int64_t>() > kMaxDim)
                        throw Error(mw + ": field 'expert_hidden' entries must be integers in 1.." + std::to_string(kMaxDim));
                    hidden[size_t(e)] = eh[size_t(e)].get<int>();
                }
            }
            for (int e = 0; e < experts; ++e) {
                moe.experts.push_back({e, make_linear(tensor_names::moe_fc1(moe.name, e), moe.dim, hidden[size_t(e)], true),
                                       make_linear(tensor_names::moe_fc2(moe.name, e), hidden[size_t(e)], moe.dim, true), {}});
            }
            m.layers.emplace_back(std::move(moe));
        } else if (type == "layernorm") {
            LayerNormLayer ln;
            ln.name = get_name(lj, lw, names);
            ln.dim = get_dim(lj, "dim", lw);
            if (width >= 0 && ln.dim != width)
                throw Error(lw + " ('" + ln.name + "'): 'dim' = " + std::to_string(ln.dim) + " but the previous layer gives " + std::to_string(width) + " features");
            ln.eps = get_number(lj, "eps", 1e-5, lw);
            if (!(ln.eps > 0.0)) throw Error(lw + " ('" + ln.name + "'): field 'eps' must be > 0");
            m.layers.emplace_back(std::move(ln));
        } else if (type == "conv2d") {
            m.layers.emplace_back(parse_conv(lj, lw, names));
            width = -1; // known after the whole net is read (activation_shapes)
        } else if (type == "batchnorm2d") {
            m.layers.emplace_back(parse_batchnorm(lj, lw, names));
        } else if (type == "maxpool2d" || type == "avgpool2d") {
            SpatialLayer sp;
            sp.op = type == "maxpool2d" ? SpatialOp::MaxPool : SpatialOp::AvgPool;
            sp.pool = parse_pool(lj, lw);
            m.layers.emplace_back(sp);
            width = -1;
        } else if (type == "global_avgpool" || type == "flatten") {
            SpatialLayer sp;
            sp.op = type == "flatten" ? SpatialOp::Flatten : SpatialOp::GlobalAvgPool;
            m.layers.emplace_back(sp);
            width = -1;
        } else if (type == "residual_save" || type == "residual_add") {
            ResidualLayer r;
            r.add = type == "residual_add";
            if (lj.contains("projection")) {
                if (!r.add) throw Error(lw + ": only a residual_add has a 'projection'");
                if (!lj["projection"].is_object()) throw Error(lw + ": field 'projection' must be a conv2d object");
                r.projection = parse_conv(lj["projection"], lw + ": projection", names);
                r.has_projection = true;
            }
            if (lj.contains("projection_bn")) {
                const json& pb = lj["projection_bn"];
                if (!r.has_projection || !pb.is_object()) throw Error(lw + ": field 'projection_bn' must be a batchnorm2d object after a 'projection'");
                r.projection_bn = parse_batchnorm(pb, lw + ": projection_bn", names);
                if (r.projection_bn.channels != r.projection.shape.out_channels)
                    throw Error(lw + ": projection_bn has " + std::to_string(r.projection_bn.channels) + " channels, the projection gives " +
                                std::to_string(r.projection.shape.out_channels));
                r.has_projection_bn = true;
            }
            m.layers.emplace_back(std::move(r));
        } else if (type == "dropout") {
            DropoutLayer d;
            d.p = get_number(lj, "p", 0.0, lw);
            if (!(d.p >= 0.0 && d.p < 1.0)) throw Error(lw + ": field 'p' must be in [0, 1)");
            m.layers.emplace_back(d);
        } else {
            throw Error(lw + ": unknown layer type '" + type +
                        "' (supported: linear, relu, leaky_relu, gelu, gelu_tanh, silu, tanh, sigmoid, layernorm, dropout, moe, conv2d, "
                        "batchnorm2d, maxpool2d, avgpool2d, global_avgpool, flatten, residual_save, residual_add)");
        }
    }
    if (j.contains("quantization")) {
        // Which matrices are stored quantized, and how: the loader reads them in that form.
        const json& q = j["quantization"];
        if (!q.is_object() || q.value("format", "") != kQuantFormat || !q.contains("layers") || !q["layers"].is_object())
            throw Error(where + ": field 'quantization' must be {\"format\": \"" + std::string(kQuantFormat) + "\", \"layers\": {...}}");
        for (auto it = q["layers"].begin(); it != q["layers"].end(); ++it) {
            LinearWeights* l = find_matrix(m, it.key());
            if (!l) throw Error(where + ": quantization.layers names '" + it.key() + "', which is not a linear layer or expert matrix");
            if (!it.value().is_string()) throw Error(where + ": quantization.layers['" + it.key() + "'] must be a scheme string");
            QuantSpec spec;
            try {
                spec = parse_quant_spec(it.value().get<std::string>());
            } catch (const Error& e) {
                throw Error(where + ": quantization.layers['" + it.key() + "']: " + e.what());
            }
            if (spec.scheme == QuantScheme::None) continue;
            auto placeholder = std::make_shared<QuantizedWeights>();
            placeholder->spec = spec;
            placeholder->out = l->out;
            placeholder->in = l->in;
            l->quant = std::move(placeholder);
        }
    }
    // A conv net: every layer's fit checked on the shapes that flow (channels, spatial sizes).
    if (is_conv_net(m)) width = int(activation_shapes(m, where).back().features());
    if (width != int(m.labels.size()))
        throw Error(where + ": the last layer gives " + std::to_string(width) + " outputs but 'labels' has " +
                    std::to_string(m.labels.size()) + " entries");
    return m;
}

std::string model_config_json(const Model& m) {
    json j;
    j["format"] = kClassifierFormat;
    j["name"] = m.name;
    j["input"] = {{"shape", m.input.shape}, {"scale", m.input.scale}, {"mean", m.input.mean}, {"std", m.input.std}};
    j["labels"] = m.labels;
    json layers = json::array();
    for (const auto& layer : m.layers)
        layers.push_back(std::visit(
            Overloaded{
                [](const LinearWeights& lin) -> json { return {{"type", "linear"}, {"name", lin.name}, {"in", lin.in}, {"out", lin.out}}; },
                [](const ActivationLayer& a) -> json {
                    if (a.kind == Activation::LeakyRelu) return {{"type", "leaky_relu"}, {"negative_slope", a.negative_slope}};
                    return {{"type", activation_name(a.kind)}};
                },
                [](const MoeLayer& moe) -> json {
                    json l = {{"type", "moe"}, {"name", moe.name}, {"dim", moe.dim}, {"hidden", moe.hidden},
                              {"experts", int(moe.experts.size())}, {"top_k", moe.top_k},
                              {"activation", activation_name(moe.activation)}, {"residual", moe.residual}};
                    std::vector<int> hidden;
                    bool uniform = true;
                    for (const auto& e : moe.experts) {
                        hidden.push_back(e.fc1.out);
                        uniform &= e.fc1.out == moe.hidden;
                    }
                    if (!uniform) l["expert_hidden"] = hidden;
                    return l;
                },
                [](const LayerNormLayer& ln) -> json { return {{"type", "layernorm"}, {"name", ln.name}, {"dim", ln.dim}, {"eps", ln.eps}}; },
                [](const DropoutLayer& d) -> json { return {{"type", "dropout"}, {"p", d.p}}; },
                [](const Conv2dLayer& c) -> json { return conv_json(c); },
                [](const BatchNorm2dLayer& bn) -> json { return batchnorm_json(bn); },
                [](const SpatialLayer& s) -> json {
                    switch (s.op) {
                    case SpatialOp::MaxPool: return pool_json("maxpool2d", s.pool, false);
                    case SpatialOp::AvgPool: return pool_json("avgpool2d", s.pool, true);
                    case SpatialOp::GlobalAvgPool: return {{"type", "global_avgpool"}};
                    case SpatialOp::Flatten: break;
                    }
                    return {{"type", "flatten"}};
                },
                [](const ResidualLayer& r) -> json {
                    if (!r.add) return {{"type", "residual_save"}};
                    json j = {{"type", "residual_add"}};
                    if (r.has_projection) {
                        j["projection"] = conv_json(r.projection);
                        j["projection"].erase("type");
                    }
                    if (r.has_projection_bn) j["projection_bn"] = batchnorm_json(r.projection_bn);
                    return j;
                },
                [](const EmbeddingLayer&) -> json { refuse_layer_kind("classifier-v1 config", "embedding"); },
                [](const RmsNormLayer&) -> json { refuse_layer_kind("classifier-v1 config", "RMSNorm"); },
                [](const DecoderBlock&) -> json { refuse_layer_kind("classifier-v1 config", "decoder block"); },
            },
            layer));
    j["layers"] = layers;
    json quant = json::object();
    for_each_matrix(m, [&](const LinearWeights& l, const MatrixInfo& info) {
        const std::string& name = info.stored_name;
        if (l.quant) quant[name] = l.quant->spec.label();
    });
    if (!quant.empty()) j["quantization"] = {{"format", kQuantFormat}, {"layers", quant}};
    return j.dump(1);
}

} // namespace ss
