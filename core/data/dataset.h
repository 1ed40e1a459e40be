// dataset.h - a labelled dataset held in memory as the values stored in the file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ss {

struct Dataset {
    std::string source_path;        // what the user gave (directory or file)
    std::string format;             // "idx", "csv" or "npy"
    std::vector<std::string> files; // the files read, in hashing order
    std::string sha256;             // SHA-256 over `files`, concatenated in order
    int count = 0;                  // samples
    int features = 0;               // values per sample
    std::vector<float> raw;         // (count, features) values as stored (e.g. 0..255 pixels)
    std::vector<int> labels;        // (count) class indices 0..num_classes-1
    int num_classes = 0;            // 1 + largest label
    std::vector<std::string> class_names; // (>= num_classes) where known (class_names.h); else empty
    std::string class_names_source;       // where they came from

    const float* sample(int i) const { return raw.data() + size_t(i) * features; }
    std::vector<int> class_counts() const; // (num_classes) samples per class
};

// Where the built-in default lives (Debian's dataset-fashion-mnist package).
inline constexpr const char* kDefaultDatasetDir = "/usr/share/datasets/fashion-mnist";

struct DatasetOptions {
    std::string labels_path;  // IDX labels file or y.npy, when not found next to the data
    std::string label_column; // CSV: column name or 0-based index; empty = "label" if present, else 0
    int64_t limit = 0;        // IDX, CSV, NPY: read only the first `limit` samples (0: all), as --limit asks
    std::string classes_path; // class names, one per line; empty: classes.txt beside the data, or none (class_names.h)
};

// Loads PATH by what it is:
//   directory with IDX files -> the test split ("t10k"/"test"), else "train";
//   directory with X.npy + y.npy -> NPY pair;  *images-idx* file -> IDX pair;
//   *.csv -> CSV;  *.npy -> NPY pair (labels: y.npy beside it, or options.labels_path).
// Class names are attached where known (class_names.h). Throws ss::Error naming the file, the
// field and the rule.
Dataset load_dataset(const std::string& path, const DatasetOptions& options = {});

// Sets num_classes and sha256 from labels and files (used by the loaders).
void finish_dataset(Dataset& d);

// Refuses a dataset whose feature count does not match the model's input, naming both numbers.
void check_dataset_matches(const Dataset& d, int model_features, int model_classes, const std::string& model_name);

} // namespace ss
