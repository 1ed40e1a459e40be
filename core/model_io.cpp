// model_io.cpp
#include "model_io.h"

#include "error.h"
#include "file_io.h"
#include "model_config.h"
#include "safetensors.h"
#include "tensor_names.h"

#include <filesystem>
#include <set>

namespace ss {

namespace {

void load_linear(const SafetensorsFile& st, LinearWeights& l, std::set<std::string>& used) {
    auto take = [&](const std::string& name, std::vector<int64_t> shape, std::vector<float>& dst) {
        const SafetensorsEntry* e = st.find(name);
        if (!e) throw Error(st.path() + ": tensor '" + name + "' is missing (required by layer '" + l.name + "')");
        if (e->shape != shape) {
            auto fmt = [](const std::vector<int64_t>& s) {
                std::string r = "[";
                for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
                return r + "]";
            };
            throw Error(st.path() + ": tensor '" + name + "' has shape " + fmt(e->shape) + ", config expects " + fmt(shape));
        }
        dst = st.to_f32(*e);
        used.insert(name);
    };
    take(tensor_names::weight(l.name), {l.out, l.in}, l.weight);
    if (l.has_bias) take(tensor_names::bias(l.name), {l.out}, l.bias);
}

void add_linear(std::vector<SafetensorsTensorF32>& out, const LinearWeights& l) {
    out.push_back({tensor_names::weight(l.name), {l.out, l.in}, l.weight.data()});
    if (l.has_bias) out.push_back({tensor_names::bias(l.name), {l.out}, l.bias.data()});
}

} // namespace

Model load_model(const std::string& path) {
    namespace fs = std::filesystem;
    if (!file_exists(path)) throw Error(path + ": no such file or directory");
    std::string weights_path, config_text, config_where;
    SafetensorsFile st;
    if (is_directory(path)) {
        const std::string cfg = (fs::path(path) / "config.json").string();
        weights_path = (fs::path(path) / "model.safetensors").string();
        if (!file_exists(cfg)) throw Error(cfg + ": missing (a model directory holds config.json + model.safetensors)");
        const auto bytes = read_file_bytes(cfg);
        config_text.assign(bytes.begin(), bytes.end());
        config_where = cfg;
        st = SafetensorsFile::read(weights_path);
    } else {
        weights_path = path;
        st = SafetensorsFile::read(weights_path);
        auto it = st.metadata().find("config");
        if (it == st.metadata().end())
            throw Error(path + ": __metadata__ has no 'config' key (a single-file model carries its classifier-v1 config there)");
        config_text = it->second;
        config_where = path + ": __metadata__.config";
    }

    Model m = parse_model_config(config_text, config_where);
    m.source_path = path;
    std::set<std::string> used;
    for (auto& layer : m.layers) {
        if (auto* lin = std::get_if<LinearWeights>(&layer)) {
            load_linear(st, *lin, used);
        } else if (auto* moe = std::get_if<MoeLayer>(&layer)) {
            load_linear(st, moe->gate, used);
            for (auto& e : moe->experts) {
                load_linear(st, e.fc1, used);
                load_linear(st, e.fc2, used);
            }
        }
    }
    for (const auto& e : st.entries())
        if (!used.count(e.name))
            throw Error(weights_path + ": tensor '" + e.name + "' is not used by any layer of the config (extra tensor)");
    return m;
}

void save_model_dir(const Model& model, const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw Error(dir + ": cannot create directory: " + ec.message());
    std::vector<SafetensorsTensorF32> tensors;
    for (const auto& layer : model.layers) {
        if (auto* lin = std::get_if<LinearWeights>(&layer)) {
            add_linear(tensors, *lin);
        } else if (auto* moe = std::get_if<MoeLayer>(&layer)) {
            add_linear(tensors, moe->gate);
            for (const auto& e : moe->experts) {
                add_linear(tensors, e.fc1);
                add_linear(tensors, e.fc2);
            }
        }
    }
    const std::string cfg = model_config_json(model);
    write_safetensors_f32((std::filesystem::path(dir) / "model.safetensors").string(), tensors,
                          {{"config", cfg}, {"format", "pt"}});
    write_file_bytes((std::filesystem::path(dir) / "config.json").string(), std::vector<uint8_t>(cfg.begin(), cfg.end()));
}

} // namespace ss
