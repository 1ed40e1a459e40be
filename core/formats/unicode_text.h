// unicode_text.h - the two Unicode services tokenizer.json needs: normalization forms (ICU) and
// regular expressions with Unicode properties (PCRE2, UTF-8 mode with Unicode classes, JIT).
//
// Both work on valid UTF-8 (callers check with invalid_utf8_at first) and return byte offsets.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace ss {

enum class NormalForm { NFC, NFD, NFKC, NFKD };

// `text` in the normal form; throws ss::Error when ICU refuses it.
std::string normalize_unicode(const std::string& text, NormalForm form);

struct ByteSpan {
    size_t begin = 0, end = 0; // [begin, end) in bytes
};

// A compiled pattern in the syntax Hugging Face tokenizers use (Oniguruma's, which PCRE2 shares for
// every construct the GPT-2, Llama 3 and Qwen patterns use: \p{L}, \p{N}, (?i:...), (?!\S), {1,3}).
class UnicodeRegex {
public:
    // Throws ss::Error with PCRE2's message and the offset in the pattern when it does not compile.
    explicit UnicodeRegex(const std::string& pattern);
    ~UnicodeRegex();
    UnicodeRegex(const UnicodeRegex&) = delete;
    UnicodeRegex& operator=(const UnicodeRegex&) = delete;

    // Every non-overlapping match in `text` from left to right (an empty match advances one
    // character and is not reported).
    std::vector<ByteSpan> find_all(const std::string& text) const;

private:
    struct Compiled;
    std::unique_ptr<Compiled> c_;
};

} // namespace ss
