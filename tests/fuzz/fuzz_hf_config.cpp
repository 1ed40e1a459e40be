// fuzz_hf_config.cpp - libFuzzer target: any text as a Hugging Face config.json (Llama, Mixtral,
// Qwen-MoE, OLMoE, Granite-MoE). Only ss::Error may escape.
#include "error.h"
#include "formats/hf_config.h"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        if (ss::is_hf_config(text)) ss::parse_hf_config(text, "fuzz/config.json");
    } catch (const ss::Error&) {
    }
    try {
        ss::parse_hf_config(text, "fuzz/config.json");
    } catch (const ss::Error&) {
    }
    return 0;
}
