// onnx_import.cpp
#include "formats/onnx_import.h"

#include "formats/sha256.h"

#include "error.h"
#include "formats/file_io.h"
#include "model/conv_net.h"

#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

namespace ss {

namespace {

struct Const {
    std::vector<int64_t> dims;
    std::vector<float> f;   // floating tensors
    std::vector<int64_t> i; // integer tensors (shapes)
};

std::string node_label(const onnx::NodeProto& n, int index) {
    std::string label = "node '";
    if (n.name().empty()) label += std::string(1, '#').append(std::to_string(index));
    else label += n.name();
    return label + "' (op '" + n.op_type() + "')";
}

Const read_tensor(const onnx::TensorProto& t, const std::string& where) {
    if (t.data_location() == onnx::TensorProto::EXTERNAL)
        throw Error(where + ": tensor '" + t.name() + "' keeps its data in an external file, which is not supported");
    Const c;
    uint64_t count = 1;
    for (int64_t d : t.dims()) {
        if (d < 0 || d > (int64_t(1) << 32)) throw Error(where + ": tensor '" + t.name() + "' has a dimension of " + std::to_string(d));
        c.dims.push_back(d);
        count *= uint64_t(d);
        if (count > (uint64_t(1) << 32)) throw Error(where + ": tensor '" + t.name() + "' is implausibly large");
    }
    const std::string& raw = t.raw_data();
    auto need = [&](size_t elem) {
        if (!raw.empty() && raw.size() != count * elem)
            throw Error(where + ": tensor '" + t.name() + "' raw_data holds " + std::to_string(raw.size()) + " bytes, its shape needs " +
                        std::to_string(count * elem));
    };
    switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
        need(4);
        c.f.resize(count);
        if (!raw.empty()) std::memcpy(c.f.data(), raw.data(), raw.size());
        else if (uint64_t(t.float_data_size()) == count) std::copy(t.float_data().begin(), t.float_data().end(), c.f.begin());
        else throw Error(where + ": tensor '" + t.name() + "' holds " + std::to_string(t.float_data_size()) + " floats, its shape needs " + std::to_string(count));
        break;
    case onnx::TensorProto::DOUBLE:
        need(8);
        c.f.resize(count);
        for (uint64_t k = 0; k < count; ++k) {
            double v;
            if (!raw.empty()) std::memcpy(&v, raw.data() + 8 * k, 8);
            else if (uint64_t(t.double_data_size()) == count) v = t.double_data(int(k));
            else throw Error(where + ": tensor '" + t.name() + "' has the wrong number of doubles");
            c.f[k] = float(v);
        }
        break;
    case onnx::TensorProto::INT64:
        need(8);
        c.i.resize(count);
        if (!raw.empty()) std::memcpy(c.i.data(), raw.data(), raw.size());
        else if (uint64_t(t.int64_data_size()) == count) std::copy(t.int64_data().begin(), t.int64_data().end(), c.i.begin());
        else throw Error(where + ": tensor '" + t.name() + "' has the wrong number of int64 values");
        break;
    case onnx::TensorProto::BOOL: // one byte each in raw_data, or int32_data (Dropout's training_mode)
        need(1);
        c.i.resize(count);
        for (uint64_t k = 0; k < count; ++k) {
            if (!raw.empty()) c.i[k] = raw[k] != 0;
            else if (uint64_t(t.int32_data_size()) == count) c.i[k] = t.int32_data(int(k)) != 0;
            else throw Error(where + ": tensor '" + (t.name().empty() ? std::string("(unnamed)") : t.name()) + "' has the wrong number of BOOL values");
        }
        break;
    default:
        throw Error(where + ": tensor '" + (t.name().empty() ? std::string("(unnamed)") : t.name()) + "' has ONNX data type " +
                    std::to_string(t.data_type()) + " (FLOAT, DOUBLE, INT64 and BOOL are supported)");
    }
    return c;
}

float attr_f(const onnx::NodeProto& n, const char* name, float fallback) {
    for (const auto& a : n.attribute())
        if (a.name() == name) return a.f();
    return fallback;
}
int64_t attr_i(const onnx::NodeProto& n, const char* name, int64_t fallback) {
    for (const auto& a : n.attribute())
        if (a.name() == name) return a.i();
    return fallback;
}
// An INTS attribute; empty when absent.
std::vector<int64_t> attr_ints(const onnx::NodeProto& n, const char* name) {
    for (const auto& a : n.attribute())
        if (a.name() == name) return {a.ints().begin(), a.ints().end()};
    return {};
}

bool has_attr(const onnx::NodeProto& n, const char* name) {
    for (const auto& a : n.attribute())
        if (a.name() == name) return true;
    return false;
}

std::string attr_s(const onnx::NodeProto& n, const char* name) {
    for (const auto& a : n.attribute())
        if (a.name() == name) return a.s();
    return {};
}

class Importer {
public:
    Importer(const std::string& path, const onnx::GraphProto& g) : path_(path), g_(g) {}

