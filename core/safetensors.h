// safetensors.h - reader and writer for the safetensors container.
//
// Layout: u64 little-endian header length N | N bytes of UTF-8 JSON | data section.
// The header maps tensor names to {"dtype", "shape", "data_offsets": [begin, end)} with offsets
// relative to the data section; the optional "__metadata__" maps strings to strings.
// The reader validates everything before it allocates tensor storage: header length within the
// file and <= 100 MB, a JSON object, offsets inside the data section, tensors covering the data
// section without gaps or overlap, and shape x dtype size == byte length (overflow-checked).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ss {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

const char* dtype_name(DType d);
int dtype_size_bytes(DType d);

struct SafetensorsEntry {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    uint64_t begin = 0; // byte offset into the data section
    uint64_t end = 0;   // one past the last byte
};

// A parsed and validated file. Tensor bytes stay in `data` until asked for.
class SafetensorsFile {
public:
    // Throws ss::Error naming `path`, the tensor and the rule on any violation.
    static SafetensorsFile read(const std::string& path);
    static SafetensorsFile parse(const std::string& path, std::vector<uint8_t> bytes);

    const std::string& path() const { return path_; }
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    const std::vector<SafetensorsEntry>& entries() const { return entries_; }
    const SafetensorsEntry* find(const std::string& name) const;

    // Converts a floating tensor (F64/F32/F16/BF16) to fp32, exactly for F32/F16/BF16.
    std::vector<float> to_f32(const SafetensorsEntry& e) const;

private:
    std::string path_;
    std::map<std::string, std::string> metadata_;
    std::vector<SafetensorsEntry> entries_;
    std::vector<uint8_t> bytes_;
    uint64_t data_start_ = 0;
};

struct SafetensorsTensorF32 {
    std::string name;
    std::vector<int64_t> shape;
    const float* data = nullptr; // product(shape) floats
};

// Writes F32 tensors in the given order; metadata goes to "__metadata__". Throws on I/O error.
void write_safetensors_f32(const std::string& path, const std::vector<SafetensorsTensorF32>& tensors,
                           const std::map<std::string, std::string>& metadata);

float f16_to_f32(uint16_t h);
float bf16_to_f32(uint16_t b);

} // namespace ss
