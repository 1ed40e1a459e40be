// fuzz_sentencepiece.cpp - libFuzzer target: any bytes as a SentencePiece tokenizer.model (parsed
// by hand, sentencepiece_tokenizer.cpp); one that loads encodes and decodes a fixed text. Only
// ss::Error may escape.
#include "error.h"
#include "formats/tokenizer.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = fuzz::write_temp("tokenizer.model", data, size);
    try {
        const auto t = ss::load_sentencepiece_tokenizer(path);
        const auto ids = t->encode("In the beginning God created the heaven and the earth. 1234 ünïcödé\n\t  ");
        (void)t->decode(ids);
        for (int32_t id : ids)
            if (id < 0 || id >= t->vocab_size()) __builtin_trap();
    } catch (const ss::Error&) {
    }
    return 0;
}
