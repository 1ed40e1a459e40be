// tensor_set.cpp
#include "formats/tensor_set.h"

#include "error.h"
#include "formats/file_io.h"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace ss {

namespace fs = std::filesystem;

std::string shape_text(const std::vector<int64_t>& s) {
    std::string r = "[";
    for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
    return r + "]";
}

void TensorSet::build(const std::map<std::string, std::string>* weight_map, const std::string& index_path) {
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

std::pair<const SafetensorsFile*, const SafetensorsEntry*> TensorSet::take(const std::string& name, const std::vector<int64_t>& shape,
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

void TensorSet::check_all_used() const {
    for (const auto& [name, loc] : where_)
        if (!used_.count(name))
            throw Error(files_[loc.first].path() + ": tensor '" + name + "' is not used by any layer of the config (extra tensor)");
}

ModelSourceInfo TensorSet::info() const {
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


const SafetensorsEntry* TensorSet::find(const std::string& name) const {
    auto it = where_.find(name);
    return it == where_.end() ? nullptr : it->second.second;
}

std::vector<std::string> TensorSet::names() const {
    std::vector<std::string> out;
    for (const auto& [name, loc] : where_) out.push_back(name);
    return out;
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


ModelDirectory open_model_directory(const std::string& path) {
    ModelDirectory d;
    d.config_path = (fs::path(path) / "config.json").string();
    if (!file_exists(d.config_path)) throw Error(d.config_path + ": missing (a model directory holds config.json + model.safetensors)");
    const auto bytes = read_file_bytes(d.config_path);
    d.config_text.assign(bytes.begin(), bytes.end());
    d.files.push_back(d.config_path);
    const std::string single = (fs::path(path) / "model.safetensors").string();
    const std::string index_path = (fs::path(path) / "model.safetensors.index.json").string();
    if (file_exists(single)) {
        d.tensors.add(SafetensorsFile::read(single));
        d.files.push_back(single);
        d.tensors.build(nullptr, "");
    } else if (file_exists(index_path)) {
        const std::map<std::string, std::string> weight_map = read_weight_map(index_path);
        std::set<std::string> shards;
        for (const auto& [name, file] : weight_map) shards.insert(file);
        d.files.push_back(index_path);
        for (const auto& file : shards) {
            d.tensors.add(SafetensorsFile::read((fs::path(path) / file).string()));
            d.files.push_back((fs::path(path) / file).string());
        }
        d.tensors.build(&weight_map, index_path);
    } else {
        throw Error(path + ": holds neither model.safetensors nor model.safetensors.index.json");
    }
    return d;
}

} // namespace ss
