// npy_array.h - a NumPy .npy file (format 1-3, C order), mapped and checked: magic, header,
// dtype, shape, and that the data section holds exactly shape x item size bytes.
#pragma once

#include "formats/byte_source.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ss {

struct NpyArray {
    std::shared_ptr<const ByteSource> bytes;
    std::string descr;           // '|u1', '<i4', '<i8', '<f4', '<f8', '|i1'
    std::vector<uint64_t> shape;
    size_t data_offset = 0;
    int item_size = 0;
};

// Throws ss::Error naming the file and the rule.
NpyArray open_npy(const std::string& path);
// Element i as a double (exact for the integer dtypes up to 2^53).
double value_at(const NpyArray& a, uint64_t i);

} // namespace ss
