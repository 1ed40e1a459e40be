// fuzz_idx.cpp - libFuzzer target: an IDX images file and labels file (fuzz::split), read whole
// and with a --limit. Only ss::Error may escape.
#include "data/idx_dataset.h"
#include "error.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const fuzz::Split s = fuzz::split(data, size);
    const std::string images = fuzz::write_temp("images-idx3-ubyte", s.a, s.na), labels = fuzz::write_temp("labels-idx1-ubyte", s.b, s.nb);
    for (int64_t limit : {int64_t(0), int64_t(3)}) {
        try {
            const ss::Dataset d = ss::load_idx_pair(images, labels, limit);
            if (limit && d.count > limit) __builtin_trap(); // --limit must bound what is read
        } catch (const ss::Error&) {
        }
    }
    return 0;
}
