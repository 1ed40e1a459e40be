// sentencepiece_tokenizer.cpp - tokenizer.model (SentencePiece BPE) read and applied here.
//
// Debian's libsentencepiece carries its own protobuf 3.14 runtime and exports it; in one process
// with the system protobuf that ONNX import needs, the two collide and the program aborts at start.
// So the model file (a protobuf ModelProto) is parsed by hand and the BPE encoder follows
// SentencePiece's bpe_model.cc: the normalized text is split into characters (or user-defined
// pieces), then the adjacent pair whose concatenation is a piece with the highest score is merged
// (ties: the leftmost) until no pair is a piece; characters without a piece become byte pieces
// <0xXX> (byte_fallback) or unk. Normalization: the "identity" rule only (Llama's), with
// add_dummy_prefix, remove_extra_whitespaces and whitespace as U+2581. Unigram models and other
// normalization rules are refused by name.
#include "formats/tokenizer.h"

#include "error.h"
#include "formats/file_io.h"

#include <cstring>
#include <queue>
#include <unordered_map>

namespace ss {

namespace {

// --- protobuf wire format ------------------------------------------------------------------------
struct Wire {
    const uint8_t* p;
    const uint8_t* end;
    const std::string& path;

    bool done() const { return p >= end; }
    uint64_t varint() {
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (p >= end) throw Error(path + ": truncated protobuf varint");
            const uint8_t b = *p++;
            v |= uint64_t(b & 0x7f) << shift;
            if (!(b & 0x80)) return v;
        }
        throw Error(path + ": malformed protobuf varint");
    }
    // Length-delimited field: the bytes, as a sub-reader.
    Wire bytes() {
        const uint64_t n = varint();
        if (n > uint64_t(end - p)) throw Error(path + ": protobuf field runs past the end of the file");
        Wire w{p, p + n, path};
        p += n;
        return w;
    }
    uint32_t fixed32() {
        if (end - p < 4) throw Error(path + ": truncated protobuf fixed32");
        uint32_t v;
        std::memcpy(&v, p, 4);
        p += 4;
        return v;
    }
    void skip(int wire_type) {
        switch (wire_type) {
        case 0: varint(); return;
        case 1: if (end - p < 8) throw Error(path + ": truncated protobuf field"); p += 8; return;
        case 2: bytes(); return;
        case 5: fixed32(); return;
        default: throw Error(path + ": protobuf wire type " + std::to_string(wire_type) + " is not valid here");
        }
    }
    std::string str() {
        Wire w = bytes();
        return std::string(reinterpret_cast<const char*>(w.p), size_t(w.end - w.p));
    }
};

enum PieceType { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };

struct Piece {
    std::string text;
    float score = 0.0f;
    int type = Normal;
};

const std::string kSpace = "\xe2\x96\x81"; // U+2581, SentencePiece's whitespace

size_t utf8_len(unsigned char c) { return c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1; }

class SentencePieceTokenizer : public Tokenizer {
public:
    explicit SentencePieceTokenizer(const std::string& path) {
        path_ = path;
        const auto data = read_file_bytes(path);
        parse(data);
    }

