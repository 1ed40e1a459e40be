// fuzz_plan.cpp - libFuzzer target: any text as a compression plan JSON (--plan); a parsed plan
// written back must parse to the same plan. Only ss::Error may escape.
#include "compress/compression_plan.h"
#include "error.h"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        const ss::CompressionPlan p = ss::parse_compression_plan(text, "fuzz");
        const std::string json = p.to_json();
        if (ss::parse_compression_plan(json, "fuzz (written back)").to_json() != json) __builtin_trap();
        (void)p.summary();
    } catch (const ss::Error&) {
    }
    return 0;
}
