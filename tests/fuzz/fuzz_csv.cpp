// fuzz_csv.cpp - libFuzzer target: a CSV dataset, with the label column by name, by index and by
// default, and with a --limit. Only ss::Error may escape.
#include "data/csv_dataset.h"
#include "error.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = fuzz::write_temp("data.csv", data, size);
    for (const char* column : {"", "1", "label"}) {
        try {
            ss::load_csv_dataset(path, column);
        } catch (const ss::Error&) {
        }
    }
    try {
        if (ss::load_csv_dataset(path, "", 2).count > 2) __builtin_trap(); // --limit must bound what is read
    } catch (const ss::Error&) {
    }
    return 0;
}
