// model_io.cpp - classifier-v1 directories and single files, sharded weights, int8 storage.
#include "formats/model_io.h"
#include "model/conv_net.h"

#include "model/finite_weights.h"
#include "model/matrices.h"

#include "formats/sha256.h"

#include "error.h"
#include "formats/file_io.h"
#include "kernels/kernel_plan.h"
#include "kernels/prepared_matrix.h"
#include "formats/hf_config.h"
#include "formats/hf_model.h"
#include "formats/model_config.h"
#include "formats/onnx_import.h"
#include "formats/safetensors.h"
#include "formats/tensor_names.h"
#include "formats/tensor_set.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <set>

namespace ss {

namespace {

namespace fs = std::filesystem;

void load_plain(TensorSet& ts, LinearWeights& l) {
    auto [f, e] = ts.take(tensor_names::weight(l.name), l.stored_shape(), l.name, false);
    l.weight = f->to_f32(*e);
    if (l.has_bias) {
        auto [fb, eb] = ts.take(tensor_names::bias(l.name), {l.out}, l.name, false);
        l.bias = fb->to_f32(*eb);
    }
}

// Quantized storage, by the matrix's scheme (docs/model-format.md):
//   int8 per channel, symmetric: NAME.weight I8 (out, in) + NAME.weight_scale F16 (out)
//   other integer schemes: NAME.weight_packed U8 (bytes) + NAME.weight_scale F16 (out, groups)
// (scales written by SparseScope before F16 scales were F32; both load)
//                          [+ NAME.weight_zero U8 (out, groups) when asymmetric]
//   fp16 / bf16: NAME.weight F16 / BF16 (out, in)
bool int8_per_channel(const QuantSpec& s) { return s.scheme == QuantScheme::Int8 && s.group == 0 && !s.asym; }

void load_quantized(TensorSet& ts, LinearWeights& l) {
    auto q = std::make_shared<QuantizedWeights>();
    q->spec = l.quant->spec;
    q->out = l.out;
    q->in = l.in;
    const std::string name = tensor_names::weight(l.name);
    if (q->spec.scheme == QuantScheme::F16 || q->spec.scheme == QuantScheme::BF16) {
        auto [f, e] = ts.take(name, l.stored_shape(), l.name, false);
        const DType want = q->spec.scheme == QuantScheme::F16 ? DType::F16 : DType::BF16;
        if (e->dtype != want)
            throw Error(f->path() + ": tensor '" + name + "' has dtype " + dtype_name(e->dtype) + "; the config stores it as " + dtype_name(want));
        q->half.resize(size_t(l.out) * l.in);
        std::memcpy(q->half.data(), f->raw(*e), q->half.size() * 2);
    } else if (int8_per_channel(q->spec)) {
        auto [f, e] = ts.take(name, l.stored_shape(), l.name, true);
        if (e->dtype != DType::I8)
            throw Error(f->path() + ": tensor '" + name + "' has dtype " + dtype_name(e->dtype) + "; the config stores it as I8 (int8)");
        q->group = l.in;
        const int8_t* v = reinterpret_cast<const int8_t*>(f->raw(*e));
        std::vector<uint32_t> codes(size_t(l.out) * l.in);
        for (size_t k = 0; k < codes.size(); ++k) codes[k] = uint32_t(int(v[k]) + 128);
        pack_codes(codes, 8, q->packed);
        auto [fs, es] = ts.take(tensor_names::weight_scale(l.name), {l.out}, l.name, false);
        q->scale = fs->to_f32(*es).to_vector();
    } else {
        q->group = q->spec.group ? q->spec.group : l.in;
        const int groups = q->groups_per_row();
        const int64_t bytes = (int64_t(l.out) * l.in * q->spec.bits() + 7) / 8;
        auto [f, e] = ts.take(tensor_names::weight_packed(l.name), {bytes}, l.name, true);
        if (e->dtype != DType::U8) throw Error(f->path() + ": tensor '" + e->name + "' must be U8 (packed codes)");
        q->packed.assign(f->raw(*e), f->raw(*e) + bytes);
        auto [fs, es] = ts.take(tensor_names::weight_scale(l.name), {l.out, groups}, l.name, false);
        q->scale = fs->to_f32(*es).to_vector();
        if (q->spec.asym) {
            auto [fz, ez] = ts.take(tensor_names::weight_zero(l.name), {l.out, groups}, l.name, true);
            if (ez->dtype != DType::U8) throw Error(fz->path() + ": tensor '" + ez->name + "' must be U8 (zero points)");
            q->zero.assign(fz->raw(*ez), fz->raw(*ez) + size_t(l.out) * groups);
            for (uint8_t z : q->zero)
                if (z >= (1u << q->spec.bits())) throw Error(fz->path() + ": tensor '" + ez->name + "' holds a zero point outside the code range");
        }
    }
    l.weight = WeightData(dequantize_weights(*q));
    l.quant = std::move(q);
    if (l.has_bias) {
        auto [fb, eb] = ts.take(tensor_names::bias(l.name), {l.out}, l.name, false);
        l.bias = fb->to_f32(*eb);
    }
}

void load_matrix(TensorSet& ts, LinearWeights& l) { l.quant ? load_quantized(ts, l) : load_plain(ts, l); }

// What the tensors to write point into, kept until they are written: buffers made just for
// writing (deques: earlier elements never move), and codes rebuilt from integer kernels.
struct WriteScratch {
    std::deque<std::vector<int8_t>> buffers;
    std::deque<std::shared_ptr<const QuantizedWeights>> codes;
};

// Scales go out as F16 when each is an f16 value (everything quantize_weights makes), else as
// F32 (a model loaded from an older file), so a round trip never changes a weight.
bool scales_are_f16(const QuantizedWeights& q) {
    for (float s : q.scale)
        if (f16_to_f32(f32_to_f16(s)) != s) return false;
    return true;
}
DType scale_dtype(const QuantizedWeights& q) { return scales_are_f16(q) ? DType::F16 : DType::F32; }
const void* scales(WriteScratch& keep, const QuantizedWeights& q) {
    if (!scales_are_f16(q)) return q.scale.data();
    std::vector<int8_t>& half = keep.buffers.emplace_back(q.scale.size() * 2);
    for (size_t k = 0; k < q.scale.size(); ++k) {
        const uint16_t h = f32_to_f16(q.scale[k]);
        std::memcpy(half.data() + 2 * k, &h, 2);
    }
    return half.data();
}

void add_linear(std::vector<SafetensorsTensorOut>& out, WriteScratch& keep, const LinearWeights& l, const std::string& name) {
    auto& scratch = keep.buffers;
    const QuantizedWeights* q = l.quant ? keep.codes.emplace_back(quantized_weights_of(l)).get() : nullptr;
    if (!q && l.weight.empty() && l.kernels) {
        // The kernel plan kept only a sparse copy: write it out dense again.
        std::vector<int8_t>& dense = scratch.emplace_back(size_t(l.weight_count()) * sizeof(float));
        const std::vector<float> w = dense_weights(l);
        std::memcpy(dense.data(), w.data(), dense.size());
        out.push_back({tensor_names::weight(name), DType::F32, l.stored_shape(), dense.data()});
    } else if (!q) {
        if (int64_t(l.weight.size()) != l.weight_count()) throw Error("save: '" + name + "' has no weights to write");
        out.push_back({tensor_names::weight(name), DType::F32, l.stored_shape(), l.weight.data()});
    } else if (!q->half.empty()) {
        out.push_back({tensor_names::weight(name), q->spec.scheme == QuantScheme::F16 ? DType::F16 : DType::BF16, l.stored_shape(), q->half.data()});
    } else if (int8_per_channel(q->spec)) {
        // Codes are offset by 128; I8 holds the signed values. The buffer lives in `keep`.
        std::vector<int8_t>& signed_q = scratch.emplace_back(q->packed.size());
        for (size_t k = 0; k < q->packed.size(); ++k) signed_q[k] = int8_t(int(q->packed[k]) - 128);
        out.push_back({tensor_names::weight(name), DType::I8, l.stored_shape(), signed_q.data()});
        out.push_back({tensor_names::weight_scale(name), scale_dtype(*q), {l.out}, scales(keep, *q)});
    } else {
        out.push_back({tensor_names::weight_packed(name), DType::U8, {int64_t(q->packed.size())}, q->packed.data()});
        out.push_back({tensor_names::weight_scale(name), scale_dtype(*q), {l.out, q->groups_per_row()}, scales(keep, *q)});
        if (q->spec.asym) out.push_back({tensor_names::weight_zero(name), DType::U8, {l.out, q->groups_per_row()}, q->zero.data()});
    }
    if (l.has_bias) out.push_back({tensor_names::bias(name), DType::F32, {l.out}, l.bias.data()});
}

} // namespace

namespace {
Model load_any(const std::string& path, bool defer_16bit);
} // namespace

Model load_model(const std::string& path, const LoadOptions& options) {
    Model m = load_any(path, options.defer_16bit);
    m.nonfinite = first_nonfinite_weight(m);
    if (!m.nonfinite.empty() && !options.allow_nonfinite)
        throw Error(path + ": " + m.nonfinite + "; a model with NaN or infinite weights is refused (--allow-nonfinite loads it anyway)");
    return m;
}

void materialize_deferred(Model& model) {
    bool any = false;
    for_each_matrix(model, [&](LinearWeights& l) {
        if (!l.weight.is_deferred()) return;
        const WeightData deferred = l.weight;
        l.weight.data();               // copy-on-write: fp32 values of its own
        deferred.release_file_pages(); // as a plain load does after converting: the 16-bit pages go
        any = true;
    }, MatrixScope::All);
    if (any) plan_kernels(model);
}

namespace {
Model load_any(const std::string& path, bool defer_16bit) {
    if (!file_exists(path)) throw Error(path + ": no such file or directory");
    if (!is_directory(path) && fs::path(path).extension() == ".onnx") return import_onnx(path, default_onnx_input());
    if (is_directory(path) && file_exists((fs::path(path) / "config.json").string())) {
        const auto cfg = read_file_bytes((fs::path(path) / "config.json").string());
        if (is_hf_config(std::string(cfg.begin(), cfg.end()))) return load_hf_model(path, defer_16bit); // a Hugging Face decoder
    }
    TensorSet ts;
    std::string config_text, config_where;
    std::vector<std::string> files; // what the model was read from, for its fingerprint
    if (is_directory(path)) {
        ModelDirectory dir = open_model_directory(path);
        config_text = std::move(dir.config_text);
        config_where = dir.config_path;
        files = std::move(dir.files);
        ts = std::move(dir.tensors);
    } else {
        SafetensorsFile st = SafetensorsFile::read(path);
        auto it = st.metadata().find("config");
        if (it == st.metadata().end())
            throw Error(path + ": __metadata__ has no 'config' key (a single-file model carries its classifier-v1 config there)");
        config_text = it->second;
        config_where = path + ": __metadata__.config";
        ts.add(std::move(st));
        files.push_back(path);
        ts.build(nullptr, "");
    }

    Model m = parse_model_config(config_text, config_where);
    m.source_path = path;
    m.sha256_pending = hash_files_async(files);
    for (int li = 0; li < int(m.layers.size()); ++li) {
        for_each_layer_matrix(m, li, MatrixScope::All, [&](LinearWeights& l, const MatrixInfo& info) {
            if (info.role == MatrixRole::Router) load_plain(ts, l); // routers are stored fp32
            else load_matrix(ts, l);
        });
        for_each_layer_vector(m, li, [&](WeightData& v, const VectorInfo& info) {
            auto [f, e] = ts.take(info.tensor, {info.size}, info.owner, false);
            v = f->to_f32(*e);
        });
    }
    ts.check_all_used();
    m.source = ts.info();
    fold_batchnorm_layers(m); // BatchNorm after a convolution becomes part of it (conv_net.h)
    plan_kernels(m);
    return m;
}
} // namespace

void save_model(const Model& model, const std::string& out, const std::map<std::string, std::string>& extra_metadata) {
    std::vector<SafetensorsTensorOut> tensors;
    WriteScratch scratch;
    for (int li = 0; li < int(model.layers.size()); ++li) {
        for_each_layer_matrix(const_cast<Model&>(model), li, MatrixScope::All,
                              [&](const LinearWeights& l, const MatrixInfo& info) { add_linear(tensors, scratch, l, info.stored_name); });
        for_each_layer_vector(const_cast<Model&>(model), li, [&](WeightData& v, const VectorInfo& info) {
            tensors.push_back({info.tensor, DType::F32, {info.size}, std::as_const(v).data()});
        });
    }
    const std::string cfg = model_config_json(model);
    std::map<std::string, std::string> metadata = extra_metadata;
    metadata["config"] = cfg;
    metadata["format"] = "pt";
    const bool single_file = fs::path(out).extension() == ".safetensors";
    if (single_file) {
        write_safetensors(out, tensors, metadata);
        return;
    }
    std::error_code ec;
    fs::create_directories(out, ec);
    if (ec) throw Error(out + ": cannot create directory: " + ec.message());
    write_safetensors((fs::path(out) / "model.safetensors").string(), tensors, metadata);
    write_file_bytes((fs::path(out) / "config.json").string(), std::vector<uint8_t>(cfg.begin(), cfg.end()));
}

void save_model_dir(const Model& model, const std::string& dir) { save_model(model, dir, {}); }

} // namespace ss
