// test_tokenizers.cpp - both tokenizer formats against ids made by other implementations:
// tokenizer.json (byte-level BPE) against transformers.js and gpt-tokenizer / llama3-tokenizer-js
// on GPT-2, Llama 3 and Qwen 2.5 vocabularies (scripts/lm/make_tokenizer_goldens.mjs), and
// tokenizer.model against Python's sentencepiece (scripts/lm/make_lm_goldens.py). Then every rule of
// the pre-tokenizers and added tokens on small hand-made vocabularies, and the refusals by field.
#include "data/token_data.h"
#include "formats/tokenizer.h"
#include "formats/unicode_text.h"
#include "test_support.h"

#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>

#include <zlib.h>

using namespace ss;
using json = nlohmann::json;
using test_support::error_message;
namespace fs = std::filesystem;

namespace {
const std::string kTok = std::string(SPARSESCOPE_TEST_DATA) + "/tokenizers";
const std::string kDemo = std::string(SPARSESCOPE_RESOURCE_DIR) + "/models/kjv-moe";

json read_json(const std::string& path) {
    std::ifstream in(path);
    return json::parse(in);
}

void write_json(const std::string& path, const json& j) { std::ofstream(path) << j.dump(); }

// A byte-level BPE tokenizer.json: the 256 byte tokens (ids 0..255 in byte order) plus `merges`
// (each "a b" adds the token a+b with the next id), pre-tokenized by `pre`.
json tiny_bpe(const std::vector<std::string>& merges, const json& pre) {
    json vocab = json::object();
    int n = 0;
    for (int b = 0; b < 256; ++b) {
        const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
        static int shifted = 0;
        if (b == 0) shifted = 0;
        const uint32_t cp = printable ? uint32_t(b) : uint32_t(256 + shifted++);
        std::string s;
        if (cp < 0x80) s.push_back(char(cp));
        else s = {char(0xC0 | (cp >> 6)), char(0x80 | (cp & 0x3F))};
        vocab[s] = n++;
    }
    for (const std::string& m : merges) {
        const size_t sp = m.find(' ');
        vocab[m.substr(0, sp) + m.substr(sp + 1)] = n++;
    }
    json j;
    j["version"] = "1.0";
    j["added_tokens"] = json::array();
    j["normalizer"] = nullptr;
    j["pre_tokenizer"] = pre;
    j["model"] = {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"vocab", vocab}, {"merges", merges}};
    return j;
}

