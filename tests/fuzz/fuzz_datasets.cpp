// fuzz_datasets.cpp - libFuzzer target: the first byte picks a loader (IDX pair, CSV, NPY pair),
// the rest is split into the two files it reads. Only ss::Error may escape.
#include "data/csv_dataset.h"
#include "error.h"
#include "data/idx_dataset.h"
#include "data/npy_dataset.h"

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace {
std::string temp_path(const char* name) { return "/tmp/ss-fuzz-" + std::to_string(getpid()) + "-" + name; }

void write(const std::string& path, const uint8_t* p, size_t n) {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return;
    std::fwrite(p, 1, n, f);
    std::fclose(f);
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 3) return 0;
    const int kind = data[0] % 3;
    const size_t split = 1 + (size_t(data[1]) * (size - 2)) / 255; // where the second file starts
    const std::string a = temp_path(kind == 2 ? "X.npy" : "a"), b = temp_path(kind == 2 ? "y.npy" : "b");
    write(a, data + 2, split - 1);
    write(b, data + 1 + split, size - 1 - split);
    try {
        if (kind == 0) ss::load_idx_pair(a, b);
        else if (kind == 1) ss::load_csv_dataset(a, data[1] % 2 ? "" : "1");
        else ss::load_npy_pair(a, b);
    } catch (const ss::Error&) {
    }
    return 0;
}