    Model run(const InputSpec& pre) {
        for (const auto& t : g_.initializer()) consts_[t.name()] = read_tensor(t, path_);
        std::set<std::string> init_names;
        for (const auto& t : g_.initializer()) init_names.insert(t.name());
        std::vector<const onnx::ValueInfoProto*> inputs;
        for (const auto& v : g_.input())
            if (!init_names.count(v.name())) inputs.push_back(&v);
        if (inputs.size() != 1) throw Error(path_ + ": graph has " + std::to_string(inputs.size()) + " inputs; a classifier has exactly one");
        if (g_.output_size() != 1) throw Error(path_ + ": graph has " + std::to_string(g_.output_size()) + " outputs; a classifier has exactly one");

        Model m;
        m.input = pre;
        m.input.shape = input_shape(*inputs[0]);
        m.name = g_.name().empty() ? std::filesystem::path(path_).stem().string() : g_.name();
        m.source_path = path_;
        count_uses();
        cur_ = inputs[0]->name();
        shape_ = input_activation_shape(m.input);
        width_ = m.input.features();

        for (index_ = 0; index_ < g_.node_size(); ++index_) {
            const onnx::NodeProto& n = g_.node(index_);
            const std::string where = path_ + ": " + node_label(n, index_);
            const std::string& op = n.op_type();
            if (op == "Constant") {
                if (n.output_size() != 1) throw Error(where + ": expected one output");
                for (const auto& a : n.attribute())
                    if (a.name() == "value") consts_[n.output(0)] = read_tensor(a.t(), where);
                if (!consts_.count(n.output(0))) throw Error(where + ": only the 'value' form of Constant is supported");
                continue;
            }
            if (!n.domain().empty() && n.domain() != "ai.onnx") throw Error(where + ": op domain '" + n.domain() + "' is not supported");
            if (skip_.count(index_)) continue; // a residual shortcut's node, taken into its Add
            const bool after_matmul = pending_bias_;
            pending_bias_ = false;
            if (!branches_.empty() && index_ == branches_.back().add_node) {
                residual_add(n, where, m);
                continue;
            }
            if (n.input_size() == 0 || n.input(0) != cur_)
                throw Error(where + ": does not continue the chain from '" + cur_ + "' (only residual branches that meet again in an Add are supported)");
            if (uses_[cur_] == 2 && op != "Div" && consumers(cur_).size() == 2) { // (Div: PyTorch's GELU uses its input twice; the pattern checks that)
                begin_branch(where, m);
                if (skip_.count(index_)) continue; // this node was the shortcut's projection
            }
            if (op == "Gemm") gemm(n, where, m);
            else if (op == "MatMul") matmul(n, where, m);
            else if (op == "Add") add_bias(n, where, m, after_matmul);
            else if (op == "Conv") {
                Conv2dLayer c = conv(n, where, shape_);
                shape_ = {c.shape.out_channels, c.shape.out_h(shape_.h), c.shape.out_w(shape_.w), false};
                width_ = int(shape_.features());
                m.layers.emplace_back(std::move(c));
            } else if (op == "BatchNormalization") {
                m.layers.emplace_back(batchnorm(n, where, shape_));
            } else if (op == "MaxPool" || op == "AveragePool") {
                pool(n, where, m);
            } else if (op == "GlobalAveragePool") {
                if (shape_.flat) throw Error(where + ": needs (N, C, H, W) input");
                m.layers.emplace_back(SpatialLayer{SpatialOp::GlobalAvgPool, {}});
                shape_ = {shape_.c, 1, 1, false};
                width_ = shape_.c;
            }
            else if (op == "Relu") m.layers.emplace_back(ActivationLayer{Activation::Relu});
            else if (op == "LeakyRelu") m.layers.emplace_back(ActivationLayer{Activation::LeakyRelu, attr_f(n, "alpha", 0.01f)});
            else if (op == "Sigmoid") m.layers.emplace_back(ActivationLayer{Activation::Sigmoid});
            else if (op == "Tanh") m.layers.emplace_back(ActivationLayer{Activation::Tanh});
            else if (op == "Gelu") {
                const std::string approx = attr_s(n, "approximate");
                m.layers.emplace_back(ActivationLayer{approx == "tanh" ? Activation::GeluTanh : Activation::Gelu});
            } else if (op == "Div") {
                gelu_erf_pattern(n, where, m);
                continue; // the pattern advanced index_ and cur_ itself
            } else if (op == "Flatten") {
                if (attr_i(n, "axis", 1) != 1) throw Error(where + ": only axis = 1 is supported (keep the batch dimension)");
                flatten(m);
            } else if (op == "Reshape") {
                reshape(n, where);
                flatten(m);
            } else if (op == "Identity" || op == "Dropout") {
                // inference: the identity; a Dropout mask output must be unused
                if (op == "Dropout" && n.output_size() > 1 && !n.output(1).empty() && uses_[n.output(1)] > 0)
                    throw Error(where + ": the dropout mask output is used");
                // training_mode (input 2, torch.onnx.export writes a BOOL constant false): true would
                // drop units at random, which an evaluation must not do.
                if (op == "Dropout" && n.input_size() > 2 && !n.input(2).empty()) {
                    auto it = consts_.find(n.input(2));
                    if (it == consts_.end() || it->second.i.size() != 1)
                        throw Error(where + ": training_mode '" + n.input(2) + "' must be a constant BOOL");
                    if (it->second.i[0] != 0) throw Error(where + ": training_mode is true; only inference (false) is supported");
                }
            } else if (op == "Softmax" || op == "LogSoftmax") {
                if (index_ != g_.node_size() - 1) throw Error(where + ": " + op + " is only supported as the last node");
                // Dropped because it keeps each row's argmax - true only over the class axis of the
                // (N, classes) chain value: 1 or -1 (every opset's default is one of them).
                const int64_t axis = attr_i(n, "axis", 1);
                if (axis != 1 && axis != -1)
                    throw Error(where + ": it normalizes over axis " + std::to_string(axis) + ", not over the classes (axis 1 or -1)");
            } else {
                throw Error(where + ": unsupported op (supported: Conv, BatchNormalization, MaxPool, AveragePool, GlobalAveragePool, "
                                    "Gemm, MatMul, Add (a bias or a residual join), Relu, LeakyRelu, Gelu, Sigmoid, Tanh, Softmax, "
                                    "LogSoftmax, Flatten, Reshape, Identity, Dropout, Constant, and PyTorch's Erf-based GELU)");
            }
            advance(n, where);
        }
        if (cur_ != g_.output(0).name())
            throw Error(path_ + ": the chain ends at '" + cur_ + "' but the graph output is '" + g_.output(0).name() + "'");
        if (m.layers.empty()) throw Error(path_ + ": the graph has no layers");
        if (!branches_.empty()) throw Error(path_ + ": the branch saved at '" + branches_.back().saved + "' never meets the chain again");
        fold_batchnorm_layers(m);                 // BatchNormalization after a Conv becomes part of it
        if (is_conv_net(m)) activation_shapes(m, path_); // every layer checked against what reaches it
        for (int c = 0; c < width_; ++c) m.labels.push_back(std::to_string(c));
        for (const auto& t : g_.initializer()) {
            std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
            m.source.tensors.push_back({t.name(), "F32", dims, std::filesystem::path(path_).filename().string()});
        }
        m.source.files = {std::filesystem::path(path_).filename().string()};
        return m;
    }

private:
    std::vector<int> input_shape(const onnx::ValueInfoProto& v) {
        if (!v.type().has_tensor_type() || !v.type().tensor_type().has_shape())
            throw Error(path_ + ": input '" + v.name() + "' has no tensor shape");
        if (v.type().tensor_type().elem_type() != onnx::TensorProto::FLOAT)
            throw Error(path_ + ": input '" + v.name() + "' has ONNX element type " + std::to_string(v.type().tensor_type().elem_type()) +
                        "; only FLOAT (1) inputs are supported");
        const auto& dims = v.type().tensor_type().shape().dim();
        if (dims.size() < 2) throw Error(path_ + ": input '" + v.name() + "' must be (batch, features...)");
        std::vector<int> shape;
        for (int i = 1; i < dims.size(); ++i) {
            if (!dims[i].has_dim_value() || dims[i].dim_value() < 1 || dims[i].dim_value() > (1 << 24))
                throw Error(path_ + ": input '" + v.name() + "' dimension " + std::to_string(i) + " must be a fixed positive size");
            shape.push_back(int(dims[i].dim_value()));
        }
        int64_t f = 1;
        for (int d : shape) f *= d;
        if (f > (1 << 24)) throw Error(path_ + ": input '" + v.name() + "' has too many features");
        return shape;
    }

