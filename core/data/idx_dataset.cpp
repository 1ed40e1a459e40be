// idx_dataset.cpp - streaming IDX reader: the header is read and checked before the values are
// allocated, so a corrupt or hostile file (gzip bombs included) cannot make us allocate more than
// its header promises within sane limits.
#include "data/idx_dataset.h"

#include "error.h"
#include "formats/file_io.h"

#include <zlib.h>

#include <algorithm>
#include <limits>
#include <bit>
#include <cstring>
#include <filesystem>
#include <memory>

namespace ss {

namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMaxValues = uint64_t(1) << 32; // 4 Gi values: far beyond any IDX dataset

struct GzCloser {
    void operator()(gzFile_s* f) const { gzclose(f); }
};
using Gz = std::unique_ptr<gzFile_s, GzCloser>;

// gzread reads raw files as they are, so one path serves .gz and plain IDX.
void read_exact(gzFile f, void* dst, size_t n, const std::string& path, const char* what) {
    uint8_t* p = static_cast<uint8_t*>(dst);
    while (n > 0) {
        const unsigned chunk = unsigned(std::min<size_t>(n, 1u << 30));
        const int got = gzread(f, p, chunk);
        if (got < 0) {
            int err = 0;
            const char* msg = gzerror(f, &err);
            throw Error(path + ": corrupt gzip data while reading " + what + " (" + (msg ? msg : "zlib error") + ")");
        }
        if (got == 0) {
            int err = 0;
            gzerror(f, &err);
            throw Error(path + ": " + (err == Z_BUF_ERROR ? "gzip stream" : "file") + " ends early while reading " + what + " (truncated file)");
        }
        p += got;
        n -= size_t(got);
    }
}

struct IdxHeader {
    uint8_t dtype = 0;
    std::vector<uint32_t> dims;
    uint64_t count() const {
        uint64_t n = 1;
        for (uint32_t d : dims) n *= d;
        return n;
    }
};

int idx_type_size(uint8_t t) {
    switch (t) {
    case 0x08: case 0x09: return 1; // u8, i8
    case 0x0B: return 2;            // i16
    case 0x0C: case 0x0D: return 4; // i32, f32
    case 0x0E: return 8;            // f64
    default: return 0;
    }
}

IdxHeader read_header(gzFile f, const std::string& path) {
    uint8_t magic[4];
    read_exact(f, magic, 4, path, "the 4-byte IDX magic");
    if (magic[0] != 0 || magic[1] != 0) throw Error(path + ": IDX magic must start with two zero bytes (not an IDX file?)");
    IdxHeader h;
    h.dtype = magic[2];
    if (!idx_type_size(h.dtype)) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "0x%02X", h.dtype);
        throw Error(path + ": IDX dtype " + buf + " unknown (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64)");
    }
    const int ndims = magic[3];
    if (ndims < 1 || ndims > 8) throw Error(path + ": IDX has " + std::to_string(ndims) + " dimensions (1..8 supported)");
    uint64_t total = 1;
    for (int i = 0; i < ndims; ++i) {
        uint8_t b[4];
        read_exact(f, b, 4, path, "the IDX dimensions");
        const uint32_t d = uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | b[3];
        h.dims.push_back(d);
        total *= d;
        if (total > kMaxValues) throw Error(path + ": IDX dimensions promise more than 2^32 values (corrupt header?)");
    }
    return h;
}

// Reads `n` big-endian values of the header's dtype into floats.
// The first n values; when n is all the header promises, also checks that nothing follows.
std::vector<float> read_values(gzFile f, const IdxHeader& h, uint64_t n, const std::string& path) {
    const int size = idx_type_size(h.dtype);
    // Grown as values arrive, not sized from the header: a gzip header may claim far more than
    // the file holds, and that must fail at "ends early", not allocate what it claims.
    std::vector<float> out;
    out.reserve(size_t(std::min<uint64_t>(n, uint64_t(1) << 16)));
    std::vector<uint8_t> buf(std::min<uint64_t>(n * size, 1 << 16));
    uint64_t done = 0;
    while (done < n) {
        const uint64_t m = std::min<uint64_t>(n - done, buf.size() / size);
        read_exact(f, buf.data(), size_t(m * size), path, "the IDX values");
        for (uint64_t i = 0; i < m; ++i) {
            const uint8_t* p = &buf[i * size];
            float v = 0.0f;
            switch (h.dtype) {
            case 0x08: v = float(p[0]); break;
            case 0x09: v = float(int8_t(p[0])); break;
            case 0x0B: v = float(int16_t(uint16_t(p[0] << 8 | p[1]))); break;
            case 0x0C: v = float(int32_t(uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3])); break;
            case 0x0D: {
                const uint32_t bits = uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
                v = std::bit_cast<float>(bits);
                break;
            }
            case 0x0E: {
                uint64_t bits = 0;
                for (int k = 0; k < 8; ++k) bits = bits << 8 | p[k];
                v = float(std::bit_cast<double>(bits));
                break;
            }
            }
            out.push_back(v);
        }
        done += m;
    }
    uint8_t extra;
    if (n == h.count() && gzread(f, &extra, 1) > 0)
        throw Error(path + ": holds more data than its IDX header promises (" + std::to_string(n) + " values)");
    return out;
}

Gz open_gz(const std::string& path) {
    require_regular_file(path);
    Gz f(gzopen(path.c_str(), "rb"));
    if (!f) throw Error(path + ": cannot open");
    return f;
}

