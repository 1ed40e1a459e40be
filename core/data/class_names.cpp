// class_names.cpp - classes.txt and the datasets recognised by content (class_names.h).
#include "data/class_names.h"

#include "data/dataset.h"
#include "error.h"
#include "formats/file_io.h"

#include <filesystem>

namespace ss {

namespace {
// Fashion-MNIST (Xiao, Rasul, Vollgraf 2017), the README's label table, as the .gz files of
// Debian's dataset-fashion-mnist hash (Dataset::sha256: images then labels file).
constexpr const char* kFashionMnist[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                         "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
constexpr const char* kFashionMnistHashes[] = {
    "2745d3e0a451fa5316dcdbabb5ffe689a6aa831f9f3922f9c2b96a38d353b07b", // t10k
    "8a7d774f94e35a4b1b24d354583140d3cad10f742fae0e0465e4e7f3b13c09be", // train
};
constexpr size_t kMaxFileBytes = size_t(4) << 20;
constexpr size_t kMaxNames = 100000, kMaxNameBytes = 256;
} // namespace

ClassNames read_class_names_file(const std::string& path, int num_classes) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) throw Error(path + ": cannot read the class names: " + ec.message());
    if (size > kMaxFileBytes) throw Error(path + ": " + std::to_string(size) + " bytes; a class names file is at most 4 MB (one name per line)");
    const std::vector<uint8_t> bytes = read_file_bytes(path);
    ClassNames out;
    out.source = path;
    size_t start = 0;
    int line = 0;
    while (start < bytes.size()) {
        ++line;
        size_t end = start;
        while (end < bytes.size() && bytes[end] != '\n') ++end;
        std::string name(bytes.begin() + long(start), bytes.begin() + long(end));
        if (!name.empty() && name.back() == '\r') name.pop_back();
        for (unsigned char c : name)
            if (c < 0x20 || c == 0x7f)
                throw Error(path + ": line " + std::to_string(line) + ": a control character (byte " + std::to_string(int(c)) +
                            ") in a class name; one name per line, plain text");
        if (name.size() > kMaxNameBytes)
            throw Error(path + ": line " + std::to_string(line) + ": a class name of " + std::to_string(name.size()) + " bytes; at most 256");
        out.names.push_back(std::move(name));
        if (out.names.size() > kMaxNames) throw Error(path + ": more than 100,000 lines; line N names class N - 1");
        start = end + 1;
    }
    while (!out.names.empty() && out.names.back().empty()) out.names.pop_back(); // trailing blank lines
    for (size_t i = 0; i < out.names.size(); ++i)
        if (out.names[i].empty()) throw Error(path + ": line " + std::to_string(i + 1) + " is empty; line N names class N - 1, every class has a name");
    if (int(out.names.size()) < num_classes)
        throw Error(path + ": names " + std::to_string(out.names.size()) + " classes, but the labels go up to " + std::to_string(num_classes - 1) +
                    " (line N names class N - 1)");
    return out;
}

ClassNames find_class_names(const Dataset& d, const std::string& explicit_path) {
    if (!explicit_path.empty()) return read_class_names_file(explicit_path, d.num_classes);
    if (!d.files.empty()) {
        const std::string beside = (std::filesystem::path(d.files.front()).parent_path() / kClassNamesFile).string();
        if (file_exists(beside) && !is_directory(beside)) return read_class_names_file(beside, d.num_classes);
    }
    for (const char* h : kFashionMnistHashes)
        if (d.sha256 == h && d.num_classes <= 10) return {std::vector<std::string>(std::begin(kFashionMnist), std::end(kFashionMnist)), "Fashion-MNIST, recognised by its SHA-256"};
    return {};
}

std::vector<std::string> class_labels(const std::vector<std::string>& model_labels, const std::vector<std::string>& dataset_names) {
    bool numbers = true;
    for (size_t i = 0; i < model_labels.size() && numbers; ++i) numbers = model_labels[i] == std::to_string(i);
    if (!numbers || dataset_names.size() < model_labels.size()) return model_labels;
    return std::vector<std::string>(dataset_names.begin(), dataset_names.begin() + long(model_labels.size()));
}

} // namespace ss