    std::vector<int32_t> encode(const std::string& text) const override {
        if (const size_t at = invalid_utf8_at(text); at != std::string::npos) throw Error("text is not valid UTF-8 at byte " + std::to_string(at));
        const std::string s = normalize(text);
        // Symbols: characters (or user-defined pieces) as a linked list over s.
        struct Sym {
            size_t begin, len;
            int prev, next;
        };
        std::vector<Sym> sym;
        for (size_t i = 0; i < s.size();) {
            size_t len = utf8_len(static_cast<unsigned char>(s[i]));
            for (const std::string& u : user_defined_)
                if (u.size() > len && s.compare(i, u.size(), u) == 0) len = u.size();
            len = std::min(len, s.size() - i);
            sym.push_back({i, len, int(sym.size()) - 1, -1});
            i += len;
        }
        for (size_t i = 0; i + 1 < sym.size(); ++i) sym[i].next = int(i + 1);
        struct Pair {
            int left, right;
            float score;
            size_t len;
        };
        auto worse = [](const Pair& a, const Pair& b) { return a.score != b.score ? a.score < b.score : a.left > b.left; };
        std::priority_queue<Pair, std::vector<Pair>, decltype(worse)> agenda(worse);
        auto consider = [&](int l, int r) {
            if (l < 0 || r < 0) return;
            const size_t len = sym[size_t(l)].len + sym[size_t(r)].len;
            auto it = mergeable_.find(std::string_view(s.data() + sym[size_t(l)].begin, len));
            if (it == mergeable_.end()) return;
            agenda.push({l, r, pieces_[size_t(it->second)].score, len});
        };
        for (size_t i = 0; i + 1 < sym.size(); ++i) consider(int(i), int(i + 1));
        while (!agenda.empty()) {
            const Pair top = agenda.top();
            agenda.pop();
            Sym& L = sym[size_t(top.left)];
            Sym& R = sym[size_t(top.right)];
            if (L.len == 0 || R.len == 0 || L.next != top.right || L.len + R.len != top.len) continue; // stale
            L.len += R.len;
            L.next = R.next;
            if (R.next >= 0) sym[size_t(R.next)].prev = top.left;
            R.len = 0;
            consider(L.prev, top.left);
            consider(top.left, L.next);
        }
        std::vector<int32_t> ids;
        for (int i = sym.empty() ? -1 : 0; i >= 0; i = sym[size_t(i)].next) {
            const std::string_view piece(s.data() + sym[size_t(i)].begin, sym[size_t(i)].len);
            auto it = index_.find(piece);
            if (it != index_.end() && pieces_[size_t(it->second)].type != Unused) {
                ids.push_back(it->second);
            } else if (byte_fallback_) {
                for (unsigned char b : piece) ids.push_back(byte_ids_[b]);
            } else if (!ids.empty() && ids.back() == unk_) {
                // consecutive unknowns collapse into one unk, as SentencePiece does
            } else {
                ids.push_back(unk_);
            }
        }
        return ids;
    }

    std::string decode(const std::vector<int32_t>& ids) const override {
        std::string out;
        for (int32_t id : ids) {
            if (id < 0 || size_t(id) >= pieces_.size()) continue;
            const Piece& p = pieces_[size_t(id)];
            if (p.type == Control || p.type == Unknown) continue;
            if (p.type == Byte) out.push_back(char(byte_of_piece(p.text, size_t(id))));
            else out += p.text;
        }
        std::string text;
        for (size_t i = 0; i < out.size();) { // U+2581 back to spaces; the dummy prefix's space dropped
            if (out.compare(i, kSpace.size(), kSpace) == 0) {
                if (!(i == 0 && add_dummy_prefix_)) text.push_back(' ');
                i += kSpace.size();
            } else {
                text.push_back(out[i++]);
            }
        }
        return text;
    }

