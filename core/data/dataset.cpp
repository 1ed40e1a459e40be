// dataset.cpp - dispatch on what PATH is, and what every loader shares.
#include "data/dataset.h"
#include "data/class_names.h"

#include "formats/byte_source.h"
#include "data/csv_dataset.h"
#include "error.h"
#include "formats/file_io.h"
#include "data/idx_dataset.h"
#include "data/npy_dataset.h"
#include "formats/sha256.h"

#include <algorithm>
#include <filesystem>

namespace ss {

namespace {
namespace fs = std::filesystem;

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
} // namespace

std::vector<int> Dataset::class_counts() const {
    std::vector<int> c(size_t(std::max(num_classes, 0)), 0);
    for (int l : labels) ++c[size_t(l)];
    return c;
}

void finish_dataset(Dataset& d) {
    int max_label = -1;
    for (int l : d.labels) max_label = std::max(max_label, l);
    d.num_classes = max_label + 1;
    Sha256 h;
    for (const auto& f : d.files) {
        const auto bytes = map_file(f);
        h.update(bytes->data(), bytes->size());
    }
    d.sha256 = h.finish_hex();
}

namespace {
Dataset load_dataset_files(const std::string& path, const DatasetOptions& options) {
    if (!file_exists(path)) throw Error(path + ": no such file or directory");
    std::string lower = path;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    if (is_directory(path)) {
        const fs::path x = fs::path(path) / "X.npy", y = fs::path(path) / "y.npy";
        if (file_exists(x.string())) return load_npy_pair(x.string(), options.labels_path.empty() ? y.string() : options.labels_path, options.limit);
        // The test split when the directory has one, else its train split (the dataset's name
        // says which). A test split that does not read is an error, never replaced by train.
        return load_idx_dir(path, idx_dir_has_split(path, "t10k") ? "t10k" : "train", options.limit);
    }
    if (ends_with(lower, ".csv")) return load_csv_dataset(path, options.label_column, options.limit);
    if (ends_with(lower, ".npy")) {
        std::string labels = options.labels_path;
        if (labels.empty()) {
            const fs::path p(path);
            const std::string name = p.filename().string();
            if (name == "X.npy") labels = (p.parent_path() / "y.npy").string();
            else if (name.size() > 6 && ends_with(name, "_X.npy")) labels = (p.parent_path() / (name.substr(0, name.size() - 6) + "_y.npy")).string();
            else throw Error(path + ": NPY features need labels: name them X.npy + y.npy, or give the labels file");
        }
        return load_npy_pair(path, labels, options.limit);
    }
    if (fs::path(path).filename().string().find("images-idx") != std::string::npos)
        return load_idx_pair(path, options.labels_path.empty() ? idx_labels_path_for(path) : options.labels_path, options.limit);
    throw Error(path + ": unrecognized dataset; give an IDX directory or images file, a .csv file, or X.npy (+ y.npy)");
}
} // namespace

Dataset load_dataset(const std::string& path, const DatasetOptions& options) {
    Dataset d = load_dataset_files(path, options);
    ClassNames names = find_class_names(d, options.classes_path);
    d.class_names = std::move(names.names);
    d.class_names_source = std::move(names.source);
    return d;
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
