// safetensors.h - reader and writer for the safetensors container.
//
// Layout: u64 little-endian header length N | N bytes of UTF-8 JSON | data section.
// The header maps tensor names to {"dtype", "shape", "data_offsets": [begin, end)} with offsets
// relative to the data section; the optional "__metadata__" maps strings to strings.
// The reader validates everything before it allocates tensor storage: header length within the
// file and <= 100 MB, a JSON object, offsets inside the data section, tensors covering the data
// section without gaps or overlap, and shape x dtype size == byte length (overflow-checked).
#pragma once

#include "formats/byte_source.h"
#include "model/weight_data.h"

#include <cstdint>
#include <map>
#include <memory>
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

// A parsed and validated file. The file is memory-mapped; tensor bytes are read on demand.
class SafetensorsFile {
public:
    // Throws ss::Error naming `path`, the tensor and the rule on any violation.
    static SafetensorsFile read(const std::string& path);
    static SafetensorsFile parse(const std::string& path, std::vector<uint8_t> bytes);
    static SafetensorsFile parse(const std::string& path, std::shared_ptr<const ByteSource> bytes);

    const std::string& path() const { return path_; }
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    const std::vector<SafetensorsEntry>& entries() const { return entries_; } // sorted by name
    const SafetensorsEntry* find(const std::string& name) const;
    uint64_t header_bytes() const { return data_start_ - 8; }
    uint64_t file_bytes() const { return bytes_ ? bytes_->size() : 0; }

    // The tensor's values as fp32. F32 tensors at a 4-byte aligned address are a zero-copy view
    // into the mapping; F16/BF16 convert exactly (subnormals included); F64 rounds to nearest;
    // integer and BOOL tensors convert value by value (exact for |v| <= 2^24).
    WeightData to_f32(const SafetensorsEntry& e) const;
    const uint8_t* raw(const SafetensorsEntry& e) const { return bytes_->data() + data_start_ + e.begin; }
    // The tensor's bytes will not be read again (they were converted): their pages go back.
    const std::shared_ptr<const ByteSource>& source() const { return bytes_; }
    void release(const SafetensorsEntry& e) const { bytes_->release(data_start_ + e.begin, e.end - e.begin); }

private:
    std::string path_;
    std::map<std::string, std::string> metadata_;
    std::vector<SafetensorsEntry> entries_;
    std::shared_ptr<const ByteSource> bytes_;
    uint64_t data_start_ = 0;
};

struct SafetensorsTensorOut {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    const void* data = nullptr; // product(shape) values of dtype, little-endian
};

// Writes tensors in the given order (data section 8-byte aligned); metadata goes to
// "__metadata__". Atomic: written to PATH.tmp, then renamed. Throws ss::Error on I/O failure.
void write_safetensors(const std::string& path, const std::vector<SafetensorsTensorOut>& tensors,
                       const std::map<std::string, std::string>& metadata);

float f16_to_f32(uint16_t h);
float bf16_to_f32(uint16_t b);

} // namespace ss
