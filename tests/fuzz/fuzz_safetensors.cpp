// fuzz_safetensors.cpp - libFuzzer target: any bytes through the safetensors reader and, when a
// file parses, through every tensor conversion. Only ss::Error may escape the parser.
#include "error.h"
#include "formats/safetensors.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        const ss::SafetensorsFile f = ss::SafetensorsFile::parse("fuzz", std::vector<uint8_t>(data, data + size));
        for (const auto& e : f.entries()) {
            if ((e.end - e.begin) > (64u << 20)) continue; // keep iterations fast
            const ss::WeightData w = f.to_f32(e);
            volatile float sink = w.empty() ? 0.0f : w[w.size() - 1];
            (void)sink;
        }
    } catch (const ss::Error&) {
    }
    return 0;
}
