// sha256.h - SHA-256 (FIPS 180-4), for dataset and model fingerprints.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <future>
#include <string>
#include <vector>

namespace ss {

class Sha256 {
public:
    Sha256();
    void update(const void* data, size_t n);
    std::array<uint8_t, 32> finish();
    std::string finish_hex(); // 64 lowercase hex digits

private:
    void block(const uint8_t* p);
    uint32_t h_[8];
    uint8_t buf_[64];
    size_t buf_len_ = 0;
    uint64_t total_ = 0;
};

std::string sha256_hex(const void* data, size_t n);
std::string sha256_file_hex(const std::string& path); // throws ss::Error naming the file
// Over the files' bytes concatenated in the order given.
std::string sha256_files_hex(const std::vector<std::string>& paths);

// sha256_files_hex on a thread of its own; the files must stay as they are until it is read.
std::shared_future<std::string> hash_files_async(std::vector<std::string> paths);

} // namespace ss
