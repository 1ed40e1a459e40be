// tensor_set.h - every tensor of a model across one safetensors file or the shards of an index,
// each taken once by the loader with its expected shape; what is left over is an error.
#pragma once

#include "formats/safetensors.h"
#include "model/model.h"

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace ss {

std::string shape_text(const std::vector<int64_t>& s); // "[4, 784]"

class TensorSet {
public:
    void add(SafetensorsFile f) { files_.push_back(std::move(f)); }

    // Resolves the owner of every tensor; with an index, checks it against the shards' contents.
    void build(const std::map<std::string, std::string>* weight_map, const std::string& index_path);

    // The entry for `name` with the expected shape and a floating dtype (integer dtypes too when
    // integer_ok); marks it used. `layer` names what needs it, for the message when it is missing.
    std::pair<const SafetensorsFile*, const SafetensorsEntry*> take(const std::string& name, const std::vector<int64_t>& shape,
                                                                    const std::string& layer, bool integer_ok);
    // The entry for `name`, or null; does not mark it used.
    const SafetensorsEntry* find(const std::string& name) const;
    // Marks a tensor used without reading it (buffers a checkpoint may carry, e.g. rotary inv_freq).
    void ignore(const std::string& name) { used_.insert(name); }
    // Names of all tensors, sorted.
    std::vector<std::string> names() const;

    void check_all_used() const;
    ModelSourceInfo info() const;
    std::string first_path() const { return files_.empty() ? std::string("model") : files_.front().path(); }

private:
    std::vector<SafetensorsFile> files_;
    std::map<std::string, std::pair<size_t, const SafetensorsEntry*>> where_;
    std::set<std::string> used_;
};

// A model directory: its config.json and its weights, one model.safetensors or the shards named by
// model.safetensors.index.json (checked against each other), with the files read in order (config
// first) for the model's fingerprint.
struct ModelDirectory {
    std::string config_path;
    std::string config_text;
    TensorSet tensors;
    std::vector<std::string> files;
};
ModelDirectory open_model_directory(const std::string& dir);

// model.safetensors.index.json's weight_map: tensor name -> shard file name (checked: plain names).
std::map<std::string, std::string> read_weight_map(const std::string& index_path);

} // namespace ss
