// dataset.h - a labelled dataset held in memory as the values stored in the file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ss {

struct Dataset {
    std::string source_path;
    int count = 0;          // samples
    int features = 0;       // values per sample
    std::vector<float> raw; // (count, features) values as stored (e.g. 0..255 pixels)
    std::vector<int> labels; // (count) class indices 0..num_classes-1
    int num_classes = 0;     // 1 + largest label

    const float* sample(int i) const { return raw.data() + size_t(i) * features; }
};

// Where the built-in default lives (Debian's dataset-fashion-mnist package).
inline constexpr const char* kDefaultDatasetDir = "/usr/share/datasets/fashion-mnist";

// Loads PATH: an IDX directory (test split "t10k-*" preferred) or an images IDX file whose labels
// file is found by replacing "images-idx3" with "labels-idx1". Throws ss::Error naming the file.
Dataset load_dataset(const std::string& path);

// Refuses a dataset whose feature count does not match the model's input, naming both numbers.
void check_dataset_matches(const Dataset& d, int model_features, int model_classes, const std::string& model_name);

} // namespace ss
