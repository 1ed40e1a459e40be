// bpe_tokenizer.cpp - tokenizer.json (Hugging Face tokenizers) with a byte-level BPE model: GPT-2,
// Llama 3, Qwen, OLMoE and Granite ship theirs this way.
//
// encode(text):
//   1. added tokens (added_tokens, e.g. <|endoftext|>) are cut out of the raw text first, leftmost
//      and longest first, honouring lstrip / rstrip / single_word;
//   2. each stretch between them is normalized (none, or NFC/NFD/NFKC/NFKD, alone or in a Sequence),
//   3. pre-tokenized (Split by a regex or a string with its behavior and invert, ByteLevel with
//      add_prefix_space and the GPT-2 regex, Digits, or a Sequence of these) into words,
//   4. each word's UTF-8 bytes become the byte-to-unicode characters GPT-2 defined (printable bytes
//      stand for themselves, the rest move to U+0100...), and
//   5. BPE merges adjacent symbols, lowest merge rank first (leftmost among equals), until no pair
//      is a merge; with ignore_merges a word that is itself in the vocabulary is taken whole.
// Everything else a tokenizer.json may hold (WordPiece/Unigram models, Metaspace, other
// normalizers, BPE dropout, subword prefixes) is refused by its field name.
#include "formats/tokenizer.h"

#include "error.h"
#include "formats/file_io.h"
#include "formats/unicode_text.h"

#include <nlohmann/json.hpp>

#include <array>
#include <filesystem>
#include <mutex>
#include <queue>
#include <unordered_map>

namespace ss {

namespace {

using json = nlohmann::json;

// GPT-2's bytes_to_unicode: byte -> the UTF-8 of the code point that stands for it.
struct ByteMap {
    std::array<std::string, 256> to_char;
    std::unordered_map<std::string, uint8_t> to_byte;
    ByteMap() {
        int n = 0;
        for (int b = 0; b < 256; ++b) {
            const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
            const uint32_t cp = printable ? uint32_t(b) : uint32_t(256 + n++);
            std::string s;
            if (cp < 0x80) s.push_back(char(cp));
            else s = {char(0xC0 | (cp >> 6)), char(0x80 | (cp & 0x3F))};
            to_char[size_t(b)] = s;
            to_byte.emplace(s, uint8_t(b));
        }
    }
};
const ByteMap& byte_map() {
    static const ByteMap m;
    return m;
}

size_t utf8_len(unsigned char c) { return c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1; }

enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

struct PreStep {
    enum Kind { Split, ByteLevel, Digits } kind = Split;
    std::shared_ptr<UnicodeRegex> regex; // Split with a Regex pattern, ByteLevel with use_regex
    std::string literal;                 // Split with a String pattern
    Behavior behavior = Behavior::Isolated;
    bool invert = false;
    bool add_prefix_space = false;
    bool individual_digits = false;
};

struct AddedToken {
    std::string content;
    int32_t id = 0;
    bool lstrip = false, rstrip = false, single_word = false;
};

// The GPT-2 pattern ByteLevel uses when use_regex is true.
const char* kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_word_byte(unsigned char c) { return c >= 0x80 || std::isalnum(c) || c == '_'; }

// Splits `s` at `matches` per `behavior` (the rules of tokenizers' SplitDelimiterBehavior).
std::vector<std::string> split_by(const std::string& s, const std::vector<ByteSpan>& matches, Behavior behavior, bool invert) {
    struct Part {
        ByteSpan span;
        bool is_match;
    };
    std::vector<Part> parts;
    size_t at = 0;
    for (const ByteSpan& m : matches) {
        if (m.begin > at) parts.push_back({{at, m.begin}, invert});
        parts.push_back({m, !invert});
        at = m.end;
    }
    if (at < s.size()) parts.push_back({{at, s.size()}, invert});

    std::vector<ByteSpan> out;
    switch (behavior) {
    case Behavior::Isolated:
        for (const Part& p : parts) out.push_back(p.span);
        break;
    case Behavior::Removed:
        for (const Part& p : parts)
            if (!p.is_match) out.push_back(p.span);
        break;
    case Behavior::Contiguous: {
        bool prev = false;
        for (const Part& p : parts) {
            if (!out.empty() && p.is_match && prev) out.back().end = p.span.end;
            else out.push_back(p.span);
            prev = p.is_match;
        }
        break;
    }
    case Behavior::MergedWithPrevious: {
        bool prev = false;
        for (const Part& p : parts) {
            if (!out.empty() && p.is_match && !prev) out.back().end = p.span.end;
            else out.push_back(p.span);
            prev = p.is_match;
        }
        break;
    }
    case Behavior::MergedWithNext: {
        bool prev = false;
        for (size_t i = parts.size(); i-- > 0;) {
            const Part& p = parts[i];
            if (!out.empty() && p.is_match && !prev) out.back().begin = p.span.begin;
            else out.push_back(p.span);
            prev = p.is_match;
        }
        std::reverse(out.begin(), out.end());
        break;
    }
    }
    std::vector<std::string> pieces;
    for (const ByteSpan& b : out)
        if (b.end > b.begin) pieces.push_back(s.substr(b.begin, b.end - b.begin));
    return pieces;
}

std::vector<ByteSpan> find_literal(const std::string& s, const std::string& lit) {
    std::vector<ByteSpan> m;
    if (lit.empty()) return m;
    for (size_t at = s.find(lit); at != std::string::npos; at = s.find(lit, at + lit.size())) m.push_back({at, at + lit.size()});
    return m;
}

std::vector<ByteSpan> find_digits(const std::string& s, bool individual) {
    std::vector<ByteSpan> m;
    for (size_t i = 0; i < s.size();) {
        if (!std::isdigit(static_cast<unsigned char>(s[i]))) {
            ++i;
            continue;
        }
        size_t j = i + 1;
        if (!individual)
            while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
        m.push_back({i, j});
        i = j;
    }
    return m;
}

class BpeTokenizer : public Tokenizer {
public:
    explicit BpeTokenizer(const std::string& path) {
        path_ = path;
        const auto bytes = read_file_bytes(path);
        json j;
        try {
            j = json::parse(bytes.begin(), bytes.end());
        } catch (const json::exception& e) {
            throw Error(path + ": not valid JSON (" + e.what() + ")");
        }
        if (!j.is_object()) throw Error(path + ": a tokenizer.json is a JSON object");
        parse_model(field(j, "model"));
        parse_added(j.value("added_tokens", json::array()));
        parse_normalizer(j.value("normalizer", json()), "normalizer");
        parse_pre_tokenizer(j.value("pre_tokenizer", json()), "pre_tokenizer");
        bool byte_level = false;
        for (const PreStep& s : pre_)
            byte_level = byte_level || s.kind == PreStep::ByteLevel;
        if (!byte_level)
            throw Error(path + ": pre_tokenizer has no ByteLevel step; only byte-level BPE tokenizers (GPT-2, Llama 3, Qwen, OLMoE, Granite) are read");
        read_bos();
    }

