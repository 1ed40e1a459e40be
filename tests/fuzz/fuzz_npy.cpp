// fuzz_npy.cpp - libFuzzer target: an X.npy / y.npy pair (fuzz::split), and X.npy alone as an
// array. Only ss::Error may escape.
#include "data/npy_array.h"
#include "data/npy_dataset.h"
#include "error.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const fuzz::Split s = fuzz::split(data, size);
    const std::string x = fuzz::write_temp("X.npy", s.a, s.na), y = fuzz::write_temp("y.npy", s.b, s.nb);
    try {
        ss::load_npy_pair(x, y);
    } catch (const ss::Error&) {
    }
    try {
        const ss::NpyArray a = ss::open_npy(x);
        uint64_t n = 1;
        for (auto d : a.shape) n *= d;
        if (n) (void)ss::value_at(a, n - 1);
    } catch (const ss::Error&) {
    }
    return 0;
}
