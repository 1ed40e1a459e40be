// model_config.cpp
#include "formats/model_config.h"

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
            if (fin != width)
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
            if (moe.dim != width)
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
            if (ln.dim != width)
                throw Error(lw + " ('" + ln.name + "'): 'dim' = " + std::to_string(ln.dim) + " but the previous layer gives " + std::to_string(width) + " features");
            ln.eps = get_number(lj, "eps", 1e-5, lw);
            if (!(ln.eps > 0.0)) throw Error(lw + " ('" + ln.name + "'): field 'eps' must be > 0");
            m.layers.emplace_back(std::move(ln));
        } else if (type == "dropout") {
            DropoutLayer d;
            d.p = get_number(lj, "p", 0.0, lw);
            if (!(d.p >= 0.0 && d.p < 1.0)) throw Error(lw + ": field 'p' must be in [0, 1)");
            m.layers.emplace_back(d);
        } else {
            throw Error(lw + ": unknown layer type '" + type +
                        "' (supported: linear, relu, leaky_relu, gelu, gelu_tanh, silu, tanh, sigmoid, layernorm, dropout, moe)");
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
