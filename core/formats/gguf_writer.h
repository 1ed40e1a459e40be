// gguf_writer.h - writing GGUF version 3 files, the format llama.cpp loads.
//
// Layout (little endian): "GGUF", version (u32) 3, tensor count (u64), metadata count (u64); the
// metadata as key (string) + value type (u32) + value; per tensor its name, dimension count (u32),
// dimensions (u64 each, ne[0] first: the length of a row), ggml type (u32) and data offset (u64,
// from the start of the data section, a multiple of the alignment); padding to the alignment
// (general.alignment, 32 unless set); then the tensor data. A string is a u64 byte count and the
// bytes; an array is the element type (u32), the count (u64) and the elements.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ss {

// ggml tensor types this writes (ggml.h numbering).
enum class GgmlType : uint32_t { F32 = 0, F16 = 1, Q4_0 = 2, Q8_0 = 8, BF16 = 30 };
const char* ggml_type_name(GgmlType t); // "F32", "F16", "Q4_0", "Q8_0", "BF16"
// Bytes of one row of n values; the quantized types need n to be a multiple of 32.
uint64_t ggml_row_bytes(GgmlType t, int64_t n);

// GGUF metadata value types.
enum class GgufValueType : uint32_t { U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7, String = 8, Array = 9, U64 = 10, I64 = 11, F64 = 12 };

class GgufWriter {
public:
    static constexpr uint32_t kAlignment = 32;

    void add_u32(const std::string& key, uint32_t v);
    void add_i32(const std::string& key, int32_t v);
    void add_f32(const std::string& key, float v);
    void add_bool(const std::string& key, bool v);
    void add_string(const std::string& key, const std::string& v);
    void add_strings(const std::string& key, const std::vector<std::string>& v);
    void add_f32s(const std::string& key, const std::vector<float>& v);
    void add_i32s(const std::string& key, const std::vector<int32_t>& v);

    // A tensor of shape ne (ne[0] = row length, then rows, then further dimensions) and type t.
    // `fill` writes exactly the tensor's bytes (rows of ggml_row_bytes) into its argument when the
    // file is written, so a model's tensors are converted one at a time, never all at once.
    using Fill = std::function<void(std::vector<uint8_t>& bytes)>;
    void add_tensor(const std::string& name, std::vector<int64_t> ne, GgmlType t, Fill fill);

    size_t tensor_count() const { return tensors_.size(); }
    // Writes PATH.tmp, then renames it over PATH. Throws ss::Error naming the file (or the tensor
    // whose fill gave the wrong number of bytes).
    void write(const std::string& path) const;

private:
    struct Tensor {
        std::string name;
        std::vector<int64_t> ne;
        GgmlType type;
        Fill fill;
        uint64_t bytes = 0;
    };
    std::vector<uint8_t> meta_; // the metadata entries, encoded
    uint64_t meta_count_ = 0;
    std::vector<Tensor> tensors_;
    std::vector<std::string> keys_;

    void key(const std::string& k, GgufValueType t);
};

} // namespace ss