    void count_uses() {
        for (const auto& n : g_.node())
            for (const auto& in : n.input()) ++uses_[in];
        for (const auto& o : g_.output()) ++uses_[o.name()];
    }

    // The chain value must be consumed once, by the next node only: anything else is a branch.
    void advance(const onnx::NodeProto& n, const std::string& where) {
        if (uses_[cur_] != 1) throw Error(where + ": its input '" + cur_ + "' is used " + std::to_string(uses_[cur_]) + " times (a branch)");
        cur_ = n.output(0);
    }

    const Const& constant(const std::string& name, const std::string& where, const char* role) {
        auto it = consts_.find(name);
        if (it == consts_.end())
            throw Error(where + ": " + role + " '" + name + "' is not an initializer or Constant (weights computed at run time are not supported)");
        return it->second;
    }

    std::string layer_name(const std::string& weight_name) {
        std::string n = weight_name;
        const std::string suffix = ".weight";
        if (n.size() > suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) n.resize(n.size() - suffix.size());
        else n = "linear" + std::to_string(linear_count_);
        while (names_.count(n)) n += "_";
        names_.insert(n);
        ++linear_count_;
        return n;
    }

    // Appends a linear layer from a constant weight W: (out, in) when out_in, else (in, out),
    // scaled by alpha, stored in PyTorch's (out, in) layout. bias (out) may be empty (zeros).
    void append_linear(Model& m, const std::string& where, const std::string& weight_name, const Const& W, bool out_in,
                       float alpha, std::vector<float> bias) {
        if (W.dims.size() != 2 || W.f.empty()) throw Error(where + ": the weight '" + weight_name + "' must be a 2-D float tensor");
        const int in = int(out_in ? W.dims[1] : W.dims[0]), out = int(out_in ? W.dims[0] : W.dims[1]);
        if (in != width_) throw Error(where + ": takes " + std::to_string(in) + " features but the previous layer gives " + std::to_string(width_));
        LinearWeights l;
        l.name = layer_name(weight_name);
        l.in = in;
        l.out = out;
        std::vector<float> w(size_t(out) * in);
        for (int o = 0; o < out; ++o)
            for (int i = 0; i < in; ++i) w[size_t(o) * in + i] = alpha * (out_in ? W.f[size_t(o) * in + i] : W.f[size_t(i) * out + o]);
        l.weight = WeightData(std::move(w));
        if (bias.empty()) bias.assign(size_t(out), 0.0f);
        l.bias = WeightData(std::move(bias));
        width_ = out;
        shape_ = {out, 1, 1, true};
        m.layers.emplace_back(std::move(l));
    }

