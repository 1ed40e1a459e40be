// tokenizer.h - text to token ids and back, with the model's own vocabulary.
//
// tokenizer.model: SentencePiece BPE, as Llama 2 and Mixtral ship it (sentencepiece_tokenizer.cpp).
// tokenizer.json: Hugging Face tokenizers' byte-level BPE, as GPT-2, Llama 3, Qwen, OLMoE and
// Granite ship it (bpe_tokenizer.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ss {

// A vocabulary as GGUF's tokenizer.ggml.* keys carry it (formats/gguf_export.h).
struct TokenizerVocabulary {
    std::string model;               // "llama": SentencePiece BPE with scores
    std::vector<std::string> tokens; // by id
    std::vector<float> scores;       // merge priority per token
    std::vector<int32_t> types;      // 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
    int32_t unk = -1, bos = -1, eos = -1;
};

class Tokenizer {
public:
    virtual ~Tokenizer() = default;
    // UTF-8 text -> ids; no BOS or EOS added. Throws ss::Error for invalid UTF-8.
    virtual std::vector<int32_t> encode(const std::string& text) const = 0;
    virtual std::string decode(const std::vector<int32_t>& ids) const = 0;
    virtual std::string piece(int32_t id) const = 0; // the token's own text, for displays
    virtual int vocab_size() const = 0;
    virtual int bos() const = 0; // -1 when the vocabulary has none
    // Throws ss::Error naming the file for a kind of tokenizer GGUF export does not write.
    virtual TokenizerVocabulary vocabulary() const;
    const std::string& path() const { return path_; }

protected:
    std::string path_;
};

// By the file's extension: *.json -> load_bpe_tokenizer_json, else load_sentencepiece_tokenizer.
// Each throws ss::Error naming the file (and the field) when it cannot be read or is not a
// tokenizer this reads.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path);
std::unique_ptr<Tokenizer> load_sentencepiece_tokenizer(const std::string& path);
std::unique_ptr<Tokenizer> load_bpe_tokenizer_json(const std::string& path);

// The tokenizer file in a model directory: tokenizer.model, else tokenizer.json; "" when neither.
std::string tokenizer_in_directory(const std::string& dir);

// Throws ss::Error naming the tokenizer file when its vocabulary is larger than the model's
// embeddings (`vocab`): then it is not this model's tokenizer.
void check_tokenizer_fits(const Tokenizer& t, int vocab);

// The offset of the first byte that is not valid UTF-8 (overlong forms, surrogates and code
// points above U+10FFFF are invalid), or npos when all of it is valid.
size_t invalid_utf8_at(const std::string& s);

} // namespace ss
