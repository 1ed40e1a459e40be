// token_data.cpp
#include "data/token_data.h"

#include "data/npy_array.h"
#include "error.h"
#include "formats/file_io.h"
#include "formats/sha256.h"
#include "formats/tokenizer.h"
#include "data/text_noise.h"

#include <cstdio>

#include <filesystem>

namespace ss {

namespace {
constexpr size_t kMaxTextBytes = size_t(1) << 30; // 1 GiB of UTF-8: a few hundred million tokens

void check_ids(const std::vector<int32_t>& ids, int vocab, const std::string& path) {
    for (size_t i = 0; i < ids.size(); ++i)
        if (ids[i] < 0 || ids[i] >= vocab)
            throw Error(path + ": token " + std::to_string(i) + " has id " + std::to_string(ids[i]) + ", outside the model's vocabulary of " +
                        std::to_string(vocab) + " (ids 0.." + std::to_string(vocab - 1) + ")");
}
} // namespace

TokenData load_token_data(const std::string& path, int vocab, const std::string& model_tokenizer, const TokenDataOptions& opt) {
    TokenData d;
    d.source_path = path;
    if (std::filesystem::path(path).extension() == ".npy") {
        const NpyArray a = open_npy(path);
        if (a.shape.size() != 1) throw Error(path + ": token ids must be a 1-D array, found " + std::to_string(a.shape.size()) + " dimensions");
        if (a.descr != "<i4" && a.descr != "<i8" && a.descr != "|u1" && a.descr != "<u1")
            throw Error(path + ": token ids must be integers (int32 '<i4', int64 '<i8' or uint8), found '" + a.descr + "'");
        d.tokens.resize(size_t(a.shape[0]));
        for (uint64_t i = 0; i < a.shape[0]; ++i) {
            const double v = value_at(a, i);
            if (v < 0 || v >= vocab)
                throw Error(path + ": token " + std::to_string(i) + " has id " + std::to_string(int64_t(v)) + ", outside the model's vocabulary of " +
                            std::to_string(vocab) + " (ids 0.." + std::to_string(vocab - 1) + ")");
            d.tokens[size_t(i)] = int32_t(v);
        }
        d.sha256 = sha256_files_hex({path});
        return d;
    }
    d.tokenizer = opt.tokenizer.empty() ? model_tokenizer : opt.tokenizer;
    if (d.tokenizer.empty())
        throw Error(path + ": text needs a tokenizer, and the model directory has no tokenizer.model or tokenizer.json (name one with --tokenizer, or give token ids as .npy)");
    const auto tok = load_tokenizer(d.tokenizer);
    check_tokenizer_fits(*tok, vocab);
    std::string text = read_text_file(path, kMaxTextBytes);
    if (const size_t at = invalid_utf8_at(text); at != std::string::npos)
        throw Error(path + ": not valid UTF-8 at byte " + std::to_string(at) + " (evaluation text must be UTF-8)");
    if (opt.add_bos) {
        if (tok->bos() < 0) throw Error(d.tokenizer + ": --add-bos given but the tokenizer has no BOS token");
        d.tokens.push_back(tok->bos());
    }
    if (opt.typo_rate > 0.0) text = add_typos(text, opt.typo_rate, opt.typo_seed);
    const std::vector<int32_t> ids = tok->encode(text);
    d.tokens.insert(d.tokens.end(), ids.begin(), ids.end());
    check_ids(d.tokens, vocab, path);
    d.sha256 = sha256_files_hex({path});
    if (opt.typo_rate > 0.0) { // another text than the file's: named and hashed apart (caches keyed by it stay apart)
        char rate[32];
        std::snprintf(rate, sizeof rate, "%g", 100.0 * opt.typo_rate);
        d.source_path = path + " (typos " + rate + " %, seed " + std::to_string(opt.typo_seed) + ")";
        const std::string key = d.sha256 + ":typos:" + rate + ":" + std::to_string(opt.typo_seed);
        d.sha256 = sha256_hex(key.data(), key.size());
    }
    return d;
}

} // namespace ss