    void gemm(const onnx::NodeProto& n, const std::string& where, Model& m) {
        if (attr_i(n, "transA", 0) != 0) throw Error(where + ": transA = 1 is not supported (the activation must be A)");
        if (n.input_size() < 2) throw Error(where + ": needs inputs A and B");
        const bool transB = attr_i(n, "transB", 0) != 0;
        const float alpha = attr_f(n, "alpha", 1.0f), beta = attr_f(n, "beta", 1.0f);
        const Const& B = constant(n.input(1), where, "weight B");
        const int out = B.dims.size() == 2 ? int(transB ? B.dims[0] : B.dims[1]) : 0;
        std::vector<float> b;
        if (n.input_size() > 2 && !n.input(2).empty()) {
            const Const& C = constant(n.input(2), where, "bias C");
            if (C.f.size() != size_t(out) && C.f.size() != 1)
                throw Error(where + ": bias C must have " + std::to_string(out) + " values (or 1), found " + std::to_string(C.f.size()));
            for (int o = 0; o < out; ++o) b.push_back(beta * C.f[C.f.size() == 1 ? 0 : size_t(o)]);
        }
        append_linear(m, where, n.input(1), B, transB, alpha, std::move(b));
    }

    void matmul(const onnx::NodeProto& n, const std::string& where, Model& m) {
        append_linear(m, where, n.input(1), constant(n.input(1), where, "weight"), false, 1.0f, {});
        pending_bias_ = true; // an Add of a constant may follow
    }

    void add_bias(const onnx::NodeProto& n, const std::string& where, Model& m, bool after_matmul) {
        if (!after_matmul || m.layers.empty() || !std::holds_alternative<LinearWeights>(m.layers.back()))
            throw Error(where + ": Add is only supported as the bias of a MatMul");
        const Const& b = constant(n.input(1), where, "bias");
        auto& l = std::get<LinearWeights>(m.layers.back());
        if (b.f.size() != size_t(l.out)) throw Error(where + ": bias must have " + std::to_string(l.out) + " values, found " + std::to_string(b.f.size()));
        l.bias = WeightData(b.f);
    }

    void reshape(const onnx::NodeProto& n, const std::string& where) {
        if (n.input_size() < 2) throw Error(where + ": needs a shape input");
        const Const& s = constant(n.input(1), where, "shape");
        const bool flat = s.i.size() == 2 && (s.i[0] == -1 || s.i[0] == 0 || s.i[0] >= 1) && (s.i[1] == -1 || s.i[1] == width_);
        (void)where;
        if (!flat) throw Error(where + ": only a reshape to [N, -1] (flattening each sample) is supported");
    }

