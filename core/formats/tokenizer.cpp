// tokenizer.cpp - what both tokenizer formats share: the choice by file, UTF-8 checks, the fit.
#include "formats/tokenizer.h"

#include "error.h"
#include "formats/file_io.h"

#include <filesystem>

namespace ss {

size_t invalid_utf8_at(const std::string& s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const size_t n = s.size();
    for (size_t i = 0; i < n;) {
        const unsigned c = p[i];
        int len = 0;
        uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        }
        if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F;
        else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F;
        else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07;
        else return i;
        if (i + size_t(len) > n) return i;
        for (int k = 1; k < len; ++k) {
            if ((p[i + k] & 0xC0) != 0x80) return i;
            cp = cp << 6 | (p[i + k] & 0x3F);
        }
        const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
        i += size_t(len);
    }
    return std::string::npos;
}

void check_tokenizer_fits(const Tokenizer& t, int vocab) {
    if (t.vocab_size() > vocab)
        throw Error(t.path() + ": the tokenizer's vocabulary has " + std::to_string(t.vocab_size()) + " tokens but the model's embeddings have " +
                    std::to_string(vocab) + " (vocab_size): not this model's tokenizer");
}

std::string tokenizer_in_directory(const std::string& dir) {
    for (const char* name : {"tokenizer.model", "tokenizer.json"})
        if (const auto p = std::filesystem::path(dir) / name; file_exists(p.string())) return p.string();
    return std::string();
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path) {
    if (std::filesystem::path(path).extension() == ".json") return load_bpe_tokenizer_json(path);
    return load_sentencepiece_tokenizer(path);
}

TokenizerVocabulary Tokenizer::vocabulary() const {
    throw Error(path_ + ": GGUF export writes SentencePiece vocabularies (tokenizer.model) only, not byte-level BPE (tokenizer.json)");
}

} // namespace ss
