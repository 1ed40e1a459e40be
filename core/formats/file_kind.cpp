// file_kind.cpp
#include "formats/file_kind.h"

#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace ss {

namespace fs = std::filesystem;

namespace {

// Up to n bytes from the start of a regular file.
std::string head_bytes(const std::string& path, size_t n) {
    std::string out(n, '\0');
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return {};
    out.resize(std::fread(out.data(), 1, n, f));
    std::fclose(f);
    return out;
}

uint64_t u64_le(const std::string& b) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = v << 8 | uint8_t(b[size_t(i)]);
    return v;
}

bool is_idx_header(const std::string& b) {
    if (b.size() < 4 || b[0] != 0 || b[1] != 0) return false;
    const uint8_t type = uint8_t(b[2]), dims = uint8_t(b[3]);
    return (type == 0x08 || type == 0x09 || (type >= 0x0B && type <= 0x0E)) && dims >= 1 && dims <= 4;
}

FileKind file_kind(const std::string& path, uint64_t size) {
    const std::string b = head_bytes(path, 4096);
    if (b.size() >= 16 && std::memcmp(b.data(), "SQLite format 3\0", 16) == 0) return FileKind::Session;
    if (b.size() >= 4 && std::memcmp(b.data(), "GGUF", 4) == 0) return FileKind::Gguf;
    if (b.size() >= 6 && std::memcmp(b.data(), "\x93NUMPY", 6) == 0) return FileKind::Npy;
    if (b.size() >= 2 && uint8_t(b[0]) == 0x1f && uint8_t(b[1]) == 0x8b) return FileKind::Gzip;
    if (b.size() >= 10) {
        const uint64_t header = u64_le(b);
        if (header >= 2 && header <= size - 8 && b[8] == '{') return FileKind::Safetensors;
    }
    if (is_idx_header(b)) return FileKind::Idx;
    const bool binary = std::memchr(b.data(), '\0', b.size()) != nullptr;
    // ModelProto starts with ir_version (field 1, varint: tag 0x08) as torch.onnx.export writes it.
    if (binary && b.size() >= 2 && b[0] == 0x08 && uint8_t(b[1]) < 0x80) return FileKind::Onnx;
    if (!binary && !b.empty()) return FileKind::Text;
    return FileKind::Unknown;
}

FileKind directory_kind(const std::string& path) {
    std::error_code ec;
    bool config = false, safetensors = false, idx = false;
    for (const auto& e : fs::directory_iterator(path, ec)) {
        const std::string name = e.path().filename().string();
        if (name == "config.json") config = true;
        else if (name.size() > 12 && name.compare(name.size() - 12, 12, ".safetensors") == 0) safetensors = true;
        else if (name == "model.safetensors.index.json") safetensors = true;
        else if (name.find("-idx") != std::string::npos) idx = true;
        else if (name == "X.npy") idx = true; // an X.npy + y.npy pair reads as a dataset directory too
    }
    if (config && safetensors) return FileKind::ModelDirectory;
    if (idx) return FileKind::DatasetDirectory;
    return FileKind::OtherDirectory;
}

} // namespace

FileKind detect_file_kind(const std::string& path) {
    struct stat st;
    if (path.empty() || ::stat(path.c_str(), &st) != 0) return FileKind::Missing;
    if (S_ISDIR(st.st_mode)) return directory_kind(path);
    if (!S_ISREG(st.st_mode)) return FileKind::NotRegular;
    return file_kind(path, uint64_t(st.st_size));
}

std::string file_kind_description(FileKind kind) {
    switch (kind) {
    case FileKind::Missing: return "missing or unreadable";
    case FileKind::NotRegular: return "not a regular file (a FIFO, device or socket)";
    case FileKind::Session: return "a SparseScope session (SQLite database)";
    case FileKind::Safetensors: return "a safetensors file";
    case FileKind::Onnx: return "an ONNX model";
    case FileKind::Gguf: return "a GGUF file";
    case FileKind::Npy: return "a NumPy .npy array";
    case FileKind::Idx: return "an IDX file";
    case FileKind::Gzip: return "a gzip file";
    case FileKind::Text: return "a text file";
    case FileKind::ModelDirectory: return "a model directory";
    case FileKind::DatasetDirectory: return "a dataset directory";
    case FileKind::OtherDirectory: return "a directory with no model or dataset in it";
    case FileKind::Unknown: return "a file of no format SparseScope reads";
    }
    return "unknown";
}

OpenRole open_role(FileKind kind) {
    switch (kind) {
    case FileKind::Session: return OpenRole::Session;
    case FileKind::Safetensors:
    case FileKind::Onnx:
    case FileKind::ModelDirectory: return OpenRole::Model;
    case FileKind::Npy:
    case FileKind::Idx:
    case FileKind::Gzip:
    case FileKind::Text:
    case FileKind::DatasetDirectory: return OpenRole::Dataset;
    default: return OpenRole::None;
    }
}

} // namespace ss
