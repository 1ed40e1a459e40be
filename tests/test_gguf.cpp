// test_gguf.cpp - GGUF export, read back by a reader written here from the GGUF specification
// (ggml's docs/gguf.md), sharing no code with the writer: header, metadata, tensor table,
// alignment, and the Q8_0 / Q4_0 / F16 blocks decoded by this file's own code.
#include "compress/compression.h"
#include "compress/compression_plan.h"
#include "error.h"
#include "formats/ggml_blocks.h"
#include "formats/gguf_export.h"
#include "formats/model_io.h"
#include "formats/safetensors.h"
#include "kernels/prepared_matrix.h"
#include "test_support.h"

#include <QtTest>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <variant>

using namespace ss;

namespace {

const std::string kLm = std::string(SPARSESCOPE_TEST_DATA) + "/lm";
const std::string kDemo = std::string(SPARSESCOPE_RESOURCE_DIR) + "/models/kjv-moe";

// ---- an independent GGUF reader --------------------------------------------------------------
struct Value {
    uint32_t type = 0;
    std::variant<uint64_t, int64_t, double, bool, std::string> scalar;
    uint32_t elem_type = 0;
    std::vector<Value> array;
};
struct TensorInfo {
    std::vector<uint64_t> ne;
    uint32_t type = 0;
    uint64_t offset = 0;
};
struct GgufFile {
    uint32_t version = 0;
    std::map<std::string, Value> kv;
    std::vector<std::string> order; // tensor names in file order
    std::map<std::string, TensorInfo> tensors;
    uint64_t data_start = 0;
    std::vector<uint8_t> bytes;
    const uint8_t* data(const std::string& name) const { return bytes.data() + data_start + tensors.at(name).offset; }
};

struct Cursor {
    const std::vector<uint8_t>& b;
    size_t at = 0;
    template <class T>
    T get() {
        if (at + sizeof(T) > b.size()) throw std::runtime_error("GGUF read past the end");
        T v;
        std::memcpy(&v, b.data() + at, sizeof(T));
        at += sizeof(T);
        return v;
    }
    std::string str() {
        const uint64_t n = get<uint64_t>();
        if (at + n > b.size()) throw std::runtime_error("GGUF string past the end");
        std::string s(reinterpret_cast<const char*>(b.data() + at), n);
        at += n;
        return s;
    }
    Value value(uint32_t type) {
        Value v;
        v.type = type;
        switch (type) {
        case 0: v.scalar = uint64_t(get<uint8_t>()); break;
        case 1: v.scalar = int64_t(get<int8_t>()); break;
        case 2: v.scalar = uint64_t(get<uint16_t>()); break;
        case 3: v.scalar = int64_t(get<int16_t>()); break;
        case 4: v.scalar = uint64_t(get<uint32_t>()); break;
        case 5: v.scalar = int64_t(get<int32_t>()); break;
        case 6: v.scalar = double(get<float>()); break;
        case 7: v.scalar = get<uint8_t>() != 0; break;
        case 8: v.scalar = str(); break;
        case 9: {
            v.elem_type = get<uint32_t>();
            const uint64_t n = get<uint64_t>();
            for (uint64_t i = 0; i < n; ++i) v.array.push_back(value(v.elem_type));
            break;
        }
        case 10: v.scalar = get<uint64_t>(); break;
        case 11: v.scalar = get<int64_t>(); break;
        case 12: v.scalar = get<double>(); break;
        default: throw std::runtime_error("GGUF value type " + std::to_string(type));
        }
        return v;
    }
};

GgufFile read_gguf(const std::string& path) {
    GgufFile f;
    std::ifstream in(path, std::ios::binary);
    f.bytes.assign(std::istreambuf_iterator<char>(in), {});
    Cursor c{f.bytes};
    if (c.get<uint32_t>() != 0x46554747u) throw std::runtime_error("not GGUF"); // "GGUF" little endian
    f.version = c.get<uint32_t>();
    const uint64_t tensors = c.get<uint64_t>(), kvs = c.get<uint64_t>();
    for (uint64_t i = 0; i < kvs; ++i) {
        std::string key = c.str();
        const uint32_t type = c.get<uint32_t>();
        f.kv[key] = c.value(type);
    }
    for (uint64_t i = 0; i < tensors; ++i) {
        std::string name = c.str();
        TensorInfo t;
        const uint32_t dims = c.get<uint32_t>();
        for (uint32_t d = 0; d < dims; ++d) t.ne.push_back(c.get<uint64_t>());
        t.type = c.get<uint32_t>();
        t.offset = c.get<uint64_t>();
        f.order.push_back(name);
        f.tensors[name] = t;
    }
    uint64_t alignment = 32;
    if (f.kv.count("general.alignment")) alignment = std::get<uint64_t>(f.kv["general.alignment"].scalar);
    f.data_start = (c.at + alignment - 1) / alignment * alignment;
    return f;
}

uint64_t u(const GgufFile& f, const std::string& k) { return std::get<uint64_t>(f.kv.at(k).scalar); }
std::string s(const GgufFile& f, const std::string& k) { return std::get<std::string>(f.kv.at(k).scalar); }
double d(const GgufFile& f, const std::string& k) { return std::get<double>(f.kv.at(k).scalar); }

float half(const uint8_t* p) { // IEEE binary16 -> float, by its definition
    const uint16_t h = uint16_t(p[0] | (p[1] << 8));
    const int sign = h >> 15, exp = (h >> 10) & 31, frac = h & 1023;
    const double v = exp == 0 ? std::ldexp(frac, -24) : exp == 31 ? (frac ? NAN : INFINITY) : std::ldexp(1024 + frac, exp - 25);
    return float(sign ? -v : v);
}

// Row r (of ne[0] values) of a tensor, decoded by the block definitions.
std::vector<float> row(const GgufFile& f, const std::string& name, uint64_t r) {
    const TensorInfo& t = f.tensors.at(name);
    const uint64_t n = t.ne[0];
    std::vector<float> out(n);
    const uint8_t* p = f.data(name);
    switch (t.type) {
    case 0: std::memcpy(out.data(), p + r * n * 4, n * 4); break;
    case 1:
        for (uint64_t i = 0; i < n; ++i) out[i] = half(p + (r * n + i) * 2);
        break;
    case 8: // Q8_0: 34 bytes per 32
        for (uint64_t b = 0; b < n / 32; ++b) {
            const uint8_t* blk = p + (r * (n / 32) + b) * 34;
            for (int j = 0; j < 32; ++j) out[b * 32 + j] = half(blk) * float(int8_t(blk[2 + j]));
        }
        break;
    case 2: // Q4_0: 18 bytes per 32, value j in the low nibble of byte j, j + 16 in its high nibble
        for (uint64_t b = 0; b < n / 32; ++b) {
            const uint8_t* blk = p + (r * (n / 32) + b) * 18;
            for (int j = 0; j < 16; ++j) {
                out[b * 32 + j] = half(blk) * float(int(blk[2 + j] & 15) - 8);
                out[b * 32 + j + 16] = half(blk) * float(int(blk[2 + j] >> 4) - 8);
            }
        }
        break;
    default: throw std::runtime_error("type " + std::to_string(t.type));
    }
    return out;
}

std::string temp_path(const char* name) { return (std::filesystem::temp_directory_path() / (std::string("ss-gguf-") + name)).string(); }

const DecoderBlock& block(const Model& m, int i) {
    int k = 0;
    for (const Layer& l : m.layers)
        if (const auto* b = std::get_if<DecoderBlock>(&l); b && k++ == i) return *b;
    throw Error("no block");
}

} // namespace