    std::string piece(int32_t id) const override { return id >= 0 && size_t(id) < pieces_.size() ? pieces_[size_t(id)].text : std::string("?"); }
    int vocab_size() const override { return int(pieces_.size()); }
    int bos() const override { return bos_; }

private:
    void parse(const std::vector<uint8_t>& data) {
        Wire w{data.data(), data.data() + data.size(), path_};
        int model_type = 1; // unigram unless the trainer spec says otherwise
        std::string normalizer = "nmt_nfkc";
        bool have_normalizer = false, have_charsmap = false;
        while (!w.done()) {
            const uint64_t key = w.varint();
            const int field = int(key >> 3), type = int(key & 7);
            if (field == 1 && type == 2) { // SentencePiece
                Wire p = w.bytes();
                Piece piece;
                while (!p.done()) {
                    const uint64_t k = p.varint();
                    const int f = int(k >> 3), t = int(k & 7);
                    if (f == 1 && t == 2) piece.text = p.str();
                    else if (f == 2 && t == 5) { const uint32_t bits = p.fixed32(); std::memcpy(&piece.score, &bits, 4); }
                    else if (f == 3 && t == 0) piece.type = int(p.varint());
                    else p.skip(t);
                }
                pieces_.push_back(std::move(piece));
            } else if (field == 2 && type == 2) { // TrainerSpec
                Wire t = w.bytes();
                while (!t.done()) {
                    const uint64_t k = t.varint();
                    const int f = int(k >> 3), wt = int(k & 7);
                    if (f == 3 && wt == 0) model_type = int(t.varint());
                    else if (f == 35 && wt == 0) byte_fallback_ = t.varint() != 0;
                    else t.skip(wt);
                }
            } else if (field == 3 && type == 2) { // NormalizerSpec
                have_normalizer = true;
                Wire n = w.bytes();
                while (!n.done()) {
                    const uint64_t k = n.varint();
                    const int f = int(k >> 3), wt = int(k & 7);
                    if (f == 1 && wt == 2) normalizer = n.str();
                    else if (f == 2 && wt == 2) have_charsmap = !n.bytes().done();
                    else if (f == 3 && wt == 0) add_dummy_prefix_ = n.varint() != 0;
                    else if (f == 4 && wt == 0) remove_extra_whitespaces_ = n.varint() != 0;
                    else if (f == 5 && wt == 0) escape_whitespaces_ = n.varint() != 0;
                    else n.skip(wt);
                }
            } else {
                w.skip(type);
            }
        }
        if (pieces_.empty()) throw Error(path_ + ": not a SentencePiece model (no pieces)");
        if (model_type != 2)
            throw Error(path_ + ": SentencePiece model_type " + std::to_string(model_type) + " (" + (model_type == 1 ? "unigram" : "word/char") +
                        ") is not supported; only BPE models (Llama, Mixtral) are read");
        if (!have_normalizer || normalizer != "identity" || have_charsmap)
            throw Error(path_ + ": normalizer '" + normalizer + "' is not supported; only the 'identity' rule (Llama's) is implemented");
        byte_ids_.assign(256, -1);
        for (size_t i = 0; i < pieces_.size(); ++i) {
            const Piece& p = pieces_[i];
            index_.emplace(p.text, int32_t(i));
            if (p.type == Normal || p.type == UserDefined) mergeable_.emplace(p.text, int32_t(i));
            if (p.type == UserDefined) user_defined_.push_back(p.text);
            if (p.type == Unknown) unk_ = int32_t(i);
            if (p.type == Control && p.text == "<s>") bos_ = int32_t(i);
            if (p.type == Byte) byte_ids_[size_t(byte_of_piece(p.text, i))] = int32_t(i);
        }
        if (byte_fallback_)
            for (int b = 0; b < 256; ++b)
                if (byte_ids_[size_t(b)] < 0) throw Error(path_ + ": byte_fallback is set but the piece for byte " + std::to_string(b) + " is missing");
    }

    // The byte a BYTE piece stands for: its text must be exactly "<0xXX>" (two hex digits).
    int byte_of_piece(const std::string& text, size_t index) const {
        auto hex = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
        if (text.size() != 6 || text.compare(0, 3, "<0x") != 0 || text[5] != '>' || hex(text[3]) < 0 || hex(text[4]) < 0)
            throw Error(path_ + ": piece " + std::to_string(index) + " is of type BYTE but its text is not <0xXX> (two hex digits)");
        return hex(text[3]) * 16 + hex(text[4]);
    }

    // identity rule: whitespace handling only.
    std::string normalize(const std::string& text) const {
        std::string t = text;
        if (remove_extra_whitespaces_) {
            std::string c;
            bool space = true; // drops leading spaces
            for (char ch : t) {
                if (ch == ' ') {
                    if (!space) c.push_back(' ');
                    space = true;
                } else {
                    c.push_back(ch);
                    space = false;
                }
            }
            while (!c.empty() && c.back() == ' ') c.pop_back();
            t = c;
        }
        if (t.empty()) return t;
        std::string out = add_dummy_prefix_ ? kSpace : std::string();
        for (char ch : t) {
            if (ch == ' ' && escape_whitespaces_) out += kSpace;
            else out.push_back(ch);
        }
        return out;
    }

    TokenizerVocabulary vocabulary() const override {
        TokenizerVocabulary v;
        v.model = "llama";
        for (size_t i = 0; i < pieces_.size(); ++i) {
            const Piece& p = pieces_[i];
            v.tokens.push_back(p.text);
            v.scores.push_back(p.score);
            v.types.push_back(p.type); // SentencePiece's piece types are GGUF's token types
            if (p.type == Control && p.text == "</s>") v.eos = int32_t(i);
        }
        v.unk = unk_;
        v.bos = bos_;
        return v;
    }

    std::vector<Piece> pieces_;
    std::unordered_map<std::string_view, int32_t> index_, mergeable_;
    std::vector<std::string> user_defined_;
    std::vector<int32_t> byte_ids_;
    int32_t unk_ = 0, bos_ = -1;
    bool byte_fallback_ = false, add_dummy_prefix_ = true, remove_extra_whitespaces_ = true, escape_whitespaces_ = true;
};

} // namespace

std::unique_ptr<Tokenizer> load_sentencepiece_tokenizer(const std::string& path) { return std::make_unique<SentencePieceTokenizer>(path); }

} // namespace ss