    std::vector<int32_t> encode(const std::string& text) const override {
        if (const size_t at = invalid_utf8_at(text); at != std::string::npos) throw Error("text is not valid UTF-8 at byte " + std::to_string(at));
        std::vector<int32_t> ids;
        size_t at = 0;
        while (at < text.size()) {
            size_t begin = 0, end = 0, cut_begin = 0, cut_end = 0;
            const AddedToken* t = next_added(text, at, begin, end, cut_begin, cut_end);
            encode_plain(text.substr(at, (t ? cut_begin : text.size()) - at), ids);
            if (!t) break;
            ids.push_back(t->id);
            at = cut_end;
        }
        return ids;
    }

    std::string decode(const std::vector<int32_t>& ids) const override {
        std::string out;
        for (int32_t id : ids) out += token_bytes(id);
        return out;
    }

    std::string piece(int32_t id) const override {
        const std::string s = token_bytes(id);
        if (invalid_utf8_at(s) == std::string::npos) return s;
        std::string hex; // part of a character: show its bytes
        char buf[8];
        for (unsigned char c : s) {
            std::snprintf(buf, sizeof buf, "<0x%02X>", c);
            hex += buf;
        }
        return hex;
    }
    int vocab_size() const override { return vocab_size_; }
    int bos() const override { return bos_; }

private:
    const json& field(const json& j, const char* name, const std::string& where = "") const {
        auto it = j.find(name);
        if (it == j.end()) throw Error(path_ + ": " + (where.empty() ? "" : where + ".") + name + " is missing");
        return *it;
    }
    [[noreturn]] void refuse(const std::string& field, const std::string& rule) const { throw Error(path_ + ": " + field + " " + rule); }