class TestGguf : public QObject {
    Q_OBJECT
private slots:
    void denseDemoReadsBack() {
        const Model m = load_model(kDemo);
        const std::string out = temp_path("kjv.gguf");
        const auto types = export_gguf(m, out, {});
        QCOMPARE(types.size(), size_t(1));
        QCOMPARE(types[0], std::string("F32: 43 tensors")); // embed, 4 x (2 norms, q, k, v, o, router, 3 stacks), norm, output
        const GgufFile f = read_gguf(out);
        QCOMPARE(f.version, 3u);
        QCOMPARE(s(f, "general.architecture"), std::string("llama"));
        QCOMPARE(u(f, "llama.block_count"), uint64_t(4));
        QCOMPARE(u(f, "llama.embedding_length"), uint64_t(256));
        QCOMPARE(u(f, "llama.attention.head_count"), uint64_t(8));
        QCOMPARE(u(f, "llama.attention.head_count_kv"), uint64_t(4));
        QCOMPARE(u(f, "llama.rope.dimension_count"), uint64_t(32));
        QCOMPARE(u(f, "llama.expert_count"), uint64_t(8));
        QCOMPARE(u(f, "llama.expert_used_count"), uint64_t(2));
        QCOMPARE(u(f, "llama.context_length"), uint64_t(1024));
        QCOMPARE(d(f, "llama.rope.freq_base"), 10000.0);
        QCOMPARE(float(d(f, "llama.attention.layer_norm_rms_epsilon")), 1e-5f);
        QCOMPARE(u(f, "general.file_type"), uint64_t(0));
        // The tokenizer: SentencePiece pieces, scores and types, 4096 of each.
        QCOMPARE(s(f, "tokenizer.ggml.model"), std::string("llama"));
        const Value& tokens = f.kv.at("tokenizer.ggml.tokens");
        QCOMPARE(tokens.elem_type, 8u);
        QCOMPARE(tokens.array.size(), size_t(4096));
        QCOMPARE(std::get<std::string>(tokens.array[2093].scalar), std::string("\xe2\x96\x81" "beginning"));
        QCOMPARE(f.kv.at("tokenizer.ggml.scores").array.size(), size_t(4096));
        QCOMPARE(f.kv.at("tokenizer.ggml.token_type").elem_type, 5u);
        QCOMPARE(u(f, "tokenizer.ggml.bos_token_id"), uint64_t(1));
        QCOMPARE(u(f, "tokenizer.ggml.eos_token_id"), uint64_t(2));
        // Tensor table: llama.cpp's names, ne[0] the row length, offsets aligned and in order, the
        // last tensor ending at the end of the file (up to padding).
        QCOMPARE(f.order.front(), std::string("token_embd.weight"));
        QCOMPARE(f.order.back(), std::string("output.weight"));
        QCOMPARE(f.tensors.at("token_embd.weight").ne, (std::vector<uint64_t>{256, 4096}));
        QCOMPARE(f.tensors.at("blk.0.attn_k.weight").ne, (std::vector<uint64_t>{256, 128}));
        QCOMPARE(f.tensors.at("blk.3.ffn_gate_exps.weight").ne, (std::vector<uint64_t>{256, 256, 8}));
        QCOMPARE(f.tensors.at("blk.3.ffn_down_exps.weight").ne, (std::vector<uint64_t>{256, 256, 8}));
        QCOMPARE(f.tensors.at("blk.1.ffn_gate_inp.weight").ne, (std::vector<uint64_t>{256, 8}));
        QCOMPARE(f.data_start % 32, uint64_t(0));
        uint64_t end = 0;
        for (const auto& name : f.order) {
            const TensorInfo& t = f.tensors.at(name);
            QCOMPARE(t.offset % 32, uint64_t(0));
            QVERIFY2(t.offset >= end, name.c_str());
            uint64_t n = 4;
            for (uint64_t x : t.ne) n *= x;
            end = t.offset + n;
        }
        QVERIFY(f.bytes.size() >= f.data_start + end && f.bytes.size() < f.data_start + end + 32);
        // Values: embeddings and expert rows as they are; q and k rows in llama.cpp's rope order:
        // within each head, Hugging Face keeps pair (i, i + hd/2), llama.cpp (2i, 2i + 1).
        const LinearWeights& table = std::get<EmbeddingLayer>(m.layers[0]).table;
        QCOMPARE(row(f, "token_embd.weight", 2093), std::vector<float>(table.weight.data() + 2093 * 256, table.weight.data() + 2094 * 256));
        const DecoderBlock& b2 = block(m, 2);
        const int hd = 32;
        for (int r : {0, 1, 2, 31, 32, 33, 100, 127}) {
            const int h = r / hd, j = r % hd;
            const int hf_row = h * hd + (j % 2 == 0 ? j / 2 : hd / 2 + j / 2);
            const std::vector<float> want(b2.attn.k.weight.data() + size_t(hf_row) * 256, b2.attn.k.weight.data() + size_t(hf_row + 1) * 256);
            QCOMPARE(row(f, "blk.2.attn_k.weight", r), want);
        }
        const std::vector<float> v5(b2.attn.v.weight.data() + 5 * 256, b2.attn.v.weight.data() + 6 * 256);
        QCOMPARE(row(f, "blk.2.attn_v.weight", 5), v5);
        // Expert 3's row 7 of up_proj sits at row 3 * 256 + 7 of the stack.
        const LinearWeights& up = b2.moe.experts[3].up;
        QCOMPARE(row(f, "blk.2.ffn_up_exps.weight", 3 * 256 + 7), std::vector<float>(up.weight.data() + 7 * 256, up.weight.data() + 8 * 256));
        std::filesystem::remove(out);
    }

