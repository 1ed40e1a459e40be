// class_names.h - what a dataset's classes are called, where that is known. IDX, CSV and NPY files
// hold class numbers only; names come from a classes.txt beside the data (line N names class N,
// as torchvision's and Keras's folders list them) or from a dataset recognised by its SHA-256
// (Fashion-MNIST as Debian ships it, with the names its README gives).
#pragma once

#include <string>
#include <vector>

namespace ss {

struct Dataset;

struct ClassNames {
    std::vector<std::string> names; // (classes) or empty: unknown
    std::string source;             // the file read, or "Fashion-MNIST, recognised by its SHA-256"
};

inline constexpr const char* kClassNamesFile = "classes.txt";

// One name per line (UTF-8; a final newline, \r\n endings and trailing blank lines allowed). At
// least `num_classes` names (labels go up to num_classes - 1), at most 100,000; each 1-256 bytes
// without control characters; the file at most 4 MB. Throws ss::Error naming the file, the line
// and the rule.
ClassNames read_class_names_file(const std::string& path, int num_classes);

// `explicit_path` when given; else classes.txt in the folder of the dataset's first file; else a
// recognised dataset's names; else none.
ClassNames find_class_names(const Dataset& d, const std::string& explicit_path = {});

// The names to show for a model's classes: its own labels, unless they are only their numbers
// ("0", "1", ... as ONNX models get them) and the dataset knows names for as many classes.
std::vector<std::string> class_labels(const std::vector<std::string>& model_labels, const std::vector<std::string>& dataset_names);

} // namespace ss
