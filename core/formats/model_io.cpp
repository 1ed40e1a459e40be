// model_io.cpp - classifier-v1 directories and single files, sharded weights, int8 storage.
#include "formats/model_io.h"

#include "model/matrices.h"

#include "formats/sha256.h"

#include "error.h"
#include "formats/file_io.h"
#include "kernels/kernel_plan.h"
#include "kernels/prepared_matrix.h"
#include "formats/model_config.h"
#include "formats/onnx_import.h"
#include "formats/safetensors.h"
#include "formats/tensor_names.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <set>

namespace ss {

namespace {

namespace fs = std::filesystem;

std::string shape_text(const std::vector<int64_t>& s) {
    std::string r = "[";
    for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
    return r + "]";
}

// All tensors of a model, across one file or the shards of an index.
class TensorSet {
public:
    void add(SafetensorsFile f) { files_.push_back(std::move(f)); }

    // Resolves the owner of every tensor; with an index, checks it against the shards' contents.
    void build(const std::map<std::string, std::string>* weight_map, const std::string& index_path) {
        for (size_t i = 0; i < files_.size(); ++i)
            for (const auto& e : files_[i].entries()) {
                const std::string file = fs::path(files_[i].path()).filename().string();
                if (weight_map) {
                    auto it = weight_map->find(e.name);
                    if (it == weight_map->end())
                        throw Error(index_path + ": tensor '" + e.name + "' is in " + file + " but not in weight_map");
                    if (it->second != file)
                        throw Error(index_path + ": weight_map puts tensor '" + e.name + "' in " + it->second + " but it is in " + file);
                }
                if (!where_.emplace(e.name, std::make_pair(i, &e)).second)
                    throw Error(files_[i].path() + ": tensor '" + e.name + "' is also in another shard");
            }
        if (weight_map)
            for (const auto& [name, file] : *weight_map)
                if (!where_.count(name)) throw Error(index_path + ": weight_map lists tensor '" + name + "' but " + file + " does not hold it");
    }

    // The entry for `name` with the expected shape and one of the allowed dtypes.
    std::pair<const SafetensorsFile*, const SafetensorsEntry*> take(const std::string& name, const std::vector<int64_t>& shape,
                                                                    const std::string& layer, bool integer_ok) {
        auto it = where_.find(name);
        if (it == where_.end())
            throw Error(first_path() + ": tensor '" + name + "' is missing (required by layer '" + layer + "')");
        const SafetensorsFile& f = files_[it->second.first];
        const SafetensorsEntry* e = it->second.second;
        if (e->shape != shape)
            throw Error(f.path() + ": tensor '" + name + "' has shape " + shape_text(e->shape) + ", config expects " + shape_text(shape));
        const bool floating = e->dtype == DType::F32 || e->dtype == DType::F16 || e->dtype == DType::BF16 || e->dtype == DType::F64;
        if (!floating && !integer_ok)
            throw Error(f.path() + ": tensor '" + name + "' has dtype " + dtype_name(e->dtype) +
                        "; weights must be F32, F16, BF16 or F64 (I8 only with an int8 quantization config)");
        used_.insert(name);
        return {&f, e};
    }

    void check_all_used() const {
        for (const auto& [name, loc] : where_)
            if (!used_.count(name))
                throw Error(files_[loc.first].path() + ": tensor '" + name + "' is not used by any layer of the config (extra tensor)");
    }

    ModelSourceInfo info() const {
        ModelSourceInfo s;
        for (const auto& f : files_) {
            s.files.push_back(fs::path(f.path()).filename().string());
            s.bytes += f.file_bytes();
        }
        if (!files_.empty())
            for (const auto& [k, v] : files_.front().metadata()) s.metadata.emplace_back(k, v);
        for (const auto& [name, loc] : where_)
            s.tensors.push_back({name, dtype_name(loc.second->dtype), loc.second->shape, s.files[loc.first]});
        return s;
    }