    void compressedWeightsKeepTheirValues_data() {
        QTest::addColumn<QString>("prune");
        QTest::addColumn<QString>("quant");
        QTest::addColumn<int>("type");
        QTest::newRow("int8 -> Q8_0") << "none" << "int8" << 8;
        QTest::newRow("int4:g32 -> Q4_0") << "none" << "int4:g32" << 2;
        QTest::newRow("2:4 + int4:g64 -> Q4_0") << "nm:2:4" << "int4:g64" << 2;
        QTest::newRow("int3:g32 -> Q4_0") << "none" << "int3:g32" << 2;
        QTest::newRow("magnitude 50 %, fp32") << "magnitude:0.5" << "none" << 0;
    }
    void compressedWeightsKeepTheirValues() {
        QFETCH(QString, prune);
        QFETCH(QString, quant);
        QFETCH(int, type);
        const Model m = load_model(kDemo);
        const CompressedModel c = compress(m, plan_from_flags(prune.toStdString(), quant.toStdString(), 0));
        const std::string out = temp_path("compressed.gguf");
        export_gguf(c.model, out, {});
        const GgufFile f = read_gguf(out);
        const DecoderBlock& b = block(c.model, 1);
        // Every expert weight of block 1, bit for bit; the pruned zeros stay zeros.
        const auto& t = f.tensors.at("blk.1.ffn_down_exps.weight");
        QCOMPARE(int(t.type), type);
        int64_t zeros = 0, model_zeros = 0;
        for (int e = 0; e < 8; ++e) {
            const std::vector<float> w = dense_weights(b.moe.experts[size_t(e)].fc2);
            for (int r = 0; r < 256; ++r) {
                const std::vector<float> got = row(f, "blk.1.ffn_down_exps.weight", uint64_t(e) * 256 + uint64_t(r));
                QVERIFY2(std::memcmp(got.data(), w.data() + size_t(r) * 256, 256 * sizeof(float)) == 0, qPrintable(QString("expert %1 row %2").arg(e).arg(r)));
                for (int i = 0; i < 256; ++i) {
                    zeros += got[size_t(i)] == 0.0f;
                    model_zeros += w[size_t(r) * 256 + size_t(i)] == 0.0f;
                }
            }
        }
        QCOMPARE(zeros, model_zeros);
        if (prune != "none") QVERIFY(zeros >= 8 * 256 * 256 / 2);
        // q keeps its values too, through the permutation.
        const std::vector<float> q = dense_weights(b.attn.q);
        const std::vector<float> q0 = row(f, "blk.1.attn_q.weight", 1); // llama.cpp row 1 = Hugging Face row hd/2
        QVERIFY(std::memcmp(q0.data(), q.data() + size_t(16) * 256, 256 * sizeof(float)) == 0);
        // Norms stay F32 and the file type says F32 for the rest.
        QCOMPARE(f.tensors.at("blk.1.attn_norm.weight").type, 0u);
        std::filesystem::remove(out);
    }