json split_then_bytes(const json& split) {
    return {{"type", "Sequence"},
            {"pretokenizers", {split, {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}};
}
} // namespace

class TestTokenizers : public QObject {
    Q_OBJECT
    QTemporaryDir tmp_;

    std::string tmp_file(const std::string& name) { return tmp_.filePath(QString::fromStdString(name)).toStdString(); }

    // Token texts (as decoded bytes) the tokenizer gives `text`.
    std::vector<std::string> pieces_of(const json& tokenizer_json, const std::string& text) {
        const std::string path = tmp_file("t.json");
        write_json(path, tokenizer_json);
        const auto tok = load_tokenizer(path);
        std::vector<std::string> out;
        for (int32_t id : tok->encode(text)) out.push_back(tok->decode({id}));
        return out;
    }

private slots:
    void byteLevelBpeMatchesGoldens_data() {
        QTest::addColumn<QString>("family");
        QTest::addColumn<int>("index");
        for (const char* family : {"gpt2", "llama3", "qwen2.5"}) {
            const json g = read_json(kTok + "/" + family + "/golden.json");
            for (size_t i = 0; i < g["cases"].size(); ++i)
                QTest::newRow((std::string(family) + "/" + g["cases"][i]["name"].get<std::string>()).c_str()) << QString(family) << int(i);
        }
    }
    void byteLevelBpeMatchesGoldens() {
        QFETCH(QString, family);
        QFETCH(int, index);
        const std::string dir = kTok + "/" + family.toStdString();
        const json c = read_json(dir + "/golden.json")["cases"][size_t(index)];
        const auto tok = load_tokenizer(dir + "/tokenizer.json");
        const std::string text = c["text"].get<std::string>();
        const std::vector<int32_t> ids = tok->encode(text);
        const auto want = c["ids"].get<std::vector<int32_t>>();
        QCOMPARE(ids.size(), want.size());
        QVERIFY(ids == want);
        // Decoding gives the text back (after the tokenizer's normalizer: Qwen's is NFC).
        QCOMPARE(tok->decode(ids), family == "qwen2.5" ? normalize_unicode(text, NormalForm::NFC) : text);
    }

    void bothMergeFormsAreCovered() {
        // The Llama 3 fixture writes merges as pairs, the others as "a b" strings.
        QVERIFY(read_json(kTok + "/llama3/tokenizer.json")["model"]["merges"][0].is_array());
        QVERIFY(read_json(kTok + "/gpt2/tokenizer.json")["model"]["merges"][0].is_string());
    }

    void nfcMakesComposedAndDecomposedEqual() {
        const auto qwen = load_tokenizer(kTok + "/qwen2.5/tokenizer.json");
        QCOMPARE(qwen->encode("cafe\xcc\x81"), qwen->encode("caf\xc3\xa9")); // e + U+0301 vs U+00E9
        const auto gpt2 = load_tokenizer(kTok + "/gpt2/tokenizer.json"); // no normalizer: they differ
        QVERIFY(gpt2->encode("cafe\xcc\x81") != gpt2->encode("caf\xc3\xa9"));
    }

    void splitBehaviors_data() {
        QTest::addColumn<QString>("behavior");
        QTest::addColumn<bool>("invert");
        QTest::addColumn<QStringList>("want");
        QTest::newRow("Isolated") << "Isolated" << false << QStringList{"a", "-", "b", "-", "-", "c"};
        QTest::newRow("Removed") << "Removed" << false << QStringList{"a", "b", "c"};
        QTest::newRow("MergedWithPrevious") << "MergedWithPrevious" << false << QStringList{"a-", "b-", "-", "c"};
        QTest::newRow("MergedWithNext") << "MergedWithNext" << false << QStringList{"a", "-b", "-", "-c"};
        QTest::newRow("Contiguous") << "Contiguous" << false << QStringList{"a", "-", "b", "--", "c"};
        QTest::newRow("Removed, inverted") << "Removed" << true << QStringList{"-", "-", "-"};
    }
    void splitBehaviors() {
        QFETCH(QString, behavior);
        QFETCH(bool, invert);
        QFETCH(QStringList, want);
        const json split = {{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", behavior.toStdString()}, {"invert", invert}};
        const json t = tiny_bpe({"a -", "b -", "- -", "- b", "- c"}, split_then_bytes(split));
        QStringList got;
        for (const std::string& p : pieces_of(t, "a-b--c")) got << QString::fromStdString(p);
        QCOMPARE(got, want);
    }

    void regexSplitAndByteLevelRegex() {
        // The Llama 3 digit rule (\p{N}{1,3}) through Split, and ByteLevel's own GPT-2 regex.
        const json llama_digits = {{"type", "Split"}, {"pattern", {{"Regex", "\\p{N}{1,3}"}}}, {"behavior", "Isolated"}, {"invert", false}};
        const json t = tiny_bpe({"1 2", "12 3", "4 5"}, split_then_bytes(llama_digits));
        QCOMPARE(pieces_of(t, "12345"), (std::vector<std::string>{"123", "45"}));
        const json gpt2 = tiny_bpe({"\xc4\xa0 w", "\xc4\xa0w e", "1 2"}, {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}});
        // " we12" -> " we" | "12" ("\xc4\xa0" is the byte-level space)
        QCOMPARE(pieces_of(gpt2, " we12"), (std::vector<std::string>{" we", "12"}));
        json prefixed = gpt2;
        prefixed["pre_tokenizer"]["add_prefix_space"] = true;
        QCOMPARE(pieces_of(prefixed, "we"), (std::vector<std::string>{" we"}));
    }

    void digitsPreTokenizer() {
        const json individual = {{"type", "Digits"}, {"individual_digits", true}};
        const json grouped = {{"type", "Digits"}, {"individual_digits", false}};
        const std::vector<std::string> merges{"1 2", "a 1"};
        QCOMPARE(pieces_of(tiny_bpe(merges, split_then_bytes(individual)), "a12"), (std::vector<std::string>{"a", "1", "2"}));
        QCOMPARE(pieces_of(tiny_bpe(merges, split_then_bytes(grouped)), "a12"), (std::vector<std::string>{"a", "12"}));
    }

    void mergeRankDecidesNotLength() {
        // "abc": with "b c" ranked before "a b" the result is a|bc, the other order gives ab|c.
        const json bytes = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}};
        QCOMPARE(pieces_of(tiny_bpe({"b c", "a b"}, bytes), "abc"), (std::vector<std::string>{"a", "bc"}));
        QCOMPARE(pieces_of(tiny_bpe({"a b", "b c"}, bytes), "abc"), (std::vector<std::string>{"ab", "c"}));
        // ignore_merges: a word in the vocabulary is taken whole even when no merge path makes it.
        json whole = tiny_bpe({"a b"}, bytes);
        whole["model"]["vocab"]["abc"] = 300;
        QCOMPARE(pieces_of(whole, "abc"), (std::vector<std::string>{"ab", "c"}));
        whole["model"]["ignore_merges"] = true;
        QCOMPARE(pieces_of(whole, "abc"), (std::vector<std::string>{"abc"}));
    }

    void addedTokensStripAndWordRules() {
        const json bytes = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}};
        json t = tiny_bpe({}, bytes);
        json eot = {{"id", 400}, {"content", "<eot>"}, {"single_word", false}, {"lstrip", false}, {"rstrip", false}, {"special", true}};
        t["added_tokens"] = json::array({eot});
        QCOMPARE(pieces_of(t, "x <eot> y"), (std::vector<std::string>{"x", " ", "<eot>", " ", "y"}));
        t["added_tokens"][0]["lstrip"] = true;
        t["added_tokens"][0]["rstrip"] = true;
        QCOMPARE(pieces_of(t, "x  <eot>  y"), (std::vector<std::string>{"x", "<eot>", "y"}));
        t["added_tokens"][0]["single_word"] = true; // inside a word it is plain text
        QCOMPARE(pieces_of(t, "x<eot>y").size(), size_t(7));
        // the longest added token wins where two start at one place
        t["added_tokens"] = json::array({eot, {{"id", 401}, {"content", "<eot><eot>"}}});
        const std::string path = tmp_file("added.json");
        write_json(path, t);
        QCOMPARE(load_tokenizer(path)->encode("<eot><eot><eot>"), (std::vector<int32_t>{401, 400}));
        QCOMPARE(load_tokenizer(path)->vocab_size(), 402);
    }

    void bosComesFromTokenizerConfig() {
        const std::string dir = tmp_file("bos");
        fs::create_directories(dir);
        fs::copy_file(kTok + "/gpt2/tokenizer.json", dir + "/tokenizer.json");
        QCOMPARE(load_tokenizer(dir + "/tokenizer.json")->bos(), -1); // no tokenizer_config.json: none
        write_json(dir + "/tokenizer_config.json", {{"bos_token", {{"__type", "AddedToken"}, {"content", "<|endoftext|>"}}}});
        QCOMPARE(load_tokenizer(dir + "/tokenizer.json")->bos(), 50256);
        // and evaluation text with --add-bos starts with it
        std::ofstream(dir + "/text.txt") << "Before <|endoftext|>after"; // the golden "special" case
        TokenDataOptions opt;
        opt.add_bos = true;
        const TokenData d = load_token_data(dir + "/text.txt", 50257, dir + "/tokenizer.json", opt);
        QCOMPARE(d.tokens, (std::vector<int32_t>{50256, 8421, 220, 50256, 8499}));
        QCOMPARE(tokenizer_in_directory(dir), dir + "/tokenizer.json");
        QCOMPARE(tokenizer_in_directory(kDemo), kDemo + "/tokenizer.model");
    }

    void sentencePieceMatchesPython() {
        // Ids made by Python's sentencepiece from the demo's tokenizer.model (make_lm_goldens.py).
        const auto tok = load_tokenizer(kDemo + "/tokenizer.model");
        QCOMPARE(tok->vocab_size(), 4096);
        QCOMPARE(tok->bos(), 1);
        const json g = read_json(std::string(SPARSESCOPE_TEST_DATA) + "/lm/kjv-tokenizer.json");
        for (const auto& probe : g["probes"]) {
            const std::vector<int32_t> ids = tok->encode(probe["text"].get<std::string>());
            QCOMPARE(ids, probe["ids"].get<std::vector<int32_t>>());
            QCOMPARE(tok->decode(ids), probe["text"].get<std::string>());
        }
        const TokenData held = load_token_data(kDemo + "/kjv-heldout.txt", 4096, kDemo + "/tokenizer.model", {});
        const TokenData want = load_token_data(std::string(SPARSESCOPE_TEST_DATA) + "/lm/kjv-heldout-tokens.npy", 4096, "", {});
        QCOMPARE(held.tokens.size(), want.tokens.size());
        QVERIFY(held.tokens == want.tokens);
        TokenDataOptions bos;
        bos.add_bos = true;
        QCOMPARE(load_token_data(kDemo + "/kjv-heldout.txt", 4096, kDemo + "/tokenizer.model", bos).tokens.front(), 1);
    }

    // Found by fuzz_sentencepiece: a BYTE piece whose text is not <0xXX> threw std::invalid_argument
    // from std::stoi (a crash for the caller), and "<0x1G>"-like text parsed partially.
    void sentencePieceBytePieceMustBeHex() {
        const std::string path = std::string(SPARSESCOPE_TEST_DATA) + "/bad-tokenizers/byte-piece-not-hex.model";
        const std::string message = error_message([&] { load_tokenizer(path); });
        QVERIFY2(message.find("is of type BYTE but its text is not <0xXX> (two hex digits)") != std::string::npos, message.c_str());
        QVERIFY2(message.rfind(path, 0) == 0, message.c_str());
    }

    // Found by fuzz_tokenizer_json (a timeout): 1,154 tokens, one with id 12,582,926, made the
    // loader allocate a string for every id up to it before it reached the broken merge that
    // refuses the file. Ids are stored sparsely now; the refusal names the merge.
    void sparseVocabularyIdsAreNotAnArray() {
        const std::string message =
            error_message([&] { load_tokenizer(std::string(SPARSESCOPE_TEST_DATA) + "/bad-tokenizers/sparse-huge-id.json"); });
        QVERIFY2(message.find("model.merges[418] ('ĠA', 'm') names a token that is not in model.vocab") != std::string::npos, message.c_str());
    }

    void gzipTextIsInflated() {
        // The Jargon File ships as jargon.txt.gz: evaluation text may be a gzip of UTF-8.
        const std::string text = "And it came to pass, when the hackers had compiled the kernel.\n";
        const std::string gz = tmp_file("text.txt.gz");
        gzFile f = gzopen(gz.c_str(), "wb");
        for (int i = 0; i < 2000; ++i) gzwrite(f, text.data(), unsigned(text.size()));
        gzclose(f);
        std::ofstream(tmp_file("text.txt")) << [&] { std::string all; for (int i = 0; i < 2000; ++i) all += text; return all; }();
        const std::string tok = kDemo + "/tokenizer.model";
        const TokenData plain = load_token_data(tmp_file("text.txt"), 4096, tok, {});
        const TokenData inflated = load_token_data(gz, 4096, tok, {});
        QCOMPARE(inflated.tokens.size(), plain.tokens.size());
        QVERIFY(inflated.tokens == plain.tokens);
        // cut short: refused as truncated, naming the file
        auto bytes = test_support::read_bytes(gz);
        bytes.resize(bytes.size() / 2);
        test_support::write_bytes(tmp_file("cut.txt.gz"), bytes);
        const std::string message = error_message([&] { load_token_data(tmp_file("cut.txt.gz"), 4096, tok, {}); });
        QVERIFY2(message.find("cut.txt.gz: the gzip stream ends early") != std::string::npos, message.c_str());
    }

    void badTokenizerJsonIsRefusedByField_data() {
        QTest::addColumn<QString>("what");
        QTest::addColumn<QString>("field");
        QTest::newRow("not JSON") << "notjson" << "not valid JSON";
        QTest::newRow("Unigram model") << "unigram" << "model.type 'Unigram'";
        QTest::newRow("merge of unknown tokens") << "badmerge" << "model.merges[1]";
        QTest::newRow("merge without a space") << "badmergeform" << "model.merges[0]";
        QTest::newRow("missing byte token") << "nobyte" << "has no token for byte 65";
        QTest::newRow("duplicate id") << "dupid" << "which another token has too";
        QTest::newRow("Metaspace") << "metaspace" << "pre_tokenizer.type 'Metaspace'";
        QTest::newRow("no ByteLevel") << "nobytelevel" << "no ByteLevel step";
        QTest::newRow("Lowercase normalizer") << "lowercase" << "normalizer.type 'Lowercase'";
        QTest::newRow("bad regex") << "badregex" << "pre_tokenizer.pretokenizers[0].pattern.Regex";
        QTest::newRow("bad behavior") << "badbehavior" << "pre_tokenizer.pretokenizers[0].behavior 'Splitted'";
        QTest::newRow("dropout") << "dropout" << "model.dropout";
        QTest::newRow("byte fallback") << "bytefallback" << "model.byte_fallback";
        QTest::newRow("added token without id") << "addednoid" << "added_tokens[0]";
        QTest::newRow("vocabulary larger than the model's") << "fits" << "not this model's tokenizer";
        QTest::newRow("invalid UTF-8 text") << "utf8" << "not valid UTF-8 at byte 3";
    }
    void badTokenizerJsonIsRefusedByField() {
        QFETCH(QString, what);
        QFETCH(QString, field);
        const std::string w = what.toStdString();
        const json bytes = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}};
        json t = tiny_bpe({"a b", "c d"}, bytes);
        const json split = {{"type", "Split"}, {"pattern", {{"Regex", "\\p{N"}}}, {"behavior", "Isolated"}, {"invert", false}};
        if (w == "unigram") t["model"]["type"] = "Unigram";
        if (w == "badmerge") t["model"]["merges"][1] = "c x";
        if (w == "badmergeform") t["model"]["merges"][0] = "ab";
        if (w == "nobyte") t["model"]["vocab"].erase("A");
        if (w == "dupid") t["model"]["vocab"]["A"] = 66;
        if (w == "metaspace") t["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "\xe2\x96\x81"}};
        if (w == "nobytelevel") t["pre_tokenizer"] = {{"type", "Digits"}};
        if (w == "lowercase") t["normalizer"] = {{"type", "Lowercase"}};
        if (w == "badregex") t["pre_tokenizer"] = split_then_bytes(split);
        if (w == "badbehavior") t["pre_tokenizer"] = split_then_bytes({{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", "Splitted"}});
        if (w == "dropout") t["model"]["dropout"] = 0.1;
        if (w == "bytefallback") t["model"]["byte_fallback"] = true;
        if (w == "addednoid") t["added_tokens"] = json::array({{{"content", "<x>"}}});
        const std::string path = tmp_file(w + ".json");
        write_json(path, t);
        if (w == "notjson") std::ofstream(path) << "{\"model\": ";
        std::string message;
        if (w == "fits") {
            message = error_message([&] { check_tokenizer_fits(*load_tokenizer(path), 200); });
        } else if (w == "utf8") {
            message = error_message([&] { load_tokenizer(path)->encode("ab\x80\xc3"); });
            std::ofstream(tmp_file("bad.txt")) << "abc\xff";
            const std::string m2 = error_message([&] { load_token_data(tmp_file("bad.txt"), 300, path, {}); });
            QVERIFY2(m2.find("bad.txt") != std::string::npos && m2.find("not valid UTF-8 at byte 3") != std::string::npos, m2.c_str());
            message = m2;
        } else {
            message = error_message([&] { load_tokenizer(path); });
        }
        QVERIFY2(message.find(field.toStdString()) != std::string::npos, message.c_str());
        QVERIFY2(message.find(w + ".json") != std::string::npos || w == "utf8", message.c_str());
    }
};

QTEST_GUILESS_MAIN(TestTokenizers)
#include "test_tokenizers.moc"
