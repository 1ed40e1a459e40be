// byte_source.h - read-only bytes of a whole file: memory-mapped, or held in a vector.
//
// Shared ownership lets tensors view the bytes without copying: a weight that points into a
// mapping holds a shared_ptr to it, so the mapping lives as long as any weight still uses it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ss {

class ByteSource {
public:
    virtual ~ByteSource() = default;
    virtual const uint8_t* data() const = 0;
    virtual size_t size() const = 0;
    // Tells the source that bytes [offset, offset + length) will not be read again soon: a
    // mapping gives their whole pages back to the kernel (they are read from the file again if
    // touched). Nothing changes for bytes held in memory.
    virtual void release(size_t offset, size_t length) const { (void)offset, (void)length; }
};

// Maps PATH read-only (MAP_PRIVATE). Throws ss::Error naming the file on failure. An empty file
// gives an empty source.
std::shared_ptr<const ByteSource> map_file(const std::string& path);

// Wraps bytes already in memory (tests, decompressed data).
std::shared_ptr<const ByteSource> bytes_source(std::vector<uint8_t> bytes);

} // namespace ss