    void ggmlRoundingOfDenseWeights() {
        // --quant q8_0 / q4_0 on a dense model: ggml's reference rounding, checked here by its definition.
        const float x[32] = {0.5f, -1.0f, 0.25f, 0.0f, 0.126f, -0.37f, 0.99f, 0.01f, 0.3f, -0.3f, 0.7f, -0.6f, 0.2f, 0.1f, -0.05f, 0.8f,
                             -0.9f, 0.45f, 0.55f, -0.15f, 0.65f, -0.75f, 0.35f, 0.15f, -0.25f, 0.05f, 0.95f, -0.85f, 0.6f, -0.4f, 0.4f, -0.2f};
        std::vector<uint8_t> q8, q4;
        ggml_encode_row(GgmlType::Q8_0, x, 32, q8);
        ggml_encode_row(GgmlType::Q4_0, x, 32, q4);
        QCOMPARE(q8.size(), size_t(34));
        QCOMPARE(q4.size(), size_t(18));
        QCOMPARE(half(q8.data()), float(f16_to_f32(f32_to_f16(1.0f / 127.0f))));
        QCOMPARE(int(int8_t(q8[2 + 1])), -127);
        QCOMPARE(int(int8_t(q8[2])), 64);  // 0.5 * 127 = 63.5 rounds away from zero
        QCOMPARE(int(int8_t(q8[2 + 4])), 16); // 0.126 * 127 = 16.002
        // Q4_0: the largest magnitude is -1.0, so d = -1 / -8 = 0.125 and -1.0 -> q = 0.
        QCOMPARE(half(q4.data()), 0.125f);
        QCOMPARE(int(q4[2 + 1] & 15), 0);
        QCOMPARE(int(q4[2] & 15), 12);      // 0.5 / 0.125 + 8.5 = 12.5 -> 12
        QCOMPARE(int(q4[2 + 6] & 15), 15);  // 0.99 / 0.125 + 8.5 = 16.42 -> clamped to 15
        QCOMPARE(int(q4[2] >> 4), 1);       // x[16] = -0.9: -7.2 + 8.5 = 1.3 -> 1
        // And ggml_decode_row agrees with this file's decoder.
        std::vector<float> back(32);
        ggml_decode_row(GgmlType::Q4_0, q4.data(), 32, back.data());
        QCOMPARE(back[0], 0.5f);
        QCOMPARE(back[1], -1.0f);
        QCOMPARE(back[6], 0.875f);
    }

