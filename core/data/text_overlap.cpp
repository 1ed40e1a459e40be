// text_overlap.cpp - shared word n-grams by hash, confirmed word by word (text_overlap.h).
#include "data/text_overlap.h"

#include "error.h"

#include <cctype>
#include <unordered_map>

namespace ss {

namespace {

struct Words {
    std::vector<std::string> words;
    std::vector<int64_t> line; // (words) the line each word is on
    int64_t lines = 0;         // non-empty lines
};

Words split_words(const std::string& text) {
    Words w;
    std::string cur;
    int64_t line = 0;
    bool line_has_text = false;
    auto flush = [&] {
        if (cur.empty()) return;
        w.words.push_back(cur);
        w.line.push_back(line);
        cur.clear();
    };
    for (char ch : text) {
        const unsigned char c = static_cast<unsigned char>(ch);
        if (c == '\n') {
            flush();
            w.lines += line_has_text ? 1 : 0;
            line_has_text = false;
            ++line;
        } else if (std::isalnum(c) || c >= 0x80) { // UTF-8 bytes stay inside words
            cur += char(std::tolower(c));
            line_has_text = true;
        } else {
            flush();
        }
    }
    flush();
    w.lines += line_has_text ? 1 : 0;
    return w;
}

uint64_t window_hash(const std::vector<std::string>& words, size_t at, int n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (int k = 0; k < n; ++k) {
        for (unsigned char c : words[at + size_t(k)]) h = (h ^ c) * 0x100000001b3ull;
        h = (h ^ 0x20) * 0x100000001b3ull; // a separator: "ab c" and "a bc" differ
    }
    return h;
}

} // namespace

TextOverlap text_overlap(const std::string& test, const std::string& train, int n, int max_examples) {
    if (n < 1 || n > 64) throw Error("text overlap: n-gram length " + std::to_string(n) + " outside 1..64");
    TextOverlap r;
    r.n = n;
    const Words tr = split_words(train), te = split_words(test);
    r.test_lines = te.lines;
    std::unordered_multimap<uint64_t, size_t> index; // window hash -> its first word in the training text
    if (tr.words.size() >= size_t(n)) {
        index.reserve(tr.words.size());
        for (size_t i = 0; i + size_t(n) <= tr.words.size(); ++i) index.emplace(window_hash(tr.words, i, n), i);
    }
    int64_t last_line = -1;
    for (size_t i = 0; i + size_t(n) <= te.words.size(); ++i) {
        ++r.test_windows;
        const auto [lo, hi] = index.equal_range(window_hash(te.words, i, n));
        bool shared = false;
        for (auto it = lo; it != hi && !shared; ++it) {
            shared = true;
            for (int k = 0; k < n && shared; ++k) shared = te.words[i + size_t(k)] == tr.words[it->second + size_t(k)];
        }
        if (!shared) continue;
        ++r.shared_windows;
        if (te.line[i] != last_line) {
            ++r.lines_touched;
            last_line = te.line[i];
        }
        if (int(r.examples.size()) < max_examples) {
            std::string s;
            for (int k = 0; k < n; ++k) s += (k ? " " : "") + te.words[i + size_t(k)];
            r.examples.push_back(s);
        }
    }
    return r;
}

} // namespace ss