    // Flatten / Reshape [N, -1]: (N, C, H, W) becomes (N, C * H * W) - the same values in order.
    void flatten(Model& m) {
        if (!shape_.flat) m.layers.emplace_back(SpatialLayer{SpatialOp::Flatten, {}});
        shape_ = {int(shape_.features()), 1, 1, true};
    }

    // A layer's name from the node's ("/block1/conv1/Conv" -> "block1.conv1"), else from `fallback`.
    std::string node_layer_name(const onnx::NodeProto& n, const std::string& fallback) {
        std::string s = n.name();
        while (!s.empty() && s[0] == '/') s.erase(0, 1);
        for (char& c : s)
            if (c == '/') c = '.';
        const size_t dot = s.rfind('.');
        if (dot != std::string::npos) s.resize(dot); // the op's own part ("Conv")
        else s.clear();
        if (s.empty()) s = fallback + std::to_string(names_.size());
        while (names_.count(s)) s += "_";
        names_.insert(s);
        return s;
    }

    // kernel_shape, strides, pads, dilations and auto_pad of a 2-D window over `in`: symmetric
    // padding only (PyTorch's kind); SAME_UPPER / SAME_LOWER when they come out symmetric.
    void window_attrs(const onnx::NodeProto& n, const std::string& where, const ActivationShape& in, int kh, int kw, int* sh, int* sw,
                      int* ph, int* pw, int* dh, int* dw) {
        const std::vector<int64_t> strides = attr_ints(n, "strides"), dil = attr_ints(n, "dilations"), pads = attr_ints(n, "pads");
        if ((!strides.empty() && strides.size() != 2) || (!dil.empty() && dil.size() != 2) || (!pads.empty() && pads.size() != 4))
            throw Error(where + ": strides, dilations and pads must describe 2 spatial axes");
        *sh = strides.empty() ? 1 : int(strides[0]);
        *sw = strides.empty() ? 1 : int(strides[1]);
        *dh = dil.empty() ? 1 : int(dil[0]);
        *dw = dil.empty() ? 1 : int(dil[1]);
        if (*sh < 1 || *sw < 1 || *dh < 1 || *dw < 1 || *sh > 4096 || *sw > 4096 || *dh > 4096 || *dw > 4096)
            throw Error(where + ": strides and dilations must be in 1..4096");
        const std::string autopad = attr_s(n, "auto_pad");
        if (autopad.empty() || autopad == "NOTSET") {
            if (pads.empty()) {
                *ph = *pw = 0;
                return;
            }
            if (pads[0] != pads[2] || pads[1] != pads[3])
                throw Error(where + ": pads [" + std::to_string(pads[0]) + ", " + std::to_string(pads[1]) + ", " + std::to_string(pads[2]) + ", " +
                            std::to_string(pads[3]) + "] are asymmetric; only equal padding on both sides of an axis is supported");
            if (pads[0] < 0 || pads[1] < 0 || pads[0] > 4096 || pads[1] > 4096) throw Error(where + ": pads must be in 0..4096");
            *ph = int(pads[0]);
            *pw = int(pads[1]);
            return;
        }
        if (autopad == "VALID") {
            *ph = *pw = 0;
            return;
        }
        if (autopad != "SAME_UPPER" && autopad != "SAME_LOWER") throw Error(where + ": auto_pad '" + autopad + "' is not supported");
        auto same = [&](int size, int k, int s, int d, const char* axis) {
            const int out = (size + s - 1) / s;
            const int total = std::max(0, (out - 1) * s + (k - 1) * d + 1 - size);
            if (total % 2) throw Error(where + ": auto_pad " + autopad + " pads axis " + axis + " unevenly (" + std::to_string(total) + " in all); only symmetric padding is supported");
            return total / 2;
        };
        *ph = same(in.h, kh, *sh, *dh, "H");
        *pw = same(in.w, kw, *sw, *dw, "W");
    }