    void parse_model(const json& m) {
        if (!m.is_object()) refuse("model", "must be an object");
        const std::string type = m.value("type", "");
        if (type != "BPE") refuse("model.type", "'" + type + "' is not supported; only byte-level BPE is read");
        if (m.contains("dropout") && !m["dropout"].is_null() && m["dropout"].get<double>() != 0.0)
            refuse("model.dropout", "is set; BPE dropout makes tokenization random and is not supported");
        for (const char* f : {"continuing_subword_prefix", "end_of_word_suffix"})
            if (m.contains(f) && m[f].is_string() && !m[f].get<std::string>().empty())
                refuse(std::string("model.") + f, "'" + m[f].get<std::string>() + "' is not supported by byte-level BPE");
        if (m.value("byte_fallback", false)) refuse("model.byte_fallback", "is true; byte fallback belongs to SentencePiece-style BPE, not read here");
        ignore_merges_ = m.value("ignore_merges", false);

        const json& vocab = field(m, "vocab", "model");
        if (!vocab.is_object()) refuse("model.vocab", "must be an object of token -> id");
        int32_t max_id = -1;
        for (auto it = vocab.begin(); it != vocab.end(); ++it) {
            if (!it.value().is_number_integer()) refuse("model.vocab['" + it.key() + "']", "must be an integer id");
            const int64_t id = it.value().get<int64_t>();
            if (id < 0 || id >= (int64_t(1) << 24)) refuse("model.vocab['" + it.key() + "']", "has id " + std::to_string(id) + ", outside 0..16777215");
            max_id = std::max(max_id, int32_t(id));
        }
        // Ids may be sparse (a cut-down vocabulary keeps its ids): stored by id, never as an array
        // as long as the largest id (found by fuzz_tokenizer_json: 1,154 tokens claiming id
        // 12,582,926 allocated 12.6 M strings).
        vocab_size_ = max_id + 1;
        tokens_.reserve(vocab.size());
        for (auto it = vocab.begin(); it != vocab.end(); ++it) {
            const auto id = int32_t(it.value().get<int64_t>());
            if (!tokens_.emplace(id, it.key()).second)
                refuse("model.vocab['" + it.key() + "']", "has id " + std::to_string(id) + ", which another token has too");
            vocab_.emplace(it.key(), id);
        }
        for (int b = 0; b < 256; ++b)
            if (!vocab_.count(byte_map().to_char[size_t(b)]))
                refuse("model.vocab", "has no token for byte " + std::to_string(b) + " ('" + byte_map().to_char[size_t(b)] + "'): not a byte-level vocabulary");
        if (m.contains("unk_token") && m["unk_token"].is_string()) {
            auto u = vocab_.find(m["unk_token"].get<std::string>());
            if (u == vocab_.end()) refuse("model.unk_token", "'" + m["unk_token"].get<std::string>() + "' is not in model.vocab");
        }

        const json& merges = field(m, "merges", "model");
        if (!merges.is_array()) refuse("model.merges", "must be an array");
        merges_.reserve(merges.size());
        for (size_t r = 0; r < merges.size(); ++r) {
            const json& e = merges[r];
            std::string a, b;
            const std::string where = "model.merges[" + std::to_string(r) + "]";
            if (e.is_string()) {
                const std::string s = e.get<std::string>();
                const size_t sp = s.find(' ');
                if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos) refuse(where, "'" + s + "' is not two tokens separated by one space");
                a = s.substr(0, sp);
                b = s.substr(sp + 1);
            } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
                a = e[0].get<std::string>();
                b = e[1].get<std::string>();
            } else {
                refuse(where, "must be a string \"a b\" or a pair [\"a\", \"b\"]");
            }
            const auto ia = vocab_.find(a), ib = vocab_.find(b), iab = vocab_.find(a + b);
            if (ia == vocab_.end() || ib == vocab_.end() || iab == vocab_.end())
                refuse(where, "('" + a + "', '" + b + "') names a token that is not in model.vocab");
            merges_.emplace(pair_key(ia->second, ib->second), Merge{int32_t(r), iab->second});
        }
    }