    std::string first_path() const { return files_.empty() ? std::string("model") : files_.front().path(); }

private:
    std::vector<SafetensorsFile> files_;
    std::map<std::string, std::pair<size_t, const SafetensorsEntry*>> where_;
    std::set<std::string> used_;
};

void load_plain(TensorSet& ts, LinearWeights& l) {
    auto [f, e] = ts.take(tensor_names::weight(l.name), {l.out, l.in}, l.name, false);
    l.weight = f->to_f32(*e);
    if (l.has_bias) {
        auto [fb, eb] = ts.take(tensor_names::bias(l.name), {l.out}, l.name, false);
        l.bias = fb->to_f32(*eb);
    }
}

// Quantized storage, by the matrix's scheme (docs/model-format.md):
//   int8 per channel, symmetric: NAME.weight I8 (out, in) + NAME.weight_scale F32 (out)
//   other integer schemes: NAME.weight_packed U8 (bytes) + NAME.weight_scale F32 (out, groups)
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
        auto [f, e] = ts.take(name, {l.out, l.in}, l.name, false);
        const DType want = q->spec.scheme == QuantScheme::F16 ? DType::F16 : DType::BF16;
        if (e->dtype != want)
            throw Error(f->path() + ": tensor '" + name + "' has dtype " + dtype_name(e->dtype) + "; the config stores it as " + dtype_name(want));
        q->half.resize(size_t(l.out) * l.in);
        std::memcpy(q->half.data(), f->raw(*e), q->half.size() * 2);
    } else if (int8_per_channel(q->spec)) {
        auto [f, e] = ts.take(name, {l.out, l.in}, l.name, true);
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

// `scratch` owns buffers made just for writing (it is a deque: earlier buffers never move).
void add_linear(std::vector<SafetensorsTensorOut>& out, std::deque<std::vector<int8_t>>& scratch, const LinearWeights& l,
                const std::string& name) {
    const QuantizedWeights* q = l.quant.get();
    if (!q && l.weight.empty() && l.kernels) {
        // The kernel plan kept only a sparse copy: write it out dense again.
        std::vector<int8_t>& dense = scratch.emplace_back(size_t(l.weight_count()) * sizeof(float));
        const std::vector<float> w = dense_weights(l);
        std::memcpy(dense.data(), w.data(), dense.size());
        out.push_back({tensor_names::weight(name), DType::F32, {l.out, l.in}, dense.data()});
    } else if (!q) {
        if (int64_t(l.weight.size()) != l.weight_count()) throw Error("save: '" + name + "' has no weights to write");
        out.push_back({tensor_names::weight(name), DType::F32, {l.out, l.in}, l.weight.data()});
    } else if (!q->half.empty()) {
        out.push_back({tensor_names::weight(name), q->spec.scheme == QuantScheme::F16 ? DType::F16 : DType::BF16, {l.out, l.in}, q->half.data()});
    } else if (int8_per_channel(q->spec)) {
        // Codes are offset by 128; I8 holds the signed values. The buffer lives in `keep`.
        std::vector<int8_t>& signed_q = scratch.emplace_back(q->packed.size());
        for (size_t k = 0; k < q->packed.size(); ++k) signed_q[k] = int8_t(int(q->packed[k]) - 128);
        out.push_back({tensor_names::weight(name), DType::I8, {l.out, l.in}, signed_q.data()});
        out.push_back({tensor_names::weight_scale(name), DType::F32, {l.out}, q->scale.data()});
    } else {
        out.push_back({tensor_names::weight_packed(name), DType::U8, {int64_t(q->packed.size())}, q->packed.data()});
        out.push_back({tensor_names::weight_scale(name), DType::F32, {l.out, q->groups_per_row()}, q->scale.data()});
        if (q->spec.asym) out.push_back({tensor_names::weight_zero(name), DType::U8, {l.out, q->groups_per_row()}, q->zero.data()});
    }
    if (l.has_bias) out.push_back({tensor_names::bias(name), DType::F32, {l.out}, l.bias.data()});
}

std::map<std::string, std::string> read_weight_map(const std::string& index_path) {
    const auto bytes = read_file_bytes(index_path);
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(bytes.begin(), bytes.end());
    } catch (const std::exception& e) {
        throw Error(index_path + ": not valid JSON: " + e.what());
    }
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
        throw Error(index_path + ": field 'weight_map' missing or not an object");
    std::map<std::string, std::string> map;
    for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
        if (!it.value().is_string()) throw Error(index_path + ": weight_map['" + it.key() + "'] must be a file name string");
        const std::string file = it.value().get<std::string>();
        if (file.empty() || file.find('/') != std::string::npos || file == "." || file == "..")
            throw Error(index_path + ": weight_map['" + it.key() + "'] = '" + file + "' must be a plain file name in the model directory");
        map[it.key()] = file;
    }
    if (map.empty()) throw Error(index_path + ": weight_map is empty");
    return map;
}

} // namespace

Model load_model(const std::string& path) {
    if (!file_exists(path)) throw Error(path + ": no such file or directory");
    if (!is_directory(path) && fs::path(path).extension() == ".onnx") return import_onnx(path, default_onnx_input());
    TensorSet ts;
    std::string config_text, config_where;
    std::map<std::string, std::string> weight_map;
    std::string index_path;
    std::vector<std::string> files; // what the model was read from, for its fingerprint
    if (is_directory(path)) {
        const std::string cfg = (fs::path(path) / "config.json").string();
        if (!file_exists(cfg)) throw Error(cfg + ": missing (a model directory holds config.json + model.safetensors)");
        const auto bytes = read_file_bytes(cfg);
        config_text.assign(bytes.begin(), bytes.end());
        config_where = cfg;
        files.push_back(cfg);
        const std::string single = (fs::path(path) / "model.safetensors").string();
        index_path = (fs::path(path) / "model.safetensors.index.json").string();
        if (file_exists(single)) {
            ts.add(SafetensorsFile::read(single));
            files.push_back(single);
            index_path.clear();
        } else if (file_exists(index_path)) {
            weight_map = read_weight_map(index_path);
            std::set<std::string> shards;
            for (const auto& [name, file] : weight_map) shards.insert(file);
            files.push_back(index_path);
            for (const auto& file : shards) {
                ts.add(SafetensorsFile::read((fs::path(path) / file).string()));
                files.push_back((fs::path(path) / file).string());
            }
        } else {
            throw Error(path + ": holds neither model.safetensors nor model.safetensors.index.json");
        }
    } else {
        SafetensorsFile st = SafetensorsFile::read(path);
        auto it = st.metadata().find("config");
        if (it == st.metadata().end())
            throw Error(path + ": __metadata__ has no 'config' key (a single-file model carries its classifier-v1 config there)");
        config_text = it->second;
        config_where = path + ": __metadata__.config";
        ts.add(std::move(st));
        files.push_back(path);
    }
    ts.build(index_path.empty() ? nullptr : &weight_map, index_path);

    Model m = parse_model_config(config_text, config_where);
    m.source_path = path;
    m.sha256 = sha256_files_hex(files);
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
    plan_kernels(m);
    return m;
}

void save_model(const Model& model, const std::string& out, const std::map<std::string, std::string>& extra_metadata) {
    std::vector<SafetensorsTensorOut> tensors;
    std::deque<std::vector<int8_t>> scratch;
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