    Conv2dLayer conv(const onnx::NodeProto& n, const std::string& where, const ActivationShape& in) {
        if (in.flat) throw Error(where + ": needs (N, C, H, W) input, but the chain is flat here");
        if (n.input_size() < 2) throw Error(where + ": needs inputs X and W");
        const Const& W = constant(n.input(1), where, "weight W");
        if (W.dims.size() != 4 || W.f.empty()) throw Error(where + ": weight W must be a 4-D float tensor (a 2-D convolution)");
        Conv2dLayer c;
        Conv2dShape& s = c.shape;
        s.groups = int(attr_i(n, "group", 1));
        s.out_channels = int(W.dims[0]);
        s.in_channels = int(W.dims[1]) * s.groups;
        s.kernel_h = int(W.dims[2]);
        s.kernel_w = int(W.dims[3]);
        const std::vector<int64_t> ks = attr_ints(n, "kernel_shape");
        if (!ks.empty() && (ks.size() != 2 || ks[0] != W.dims[2] || ks[1] != W.dims[3]))
            throw Error(where + ": kernel_shape does not match the weight's " + std::to_string(W.dims[2]) + " x " + std::to_string(W.dims[3]));
        if (s.groups < 1 || s.out_channels % s.groups) throw Error(where + ": group = " + std::to_string(s.groups) + " must divide the output channels");
        if (s.in_channels != in.c)
            throw Error(where + ": the weight takes " + std::to_string(s.in_channels) + " input channels but the previous layer gives " + std::to_string(in.c));
        window_attrs(n, where, in, s.kernel_h, s.kernel_w, &s.stride_h, &s.stride_w, &s.pad_h, &s.pad_w, &s.dilation_h, &s.dilation_w);
        validate_conv2d(s, in.h, in.w, where);
        c.w.name = node_layer_name(n, "conv");
        c.w.out = s.out_channels;
        c.w.in = int(W.dims[1] * W.dims[2] * W.dims[3]);
        c.w.tensor_shape = W.dims;
        c.w.weight = WeightData(W.f); // (O, C/g, kh, kw) row-major is the im2col matrix already
        std::vector<float> b(size_t(s.out_channels), 0.0f);
        if (n.input_size() > 2 && !n.input(2).empty()) {
            const Const& B = constant(n.input(2), where, "bias B");
            if (B.f.size() != size_t(s.out_channels))
                throw Error(where + ": bias B must have " + std::to_string(s.out_channels) + " values, found " + std::to_string(B.f.size()));
            b = B.f;
        }
        c.w.bias = WeightData(std::move(b));
        return c;
    }

    BatchNorm2dLayer batchnorm(const onnx::NodeProto& n, const std::string& where, const ActivationShape& in) {
        if (n.input_size() != 5) throw Error(where + ": needs inputs X, scale, B, input_mean and input_var");
        if (attr_i(n, "training_mode", 0) != 0) throw Error(where + ": training_mode = 1 (batch statistics) is not supported; inference uses the running ones");
        for (int k = 1; k < n.output_size(); ++k)
            if (!n.output(k).empty() && uses_[n.output(k)] > 0) throw Error(where + ": its running-statistics outputs are used");
        BatchNorm2dLayer bn;
        bn.name = node_layer_name(n, "batchnorm");
        bn.channels = in.c;
        bn.eps = attr_f(n, "epsilon", 1e-5f);
        const char* roles[] = {"scale", "B", "input_mean", "input_var"};
        WeightData* dst[] = {&bn.weight, &bn.bias, &bn.mean, &bn.var};
        for (int k = 0; k < 4; ++k) {
            const Const& v = constant(n.input(k + 1), where, roles[k]);
            if (v.f.size() != size_t(in.c))
                throw Error(where + ": " + roles[k] + " must have " + std::to_string(in.c) + " values (one per channel), found " + std::to_string(v.f.size()));
            *dst[k] = WeightData(v.f);
        }
        return bn;
    }

    void pool(const onnx::NodeProto& n, const std::string& where, Model& m) {
        if (shape_.flat) throw Error(where + ": needs (N, C, H, W) input");
        const std::vector<int64_t> ks = attr_ints(n, "kernel_shape");
        if (ks.size() != 2) throw Error(where + ": kernel_shape must have 2 entries (2-D pooling)");
        if (attr_i(n, "ceil_mode", 0) != 0) throw Error(where + ": ceil_mode = 1 is not supported (PyTorch's default floor only)");
        if (attr_i(n, "storage_order", 0) != 0) throw Error(where + ": storage_order = 1 is not supported");
        if (n.output_size() > 1 && !n.output(1).empty() && uses_[n.output(1)] > 0) throw Error(where + ": its Indices output is used");
        SpatialLayer sp;
        sp.op = n.op_type() == "MaxPool" ? SpatialOp::MaxPool : SpatialOp::AvgPool;
        Pool2dShape& p = sp.pool;
        p.kernel_h = int(ks[0]);
        p.kernel_w = int(ks[1]);
        if (p.kernel_h < 1 || p.kernel_w < 1 || p.kernel_h > 4096 || p.kernel_w > 4096) throw Error(where + ": kernel_shape must be in 1..4096");
        window_attrs(n, where, shape_, p.kernel_h, p.kernel_w, &p.stride_h, &p.stride_w, &p.pad_h, &p.pad_w, &p.dilation_h, &p.dilation_w);
        if (sp.op == SpatialOp::AvgPool && has_attr(n, "dilations") && (p.dilation_h != 1 || p.dilation_w != 1))
            throw Error(where + ": dilated average pooling is not supported");
        p.count_include_pad = attr_i(n, "count_include_pad", 0) != 0; // ONNX's default: padding not counted
        validate_pool2d(p, shape_.h, shape_.w, where);
        shape_ = {shape_.c, p.out_h(shape_.h), p.out_w(shape_.w), false};
        width_ = int(shape_.features());
        m.layers.emplace_back(sp);
    }

