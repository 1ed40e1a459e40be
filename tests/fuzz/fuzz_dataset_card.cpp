// fuzz_dataset_card.cpp - libFuzzer target: the user-written files of data governance - a
// dataset-card.json and a slice CSV (by column name, cut at 3 samples). Only ss::Error may escape.
#include "data/dataset_card.h"
#include "error.h"
#include "eval/slices.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        const ss::DatasetProvenance p = ss::parse_dataset_card(text, "dataset-card.json");
        // What it parsed writes back and parses to the same fields.
        const ss::DatasetProvenance q = ss::parse_dataset_card(ss::provenance_json(p), "again");
        if (q.license != p.license || q.name != p.name || q.collection != p.collection) __builtin_trap();
    } catch (const ss::Error&) {
    }
    const std::string path = fuzz::write_temp("slices.csv", data, size);
    for (const char* column : {"site", "id", ""}) {
        try {
            const std::vector<ss::Slice> s = ss::slices_from_csv(path, column, 3);
            size_t n = 0;
            for (const ss::Slice& x : s) n += x.samples.size();
            if (n != 3) __builtin_trap(); // every evaluated sample in exactly one slice
        } catch (const ss::Error&) {
        }
    }
    return 0;
}
