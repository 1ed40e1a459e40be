// fuzz_support.h - what the libFuzzer targets share: readers that take a path get the fuzzer's
// bytes written to a file of this process (one per name, overwritten each iteration).
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>

namespace fuzz {

inline std::string temp_path(const std::string& name) { return "/tmp/ss-fuzz-" + std::to_string(getpid()) + "-" + name; }

inline std::string write_temp(const std::string& name, const uint8_t* p, size_t n) {
    const std::string path = temp_path(name);
    if (FILE* f = std::fopen(path.c_str(), "wb")) {
        if (n) std::fwrite(p, 1, n, f);
        std::fclose(f);
    }
    return path;
}

// For readers of two files: data[0..4) is the first file's length (little-endian, clamped to
// what follows), then the first file, then the second.
struct Split {
    const uint8_t *a, *b;
    size_t na, nb;
};
inline Split split(const uint8_t* data, size_t size) {
    if (size < 4) return {data, data, 0, 0};
    const size_t rest = size - 4;
    const size_t at = std::min<size_t>(rest, data[0] | size_t(data[1]) << 8 | size_t(data[2]) << 16 | size_t(data[3]) << 24);
    return {data + 4, data + 4 + at, at, rest - at};
}

} // namespace fuzz