    // A value used twice where the chain is: a residual branch. One use is the shortcut - the Add
    // itself, or a Conv (+ BatchNormalization) whose result only that Add takes - and the other
    // continues the chain until it meets the shortcut in the Add.
    struct Branch {
        std::string saved;      // the value both paths start from
        std::string shortcut;   // what the shortcut hands the Add
        int add_node = -1;      // index of the Add
        bool has_projection = false;
        Conv2dLayer projection;
        ActivationShape saved_shape;
    };

    std::vector<int> consumers(const std::string& value) const {
        std::vector<int> c;
        for (int i = 0; i < g_.node_size(); ++i)
            for (const auto& in : g_.node(i).input())
                if (in == value) {
                    c.push_back(i);
                    break;
                }
        return c;
    }

    void begin_branch(const std::string& where, Model& m) {
        const std::vector<int> users = consumers(cur_);
        if (users.size() != 2) throw Error(where + ": its input '" + cur_ + "' is used twice in one node");
        Branch b;
        b.saved = cur_;
        b.saved_shape = shape_;
        // A shortcut candidate: (Add index, projection nodes) or none.
        auto shortcut_of = [&](int i, std::vector<int>* nodes, std::string* out) -> int {
            const onnx::NodeProto& n = g_.node(i);
            if (n.op_type() == "Add") {
                *out = cur_;
                return i;
            }
            if (n.op_type() != "Conv" || uses_[n.output(0)] != 1) return -1;
            nodes->push_back(i);
            std::string v = n.output(0);
            std::vector<int> next = consumers(v);
            if (next.size() == 1 && g_.node(next[0]).op_type() == "BatchNormalization" && uses_[g_.node(next[0]).output(0)] == 1) {
                nodes->push_back(next[0]);
                v = g_.node(next[0]).output(0);
                next = consumers(v);
            }
            if (next.size() != 1 || g_.node(next[0]).op_type() != "Add") return -1;
            *out = v;
            return next[0];
        };
        std::vector<int> nodes[2];
        std::string outs[2];
        const int adds[2] = {shortcut_of(users[0], &nodes[0], &outs[0]), shortcut_of(users[1], &nodes[1], &outs[1])};
        int pick = -1;
        if (adds[0] >= 0 && adds[1] < 0) pick = 0;
        else if (adds[1] >= 0 && adds[0] < 0) pick = 1;
        else if (adds[0] >= 0 && adds[1] >= 0) pick = nodes[0].size() <= nodes[1].size() ? 0 : 1; // the shorter path is the shortcut
        if (pick < 0)
            throw Error(where + ": '" + cur_ + "' branches, but neither path is a residual shortcut (the Add itself, or a Conv [+ BatchNormalization] "
                                 "into the Add)");
        b.add_node = adds[pick];
        b.shortcut = outs[pick];
        if (b.add_node == users[1 - pick] && nodes[pick].empty() && outs[pick] == cur_ && adds[1 - pick] == b.add_node)
            throw Error(where + ": '" + cur_ + "' is added to itself");
        if (!nodes[pick].empty()) {
            const onnx::NodeProto& pc = g_.node(nodes[pick][0]);
            b.projection = conv(pc, path_ + ": " + node_label(pc, nodes[pick][0]), shape_);
            if (nodes[pick].size() == 2) {
                const onnx::NodeProto& pb = g_.node(nodes[pick][1]);
                const ActivationShape ps{b.projection.shape.out_channels, b.projection.shape.out_h(shape_.h), b.projection.shape.out_w(shape_.w), false};
                Model tmp;
                tmp.layers.emplace_back(b.projection);
                tmp.layers.emplace_back(batchnorm(pb, path_ + ": " + node_label(pb, nodes[pick][1]), ps));
                fold_batchnorm_layers(tmp);
                b.projection = std::get<Conv2dLayer>(tmp.layers[0]);
            }
            b.has_projection = true;
            for (int k : nodes[pick]) skip_.insert(k);
        }
        uses_[cur_] = 1; // the chain's own use is left
        ResidualLayer save;
        m.layers.emplace_back(save);
        branches_.push_back(std::move(b));
    }