    void refusesWhatLlamaCannotRun() {
        const std::string out = temp_path("refused.gguf");
        std::filesystem::remove(out);
        auto message = [&](const Model& m, GgufExportOptions o = {}) {
            try {
                export_gguf(m, out, o);
            } catch (const Error& e) {
                return std::string(e.what());
            }
            return std::string();
        };
        // A classifier, GraniteMoE's multipliers, asymmetric codes, Q4_0 on rows of 48 values.
        QVERIFY(message(test_support::tiny_moe_model(1)).find("is not a language model") != std::string::npos);
        QVERIFY(message(load_model(kLm + "/granitemoe")).find("multiplier") != std::string::npos);
        const CompressedModel asym = compress(load_model(kDemo), plan_from_flags("none", "int4:g32:asym", 0));
        QVERIFY(message(asym.model).find("asymmetric zero points") != std::string::npos);
        GgufExportOptions q4;
        q4.dense_type = GgmlType::Q4_0;
        QVERIFY(message(load_model(kLm + "/mixtral"), q4).find("rows of 48 values") != std::string::npos);
        QVERIFY(!std::filesystem::exists(out));
        QVERIFY(!std::filesystem::exists(out + ".tmp"));
        // The dense Llama layout (no experts): ffn_gate / ffn_up / ffn_down, no expert keys.
        const std::string llama = temp_path("llama.gguf");
        export_gguf(load_model(kLm + "/llama"), llama, {});
        const GgufFile f = read_gguf(llama);
        QVERIFY(f.tensors.count("blk.0.ffn_gate.weight") && f.tensors.count("blk.1.ffn_down.weight"));
        QVERIFY(!f.kv.count("llama.expert_count"));
        QCOMPARE(s(f, "tokenizer.ggml.model"), std::string("llama")); // placeholder pieces: the test model has no tokenizer
        const Value& pieces = f.kv.at("tokenizer.ggml.tokens");
        QCOMPARE(std::get<std::string>(pieces.array[3 + 10].scalar), std::string("<0x0A>")); // llama.cpp looks up the newline byte
        QCOMPARE(std::get<int64_t>(f.kv.at("tokenizer.ggml.token_type").array[3 + 10].scalar), int64_t(6));
        QCOMPARE(pieces.array.size(), size_t(256));
        std::filesystem::remove(llama);
    }
};

QTEST_GUILESS_MAIN(TestGguf)
#include "test_gguf.moc"