    void parse_added(const json& added) {
        if (!added.is_array()) refuse("added_tokens", "must be an array");
        for (size_t i = 0; i < added.size(); ++i) {
            const json& t = added[i];
            const std::string where = "added_tokens[" + std::to_string(i) + "]";
            if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() || !t.contains("content") || !t["content"].is_string())
                refuse(where, "must have an integer id and a string content");
            AddedToken a;
            a.content = t["content"].get<std::string>();
            const int64_t id = t["id"].get<int64_t>();
            if (id < 0 || id >= (int64_t(1) << 24)) refuse(where + ".id", std::to_string(id) + " is outside 0..16777215");
            if (a.content.empty()) refuse(where + ".content", "is empty");
            a.id = int32_t(id);
            a.lstrip = t.value("lstrip", false);
            a.rstrip = t.value("rstrip", false);
            a.single_word = t.value("single_word", false);
            vocab_size_ = std::max(vocab_size_, a.id + 1);
            added_ids_.emplace(a.id, a.content);
            added_.push_back(std::move(a));
        }
        // longest first, so the first that matches at a position is the longest
        std::stable_sort(added_.begin(), added_.end(), [](const AddedToken& x, const AddedToken& y) { return x.content.size() > y.content.size(); });
        for (size_t i = 0; i < added_.size(); ++i) added_first_byte_[static_cast<unsigned char>(added_[i].content[0])].push_back(i);
    }

    void parse_normalizer(const json& n, const std::string& where) {
        if (n.is_null()) return;
        if (!n.is_object()) refuse(where, "must be an object or null");
        const std::string type = n.value("type", "");
        if (type == "Sequence") {
            const json& list = field(n, "normalizers", where);
            for (size_t i = 0; i < list.size(); ++i) parse_normalizer(list[i], where + ".normalizers[" + std::to_string(i) + "]");
        } else if (type == "NFC") normalizers_.push_back(NormalForm::NFC);
        else if (type == "NFD") normalizers_.push_back(NormalForm::NFD);
        else if (type == "NFKC") normalizers_.push_back(NormalForm::NFKC);
        else if (type == "NFKD") normalizers_.push_back(NormalForm::NFKD);
        else refuse(where + ".type", "'" + type + "' is not supported (read here: NFC, NFD, NFKC, NFKD and Sequence of them)");
    }

    void parse_pre_tokenizer(const json& p, const std::string& where) {
        if (p.is_null()) return;
        if (!p.is_object()) refuse(where, "must be an object or null");
        const std::string type = p.value("type", "");
        PreStep s;
        if (type == "Sequence") {
            const json& list = field(p, "pretokenizers", where);
            for (size_t i = 0; i < list.size(); ++i) parse_pre_tokenizer(list[i], where + ".pretokenizers[" + std::to_string(i) + "]");
            return;
        } else if (type == "ByteLevel") {
            s.kind = PreStep::ByteLevel;
            s.add_prefix_space = p.value("add_prefix_space", true);
            if (p.value("use_regex", true)) s.regex = std::make_shared<UnicodeRegex>(kGpt2Pattern);
        } else if (type == "Split") {
            s.kind = PreStep::Split;
            const json& pat = field(p, "pattern", where);
            if (pat.contains("Regex") && pat["Regex"].is_string()) {
                try {
                    s.regex = std::make_shared<UnicodeRegex>(pat["Regex"].get<std::string>());
                } catch (const Error& e) {
                    refuse(where + ".pattern.Regex", e.what());
                }
            } else if (pat.contains("String") && pat["String"].is_string()) {
                s.literal = pat["String"].get<std::string>();
            } else {
                refuse(where + ".pattern", "must be {\"Regex\": ...} or {\"String\": ...}");
            }
            const std::string b = p.value("behavior", "");
            if (b == "Removed") s.behavior = Behavior::Removed;
            else if (b == "Isolated") s.behavior = Behavior::Isolated;
            else if (b == "MergedWithPrevious") s.behavior = Behavior::MergedWithPrevious;
            else if (b == "MergedWithNext") s.behavior = Behavior::MergedWithNext;
            else if (b == "Contiguous") s.behavior = Behavior::Contiguous;
            else refuse(where + ".behavior", "'" + b + "' is not one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous");
            s.invert = p.value("invert", false);
        } else if (type == "Digits") {
            s.kind = PreStep::Digits;
            s.individual_digits = p.value("individual_digits", false);
        } else {
            refuse(where + ".type", "'" + type + "' is not supported (read here: ByteLevel, Split, Digits and Sequence of them)");
        }
        pre_.push_back(std::move(s));
    }

    void read_bos() {
        // tokenizer.json does not say which token is BOS; tokenizer_config.json beside it does.
        const auto cfg = std::filesystem::path(path_).parent_path() / "tokenizer_config.json";
        if (!file_exists(cfg.string())) return;
        const auto bytes = read_file_bytes(cfg.string());
        const json c = json::parse(bytes.begin(), bytes.end(), nullptr, false);
        if (c.is_discarded() || !c.is_object() || !c.contains("bos_token")) return;
        const json& b = c["bos_token"];
        const std::string name = b.is_string() ? b.get<std::string>() : b.is_object() ? b.value("content", "") : "";
        for (const AddedToken& a : added_)
            if (a.content == name) bos_ = a.id;
        if (bos_ < 0)
            if (auto it = vocab_.find(name); it != vocab_.end()) bos_ = it->second;
    }

    // The next added token at or after `from`: [begin, end) is the token, [cut_begin, cut_end) that
    // plus the whitespace lstrip / rstrip take. nullptr when there is none.
    const AddedToken* next_added(const std::string& s, size_t from, size_t& begin, size_t& end, size_t& cut_begin, size_t& cut_end) const {
        if (added_.empty()) return nullptr;
        for (size_t i = from; i < s.size(); ++i) {
            auto it = added_first_byte_.find(static_cast<unsigned char>(s[i]));
            if (it == added_first_byte_.end()) continue;
            for (size_t k : it->second) {
                const AddedToken& t = added_[k];
                if (s.compare(i, t.content.size(), t.content) != 0) continue;
                const size_t e = i + t.content.size();
                if (t.single_word && ((i > 0 && is_word_byte(static_cast<unsigned char>(s[i - 1]))) ||
                                      (e < s.size() && is_word_byte(static_cast<unsigned char>(s[e])))))
                    continue;
                begin = i;
                end = e;
                cut_begin = i;
                cut_end = e;
                if (t.lstrip)
                    while (cut_begin > from && is_space(s[cut_begin - 1])) --cut_begin;
                if (t.rstrip)
                    while (cut_end < s.size() && is_space(s[cut_end])) ++cut_end;
                return &t;
            }
        }
        return nullptr;
    }

    void encode_plain(std::string s, std::vector<int32_t>& ids) const {
        if (s.empty()) return;
        for (NormalForm f : normalizers_) s = normalize_unicode(s, f);
        std::vector<std::string> words{std::move(s)};
        for (const PreStep& step : pre_) {
            std::vector<std::string> next;
            for (std::string& w : words) {
                if (step.kind == PreStep::ByteLevel) {
                    if (step.add_prefix_space && (w.empty() || w[0] != ' ')) w.insert(w.begin(), ' ');
                    std::vector<std::string> parts = step.regex ? split_by(w, step.regex->find_all(w), Behavior::Isolated, false) : std::vector<std::string>{w};
                    for (std::string& p : parts) {
                        std::string mapped;
                        for (unsigned char c : p) mapped += byte_map().to_char[c];
                        next.push_back(std::move(mapped));
                    }
                } else {
                    const auto matches = step.kind == PreStep::Digits ? find_digits(w, step.individual_digits)
                                         : step.regex                  ? step.regex->find_all(w)
                                                                       : find_literal(w, step.literal);
                    const Behavior b = step.kind == PreStep::Digits ? (step.individual_digits ? Behavior::Isolated : Behavior::Contiguous) : step.behavior;
                    for (std::string& p : split_by(w, matches, b, step.kind == PreStep::Split && step.invert)) next.push_back(std::move(p));
                }
            }
            words = std::move(next);
        }
        for (const std::string& w : words) bpe_word(w, ids);
    }

    static uint64_t pair_key(int32_t a, int32_t b) { return uint64_t(uint32_t(a)) << 32 | uint32_t(b); }

    // One byte-mapped word -> ids, through the cache.
    void bpe_word(const std::string& w, std::vector<int32_t>& ids) const {
        if (ignore_merges_)
            if (auto it = vocab_.find(w); it != vocab_.end()) {
                ids.push_back(it->second);
                return;
            }
        {
            std::lock_guard<std::mutex> lock(cache_mutex_);
            if (auto it = cache_.find(w); it != cache_.end()) {
                ids.insert(ids.end(), it->second.begin(), it->second.end());
                return;
            }
        }
        struct Sym {
            int32_t id;
            int prev, next;
        };
        std::vector<Sym> sym;
        for (size_t i = 0; i < w.size();) {
            const size_t len = std::min(utf8_len(static_cast<unsigned char>(w[i])), w.size() - i);
            auto it = vocab_.find(std::string_view(w.data() + i, len));
            if (it == vocab_.end()) throw Error(path_ + ": character '" + w.substr(i, len) + "' has no token in model.vocab");
            sym.push_back({it->second, int(sym.size()) - 1, -1});
            i += len;
        }
        for (size_t i = 0; i + 1 < sym.size(); ++i) sym[i].next = int(i + 1);
        struct Cand {
            int32_t rank;
            int left;
            int32_t left_id, right_id;
        };
        auto worse = [](const Cand& a, const Cand& b) { return a.rank != b.rank ? a.rank > b.rank : a.left > b.left; };
        std::priority_queue<Cand, std::vector<Cand>, decltype(worse)> agenda(worse);
        auto consider = [&](int l) {
            if (l < 0 || sym[size_t(l)].next < 0) return;
            const Sym& L = sym[size_t(l)];
            const Sym& R = sym[size_t(L.next)];
            auto it = merges_.find(pair_key(L.id, R.id));
            if (it != merges_.end()) agenda.push({it->second.rank, l, L.id, R.id});
        };
        for (size_t i = 0; i + 1 < sym.size(); ++i) consider(int(i));
        while (!agenda.empty()) {
            const Cand c = agenda.top();
            agenda.pop();
            Sym& L = sym[size_t(c.left)];
            if (L.id != c.left_id || L.next < 0 || sym[size_t(L.next)].id != c.right_id) continue; // stale
            Sym& R = sym[size_t(L.next)];
            L.id = merges_.at(pair_key(c.left_id, c.right_id)).id;
            L.next = R.next;
            if (R.next >= 0) sym[size_t(R.next)].prev = c.left;
            R.id = -1;
            consider(L.prev);
            consider(c.left);
        }
        std::vector<int32_t> out;
        for (int i = sym.empty() ? -1 : 0; i >= 0; i = sym[size_t(i)].next) out.push_back(sym[size_t(i)].id);
        ids.insert(ids.end(), out.begin(), out.end());
        std::lock_guard<std::mutex> lock(cache_mutex_);
        if (cache_.size() > 200000) cache_.clear();
        cache_.emplace(w, std::move(out));
    }

    std::string token_bytes(int32_t id) const {
        if (auto a = added_ids_.find(id); a != added_ids_.end()) return a->second;
        const auto found = tokens_.find(id);
        if (found == tokens_.end()) return std::string();
        const std::string& t = found->second;
        std::string out;
        for (size_t i = 0; i < t.size();) {
            const size_t len = std::min(utf8_len(static_cast<unsigned char>(t[i])), t.size() - i);
            auto b = byte_map().to_byte.find(t.substr(i, len));
            if (b != byte_map().to_byte.end()) out.push_back(char(b->second));
            else out += t.substr(i, len);
            i += len;
        }
        return out;
    }

    struct Merge {
        int32_t rank;
        int32_t id; // of the merged token
    };
    struct Hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
    };
    std::unordered_map<int32_t, std::string> tokens_; // id -> byte-mapped token (ids may be sparse)
    int32_t vocab_size_ = 0;                           // largest id + 1, added tokens included
    std::unordered_map<std::string, int32_t, Hash, std::equal_to<>> vocab_;
    std::unordered_map<uint64_t, Merge> merges_;
    std::vector<AddedToken> added_; // longest content first
    std::unordered_map<unsigned char, std::vector<size_t>> added_first_byte_;
    std::unordered_map<int32_t, std::string> added_ids_;
    std::vector<NormalForm> normalizers_;
    std::vector<PreStep> pre_;
    bool ignore_merges_ = false;
    int32_t bos_ = -1;
    mutable std::mutex cache_mutex_;
    mutable std::unordered_map<std::string, std::vector<int32_t>, Hash, std::equal_to<>> cache_;
};

} // namespace

std::unique_ptr<Tokenizer> load_bpe_tokenizer_json(const std::string& path) { return std::make_unique<BpeTokenizer>(path); }

} // namespace ss
