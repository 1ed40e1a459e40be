// fuzz_model_config.cpp - libFuzzer target: any text as a SparseScope config.json (the layer
// list), and a parsed config written back and parsed again. Only ss::Error may escape.
#include "error.h"
#include "formats/model_config.h"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        const ss::Model m = ss::parse_model_config(text, "fuzz");
        const ss::Model again = ss::parse_model_config(ss::model_config_json(m), "fuzz (written back)");
        if (again.layers.size() != m.layers.size()) __builtin_trap();
    } catch (const ss::Error&) {
    }
    return 0;
}