// Candidates for a split in a directory: names containing "images-idx" whose labels file exists.
std::vector<std::pair<std::string, std::string>> idx_pairs_in(const std::string& dir) {
    std::vector<std::pair<std::string, std::string>> pairs;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename().string();
        const auto pos = name.find("images-idx");
        if (pos == std::string::npos) continue;
        const std::string labels = idx_labels_path_for(e.path().string());
        if (!labels.empty() && file_exists(labels)) pairs.emplace_back(e.path().string(), labels);
    }
    std::sort(pairs.begin(), pairs.end());
    return pairs;
}

} // namespace

std::string idx_labels_path_for(const std::string& images_path) {
    const fs::path p(images_path);
    std::string name = p.filename().string();
    const auto pos = name.find("images-idx");
    if (pos == std::string::npos || pos + 11 >= name.size()) return {};
    // "images-idx3-ubyte" -> "labels-idx1-ubyte" (any images rank)
    name.replace(pos, 11, "labels-idx1");
    return (p.parent_path() / name).string();
}

Dataset load_idx_pair(const std::string& images_path, const std::string& labels_path, int64_t limit) {
    Gz fi = open_gz(images_path);
    const IdxHeader ih = read_header(fi.get(), images_path);
    if (ih.dims.size() < 2)
        throw Error(images_path + ": IDX images need at least 2 dimensions (count, features...), found " + std::to_string(ih.dims.size()));
    Gz fl = open_gz(labels_path);
    const IdxHeader lh = read_header(fl.get(), labels_path);
    if (lh.dims.size() != 1) throw Error(labels_path + ": IDX labels must have 1 dimension, found " + std::to_string(lh.dims.size()));
    if (lh.dtype == 0x0D || lh.dtype == 0x0E) throw Error(labels_path + ": IDX labels must be integers, found a floating dtype");
    if (ih.dims[0] != lh.dims[0])
        throw Error(labels_path + ": holds " + std::to_string(lh.dims[0]) + " labels but " + images_path + " holds " +
                    std::to_string(ih.dims[0]) + " images");
    if (ih.dims[0] == 0) throw Error(images_path + ": holds no samples");
    const uint64_t features = ih.count() / ih.dims[0];
    if (features == 0 || features > (1u << 24)) throw Error(images_path + ": " + std::to_string(features) + " features per sample is out of range");

    if (ih.dims[0] > uint64_t(std::numeric_limits<int>::max())) throw Error(images_path + ": " + std::to_string(ih.dims[0]) + " samples is out of range");

    // Only what the limit needs is inflated and converted: a header that claims millions of
    // samples costs nothing beyond the first `limit` (the rest is never read).
    const uint64_t n = limit > 0 ? std::min<uint64_t>(ih.dims[0], uint64_t(limit)) : ih.dims[0];
    Dataset d;
    d.source_path = images_path;
    d.format = "idx";
    d.files = {images_path, labels_path};
    d.count = int(n);
    d.features = int(features);
    d.raw = read_values(fi.get(), ih, n * features, images_path);
    const std::vector<float> labels = read_values(fl.get(), lh, n, labels_path);
    d.labels.resize(labels.size());
    for (size_t i = 0; i < labels.size(); ++i) {
        if (labels[i] < 0 || labels[i] > 65535)
            throw Error(labels_path + ": label " + std::to_string(i) + " = " + std::to_string(labels[i]) + " is not a class index in 0..65535");
        d.labels[i] = int(labels[i]);
    }
    finish_dataset(d);
    return d;
}

namespace {
// The IDX pairs of `dir` whose images file names the split: "t10k"/"test" or "train".
std::vector<std::pair<std::string, std::string>> split_pairs(const std::string& dir, const std::string& split) {
    const std::vector<std::string> keys = split == "train" ? std::vector<std::string>{"train"} : std::vector<std::string>{"t10k", "test"};
    std::vector<std::pair<std::string, std::string>> chosen;
    for (const auto& p : idx_pairs_in(dir)) {
        const std::string name = fs::path(p.first).filename().string();
        for (const auto& k : keys)
            if (name.find(k) != std::string::npos) {
                chosen.push_back(p);
                break;
            }
    }
    return chosen;
}
} // namespace

bool idx_dir_has_split(const std::string& dir, const std::string& split) { return !split_pairs(dir, split).empty(); }

Dataset load_idx_dir(const std::string& dir, const std::string& split, int64_t limit) {
    if (idx_pairs_in(dir).empty()) throw Error(dir + ": no IDX pair found (*images-idx*-ubyte[.gz] with a matching *labels-idx1-ubyte[.gz])");
    auto chosen = split_pairs(dir, split);
    if (chosen.empty()) throw Error(dir + ": no " + split + " split among its IDX files");
    // Prefer the .gz and raw twins of one pair: drop duplicates that differ only by ".gz".
    auto stem = [](const std::string& s) { return s.size() > 3 && s.compare(s.size() - 3, 3, ".gz") == 0 ? s.substr(0, s.size() - 3) : s; };
    chosen.erase(std::unique(chosen.begin(), chosen.end(), [&](auto& a, auto& b) { return stem(a.first) == stem(b.first); }), chosen.end());
    if (chosen.size() > 1) {
        std::string names;
        for (const auto& c : chosen) names.append(" ").append(fs::path(c.first).filename().string());
        throw Error(dir + ": several " + split + " IDX sets (" + names.substr(1) + "); give the images file itself");
    }
    Dataset d = load_idx_pair(chosen[0].first, chosen[0].second, limit);
    d.source_path = dir + " (" + split + ")";
    return d;
}

} // namespace ss