    void residual_add(const onnx::NodeProto& n, const std::string& where, Model& m) {
        Branch b = std::move(branches_.back());
        branches_.pop_back();
        if (n.input_size() != 2 || !((n.input(0) == cur_ && n.input(1) == b.shortcut) || (n.input(1) == cur_ && n.input(0) == b.shortcut)))
            throw Error(where + ": expected to add the chain '" + cur_ + "' and the shortcut '" + b.shortcut + "'");
        ResidualLayer add;
        add.add = true;
        add.has_projection = b.has_projection;
        add.projection = std::move(b.projection);
        m.layers.emplace_back(std::move(add));
        cur_ = n.output(0);
        if (uses_[cur_] != 1 && uses_[cur_] != 2 && cur_ != g_.output(0).name())
            throw Error(where + ": its output is used " + std::to_string(uses_[cur_]) + " times");
    }

    // PyTorch (opset < 20) writes GELU as y = (x * (erf(x / sqrt 2) + 1)) * 0.5: five nodes in
    // which x is used twice. Recognize exactly that and emit one gelu layer.
    void gelu_erf_pattern(const onnx::NodeProto& div, const std::string& where, Model& m) {
        const std::string x = cur_;
        auto next = [&](int k) -> const onnx::NodeProto* {
            // Skip Constant nodes, which the pattern's scalars come from.
            for (int i = k; i < g_.node_size(); ++i) {
                const auto& n = g_.node(i);
                if (n.op_type() == "Constant") {
                    for (const auto& a : n.attribute())
                        if (a.name() == "value") consts_[n.output(0)] = read_tensor(a.t(), path_ + ": " + node_label(n, i));
                    continue;
                }
                index_ = i;
                return &n;
            }
            return nullptr;
        };
        auto scalar = [&](const std::string& name, double want) {
            auto it = consts_.find(name);
            return it != consts_.end() && it->second.f.size() == 1 && std::fabs(it->second.f[0] - want) < 1e-4 * std::fabs(want);
        };
        const char* msg = ": Div is only supported as the start of PyTorch's Erf-based GELU";
        if (div.input_size() != 2 || !scalar(div.input(1), std::sqrt(2.0))) throw Error(where + msg);
        const auto* erf = next(index_ + 1);
        if (!erf || erf->op_type() != "Erf" || erf->input(0) != div.output(0)) throw Error(where + msg);
        const auto* add = next(index_ + 1);
        if (!add || add->op_type() != "Add" || add->input(0) != erf->output(0) || !scalar(add->input(1), 1.0)) throw Error(where + msg);
        const auto* mul = next(index_ + 1);
        if (!mul || mul->op_type() != "Mul" ||
            !((mul->input(0) == x && mul->input(1) == add->output(0)) || (mul->input(1) == x && mul->input(0) == add->output(0))))
            throw Error(where + msg);
        const auto* half = next(index_ + 1);
        if (!half || half->op_type() != "Mul" || half->input(0) != mul->output(0) || !scalar(half->input(1), 0.5)) throw Error(where + msg);
        if (uses_[x] != 2) throw Error(where + ": the GELU input '" + x + "' is also used elsewhere (a branch)");
        for (const auto* n : {&div, erf, add, mul})
            if (uses_[n->output(0)] != 1) throw Error(where + ": a GELU intermediate value is used elsewhere (a branch)");
        m.layers.emplace_back(ActivationLayer{Activation::Gelu});
        cur_ = half->output(0);
    }

    std::string path_;
    const onnx::GraphProto& g_;
    std::map<std::string, Const> consts_;
    std::map<std::string, int> uses_;
    std::set<std::string> names_;
    std::string cur_;
    ActivationShape shape_;        // the chain value's per-sample shape
    std::vector<Branch> branches_; // residual branches open at cur_
    std::set<int> skip_;           // shortcut nodes already taken into a branch
    int width_ = 0;
    int index_ = 0;
    int linear_count_ = 0;
    bool pending_bias_ = false;
};

} // namespace

InputSpec default_onnx_input() {
    InputSpec s;
    s.scale = 1.0 / 255.0;
    s.mean = 0.0;
    s.std = 1.0;
    return s;
}

Model import_onnx(const std::string& path, const InputSpec& input) {
    require_regular_file(path);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path + ": cannot open");
    onnx::ModelProto proto;
    if (!proto.ParseFromIstream(&in)) throw Error(path + ": not a valid ONNX model (protobuf parse failed)");
    if (!proto.has_graph()) throw Error(path + ": ONNX model has no graph");
    Model m = Importer(path, proto.graph()).run(input);
    m.source.bytes = std::filesystem::file_size(path);
    m.sha256_pending = hash_files_async({path});
    for (const auto& p : proto.metadata_props()) m.source.metadata.emplace_back(p.key(), p.value());
    m.source.metadata.emplace_back("onnx.producer", proto.producer_name() + " " + proto.producer_version());
    return m;
}

} // namespace ss
