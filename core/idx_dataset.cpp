// idx_dataset.cpp
#include "idx_dataset.h"

#include "error.h"
#include "file_io.h"

#include <filesystem>

namespace ss {

namespace {

struct IdxHeader {
    int dtype = 0;
    std::vector<uint32_t> dims;
    size_t data_offset = 0;
};

IdxHeader parse_idx_header(const std::vector<uint8_t>& b, const std::string& path, int want_ndims) {
    if (b.size() < 4) throw Error(path + ": IDX file is " + std::to_string(b.size()) + " bytes, too short for the 4-byte magic");
    if (b[0] != 0 || b[1] != 0) throw Error(path + ": IDX magic must start with two zero bytes (not an IDX file?)");
    IdxHeader h;
    h.dtype = b[2];
    const int ndims = b[3];
    if (h.dtype != 0x08) throw Error(path + ": IDX dtype 0x" + std::to_string(h.dtype) + " unsupported; expected 0x08 (unsigned byte)");
    if (ndims != want_ndims)
        throw Error(path + ": IDX has " + std::to_string(ndims) + " dimensions, expected " + std::to_string(want_ndims));
    if (b.size() < 4 + 4 * size_t(ndims)) throw Error(path + ": IDX header truncated");
    uint64_t total = 1;
    for (int i = 0; i < ndims; ++i) {
        const uint8_t* p = &b[4 + 4 * size_t(i)];
        const uint32_t d = uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
        h.dims.push_back(d);
        total *= d;
        if (total > (uint64_t(1) << 36)) throw Error(path + ": IDX dimensions are implausibly large");
    }
    h.data_offset = 4 + 4 * size_t(ndims);
    if (b.size() - h.data_offset != total)
        throw Error(path + ": IDX header promises " + std::to_string(total) + " values but the file holds " +
                    std::to_string(b.size() - h.data_offset) + " (truncated or wrong file)");
    return h;
}

std::string find_split_file(const std::string& dir, const std::string& stem) {
    for (const char* ext : {".gz", ""}) {
        const std::string p = (std::filesystem::path(dir) / (stem + ext)).string();
        if (file_exists(p)) return p;
    }
    return {};
}

} // namespace

Dataset load_idx_pair(const std::string& images_path, const std::string& labels_path) {
    const auto img = read_file_maybe_gzip(images_path);
    const IdxHeader ih = parse_idx_header(img, images_path, 3);
    const auto lab = read_file_maybe_gzip(labels_path);
    const IdxHeader lh = parse_idx_header(lab, labels_path, 1);
    if (ih.dims[0] != lh.dims[0])
        throw Error(labels_path + ": holds " + std::to_string(lh.dims[0]) + " labels but " + images_path + " holds " +
                    std::to_string(ih.dims[0]) + " images");
    if (ih.dims[0] == 0) throw Error(images_path + ": holds no samples");

    Dataset d;
    d.source_path = images_path;
    d.count = int(ih.dims[0]);
    d.features = int(ih.dims[1] * ih.dims[2]);
    d.raw.resize(size_t(d.count) * d.features);
    for (size_t i = 0; i < d.raw.size(); ++i) d.raw[i] = float(img[ih.data_offset + i]);
    d.labels.resize(size_t(d.count));
    int max_label = 0;
    for (int i = 0; i < d.count; ++i) {
        d.labels[size_t(i)] = lab[lh.data_offset + size_t(i)];
        max_label = std::max(max_label, d.labels[size_t(i)]);
    }
    d.num_classes = max_label + 1;
    return d;
}

Dataset load_idx_dir(const std::string& dir, const std::string& split) {
    const std::string images = find_split_file(dir, split + "-images-idx3-ubyte");
    const std::string labels = find_split_file(dir, split + "-labels-idx1-ubyte");
    if (images.empty() || labels.empty())
        throw Error(dir + ": no " + split + "-images-idx3-ubyte[.gz] / " + split + "-labels-idx1-ubyte[.gz] pair found");
    Dataset d = load_idx_pair(images, labels);
    d.source_path = dir + " (" + split + ")";
    return d;
}

} // namespace ss
