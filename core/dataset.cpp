// dataset.cpp - dispatch on what PATH is.
#include "dataset.h"

#include "error.h"
#include "file_io.h"
#include "idx_dataset.h"

#include <filesystem>

namespace ss {

Dataset load_dataset(const std::string& path) {
    if (!file_exists(path)) throw Error(path + ": no such file or directory");
    if (is_directory(path)) {
        try {
            return load_idx_dir(path, "t10k");
        } catch (const Error&) {
            return load_idx_dir(path, "train");
        }
    }
    const std::string name = std::filesystem::path(path).filename().string();
    const auto pos = name.find("images-idx3");
    if (pos == std::string::npos)
        throw Error(path + ": unrecognized dataset; give an IDX directory or an *images-idx3* file");
    std::string labels_name = name;
    labels_name.replace(pos, 11, "labels-idx1");
    const std::string labels = (std::filesystem::path(path).parent_path() / labels_name).string();
    return load_idx_pair(path, labels);
}

void check_dataset_matches(const Dataset& d, int model_features, int model_classes, const std::string& model_name) {
    if (d.features != model_features)
        throw Error(d.source_path + ": samples have " + std::to_string(d.features) + " features but model '" + model_name +
                    "' expects " + std::to_string(model_features));
    if (d.num_classes > model_classes)
        throw Error(d.source_path + ": labels go up to class " + std::to_string(d.num_classes - 1) + " but model '" +
                    model_name + "' has " + std::to_string(model_classes) + " classes");
}

} // namespace ss
