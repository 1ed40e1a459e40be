// token_data.h - evaluation text for a language model, as token ids.
//
// A UTF-8 text file (or a gzip of one, FILE.txt.gz) is tokenized with the model's tokenizer (or one the user names), no BOS added
// unless asked; an NPY file holds a 1-D integer array of token ids. Either way every id is checked
// against the model's vocabulary.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ss {

struct TokenData {
    std::string source_path;
    std::string sha256;     // of the file
    std::string tokenizer;  // the tokenizer file that made the ids; empty for NPY
    std::vector<int32_t> tokens;
};

struct TokenDataOptions {
    std::string tokenizer; // tokenizer.model to use for text; empty: the model's own
    bool add_bos = false;  // put the tokenizer's BOS before the text
    double typo_rate = 0.0; // text only: typing errors put in at this rate first (text_noise.h); the name and hash say so
    uint64_t typo_seed = 0;
};

// `vocab`: the model's vocabulary size; `model_tokenizer`: its tokenizer file (may be empty).
// Throws ss::Error naming the file and the rule: unreadable, invalid UTF-8 (with the byte offset),
// no tokenizer for text, a tokenizer whose vocabulary is larger than the model's, an NPY that is
// not 1-D integers, an id outside the vocabulary (with its position).
TokenData load_token_data(const std::string& path, int vocab, const std::string& model_tokenizer, const TokenDataOptions& opt);

} // namespace ss
