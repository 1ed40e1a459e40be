// fuzz_tokenizer_json.cpp - libFuzzer target: any text as a Hugging Face tokenizer.json; one that
// loads encodes and decodes a fixed text. Only ss::Error may escape.
#include "error.h"
#include "formats/tokenizer.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = fuzz::write_temp("tokenizer.json", data, size);
    try {
        const auto t = ss::load_bpe_tokenizer_json(path);
        const auto ids = t->encode("In the beginning God created the heaven and the earth. 1234 ünïcödé\n\t  <|endoftext|>");
        (void)t->decode(ids);
        for (int32_t id : ids)
            if (id < 0 || id >= t->vocab_size()) __builtin_trap();
    } catch (const ss::Error&) {
    }
    return 0;
}
