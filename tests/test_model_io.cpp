// test_model_io.cpp - model files: export round trips bit for bit, int8 storage, sharded
// weights, layernorm / gelu_tanh / dropout layers, F16 weights.
#include "compress/compression.h"
#include "model/matrices.h"
#include "error.h"
#include "model/forward.h"
#include "model/layer_norm.h"
#include "formats/file_kind.h"
#include "formats/model_config.h"
#include "formats/model_export.h"
#include "formats/model_io.h"
#include "formats/safetensors.h"
#include "formats/sha256.h"
#include "test_support.h"

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

using namespace ss;

namespace {
std::vector<float> logits_of(const Model& m, int top_k, int n) {
    std::vector<float> x(size_t(n) * m.input_features()), y(size_t(n) * m.num_classes());
    for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(float(i) * 0.61f) * 2.0f;
    ForwardWorkspace ws;
    ForwardOptions opt;
    opt.top_k_override = top_k;
    forward(m, x.data(), n, y.data(), opt, ws, nullptr);
    return y;
}

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

QString error_of(const std::function<void()>& f) { return QString::fromStdString(test_support::error_message(f)); }
} // namespace

class TestModelIo : public QObject {
    Q_OBJECT
private slots:
    void exportRoundTripIsBitExact_data() {
        QTest::addColumn<QString>("prune");
        QTest::addColumn<QString>("quant");
        QTest::addColumn<int>("topK");
        QTest::addColumn<QString>("out");
        QTest::newRow("plain, dir") << "none" << "none" << 0 << "m";
        QTest::newRow("pruned, file") << "magnitude:0.6" << "none" << 0 << "m.safetensors";
        QTest::newRow("int8, dir") << "none" << "int8" << 0 << "m";
        QTest::newRow("pruned int8 top-1, file") << "magnitude:0.5" << "int8" << 1 << "m.safetensors";
        QTest::newRow("int4 asym, dir") << "none" << "int4:g32:asym" << 0 << "m";
        QTest::newRow("2:4 + int3 g64, file") << "nm:2:4" << "int3:g64" << 0 << "m.safetensors";
        QTest::newRow("fp16, file") << "none" << "fp16" << 0 << "m.safetensors";
        QTest::newRow("bf16, dir") << "none" << "bf16" << 0 << "m";
        QTest::newRow("neurons 50 % + int2, dir") << "neurons:0.5" << "int2:g32" << 0 << "m";
    }
    void exportRoundTripIsBitExact() {
        QFETCH(QString, prune);
        QFETCH(QString, quant);
        QFETCH(int, topK);
        QFETCH(QString, out);
        QTemporaryDir dir;
        const std::string src = dir.filePath("src").toStdString();
        save_model_dir(test_support::tiny_moe_model(21), src);
        const Model source = load_model(src);
        const CompressionPlan spec = plan_from_flags(prune.toStdString(), quant.toStdString(), topK);
        const CompressedModel c = compress(source, spec);
        const std::string path = dir.filePath(out).toStdString();
        export_compressed_model(c, source, path);
        const Model back = load_model(path);
        // The reloaded model computes exactly what the compressed one does, with its own top-k.
        QVERIFY(bitwise_equal(logits_of(c.model, topK, 33), logits_of(back, 0, 33)));
        QCOMPARE(measured_sparsity(back), c.sparsity);
        QCOMPARE(weight_bytes(back), c.weight_bytes);
        // Metadata records the settings and the source hash.
        std::map<std::string, std::string> meta(back.source.metadata.begin(), back.source.metadata.end());
        QCOMPARE(meta["sparsescope.prune"], spec.prune_label());
        QCOMPARE(meta["sparsescope.quant"], spec.quant_label());
        QCOMPARE(meta["sparsescope.source_sha256"], model_source_sha256(source));
        QCOMPARE(meta["sparsescope.source_sha256"].size(), size_t(64));
        // Stored forms: int8 as I8 + F16 scales; packed codes as U8 + F16 scales; halves as F16/BF16; the rest F32.
        const std::map<QString, std::string> weight_dtype = {{"none", "F32"}, {"int8", "I8"}, {"fp16", "F16"}, {"bf16", "BF16"}};
        for (const auto& t : back.source.tensors) {
            const bool compressible = t.name.find("experts") != std::string::npos || t.name.rfind("stem.", 0) == 0 || t.name.rfind("head.", 0) == 0;
            const auto ends = [&](const char* suffix) {
                const std::string s(suffix);
                return t.name.size() > s.size() && t.name.compare(t.name.size() - s.size(), s.size(), s) == 0;
            };
            if (ends(".weight_packed") || ends(".weight_zero")) QCOMPARE(t.dtype, std::string("U8"));
            else if (ends(".weight_scale")) QCOMPARE(t.dtype, std::string("F16"));
            else if (compressible && ends(".weight") && weight_dtype.count(quant)) QCOMPARE(t.dtype, weight_dtype.at(quant));
            else QCOMPARE(t.dtype, std::string("F32"));
        }
        QCOMPARE(QString::fromStdString(back.source.metadata.empty() ? "" : meta["sparsescope.plan"]), QString::fromStdString(spec.to_json()));
    }

    void droppedExpertsExportRenumbered() {
        QTemporaryDir dir;
        const Model source = test_support::tiny_moe_model(8);
        CompressionPlan plan;
        plan.drop_expert_names = {"moe.1"};
        plan.quant = parse_quant_spec("int4:g32");
        const CompressedModel c = compress(source, plan);
        const std::string path = dir.filePath("d").toStdString();
        export_compressed_model(c, source, path);
        const Model back = load_model(path);
        QCOMPARE(back.moe_layers()[0]->experts.size(), size_t(2));
        QVERIFY(bitwise_equal(logits_of(c.model, 0, 21), logits_of(back, 0, 21)));
        for (const auto& t : back.source.tensors) QVERIFY2(t.name.find("experts.2") == std::string::npos, t.name.c_str());
    }

    void int8ExportIsAboutAQuarter() {
        QTemporaryDir dir;
        const Model m = load_model(SPARSESCOPE_RESOURCE_DIR "/models/fashion-moe");
        const std::string out = dir.filePath("q.safetensors").toStdString();
        export_compressed_model(compress(m, plan_from_flags("none", "int8", 0)), m, out);
        const double ratio = double(std::filesystem::file_size(out)) / double(m.source.bytes);
        QVERIFY2(ratio > 0.24 && ratio < 0.27, qPrintable(QString::number(ratio)));
    }

    void pruningAnInt8ModelStaysExact() {
        QTemporaryDir dir;
        const Model source = test_support::tiny_moe_model(5);
        const std::string a = dir.filePath("a").toStdString(), b = dir.filePath("b").toStdString();
        export_compressed_model(compress(source, plan_from_flags("none", "int8", 0)), source, a);
        const Model q = load_model(a);
        ss::for_each_matrix(q, [](const LinearWeights& l) { QVERIFY(l.quant && l.quant->spec.label() == "int8"); });
        const CompressedModel c = compress(q, plan_from_flags("magnitude:0.4", "none", 0));
        export_compressed_model(c, q, b);
        QVERIFY(bitwise_equal(logits_of(c.model, 0, 17), logits_of(load_model(b), 0, 17)));
    }

    void nonFiniteWeightsAreRefusedUnlessAllowed() {
        // A NaN weight made int8 turn a 9.7 % model into "82 %, +72.5 points" (issue 13): loading
        // refuses it by tensor, --allow-nonfinite loads it and says where, quantizing refuses it.
        QTemporaryDir dir;
        for (const float bad : {std::nanf(""), -INFINITY}) {
            Model m = test_support::tiny_moe_model(3);
            LinearWeights* w = find_matrix(m, "moe.experts.1.fc2");
            w->weight[5] = bad;
            w->kernels.reset();
            const std::string out = dir.filePath(std::isnan(bad) ? "nan" : "inf").toStdString();
            save_model_dir(m, out);
            const std::string err = test_support::error_message([&] { load_model(out); });
            const std::string what = std::string("tensor 'moe.experts.1.fc2.weight' element 5 is ") + (std::isnan(bad) ? "NaN" : "-inf");
            QVERIFY2(err.find(out + ": " + what) != std::string::npos && err.find("--allow-nonfinite") != std::string::npos, err.c_str());
            const Model loaded = load_model(out, true);
            QCOMPARE(loaded.nonfinite, what);
            const std::string q = test_support::error_message([&] { compress(loaded, plan_from_flags("none", "int8", 0)); });
            QVERIFY2(q.find("quantize 'moe.experts.1.fc2' to int8: the matrix holds NaN or infinite weights") != std::string::npos, q.c_str());
        }
        QVERIFY(load_model(dir.filePath("nan").toStdString(), true).nonfinite.size() > 0);
        QVERIFY(test_support::tiny_moe_model(3).nonfinite.empty());
    }

    void shardedModelLoads() {
        QTemporaryDir dir;
        const Model m = test_support::tiny_moe_model(3);
        save_model_dir(m, dir.filePath("one").toStdString());
        const Model one = load_model(dir.filePath("one").toStdString());
        // Split the tensors over two shards with an index.
        const SafetensorsFile st = SafetensorsFile::read(dir.filePath("one/model.safetensors").toStdString());
        std::vector<SafetensorsTensorOut> s1, s2;
        std::vector<std::vector<float>> keep;
        nlohmann::json index;
        for (const auto& e : st.entries()) {
            keep.push_back(st.to_f32(e).to_vector());
            const bool first = e.name.rfind("moe.experts", 0) != 0;
            (first ? s1 : s2).push_back({e.name, DType::F32, e.shape, keep.back().data()});
            index["weight_map"][e.name] = first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
        }
        const std::string d = dir.filePath("sharded").toStdString();
        std::filesystem::create_directories(d);
        write_safetensors(d + "/model-00001-of-00002.safetensors", s1, {});
        write_safetensors(d + "/model-00002-of-00002.safetensors", s2, {});
        std::filesystem::copy_file(dir.filePath("one/config.json").toStdString(), d + "/config.json");
        const std::string idx = d + "/model.safetensors.index.json";
        const std::string text = index.dump();
        test_support::write_bytes(idx, std::vector<uint8_t>(text.begin(), text.end()));
        const Model sharded = load_model(d);
        QCOMPARE(sharded.source.files.size(), size_t(2));
        QVERIFY(bitwise_equal(logits_of(one, 0, 9), logits_of(sharded, 0, 9)));

        // An index naming a tensor its shard does not hold, and a shard holding an unlisted one.
        nlohmann::json bad = index;
        bad["weight_map"]["ghost.weight"] = "model-00001-of-00002.safetensors";
        std::string t2 = bad.dump();
        test_support::write_bytes(idx, std::vector<uint8_t>(t2.begin(), t2.end()));
        QString err = error_of([&] { load_model(d); });
        QVERIFY2(err.contains("weight_map lists tensor 'ghost.weight'"), qPrintable(err));
        bad = index;
        bad["weight_map"].erase("head.bias");
        t2 = bad.dump();
        test_support::write_bytes(idx, std::vector<uint8_t>(t2.begin(), t2.end()));
        err = error_of([&] { load_model(d); });
        QVERIFY2(err.contains("tensor 'head.bias' is in model-00001-of-00002.safetensors but not in weight_map"), qPrintable(err));
        bad = index;
        bad["weight_map"]["head.bias"] = "../escape.safetensors";
        t2 = bad.dump();
        test_support::write_bytes(idx, std::vector<uint8_t>(t2.begin(), t2.end()));
        err = error_of([&] { load_model(d); });
        QVERIFY2(err.contains("must be a plain file name"), qPrintable(err));
    }

    void layerNormGeluTanhDropout() {
        const char* cfg = R"({"format": "sparsescope/classifier-v1", "name": "ln",
          "input": {"shape": [4]}, "labels": ["a", "b", "c", "d"],
          "layers": [{"type": "layernorm", "name": "ln", "dim": 4, "eps": 0.5},
                     {"type": "dropout", "p": 0.3}, {"type": "gelu_tanh"}]})";
        Model m = parse_model_config(cfg, "cfg");
        auto& ln = std::get<LayerNormLayer>(m.layers[0]);
        QCOMPARE(ln.eps, 0.5);
        ln.weight = {1.0f, 2.0f, 1.0f, 1.0f};
        ln.bias = {0.0f, 0.0f, 0.5f, 0.0f};
        // x = [1, 2, 3, 6]: mean 3, biased variance (4 + 1 + 0 + 9) / 4 = 3.5, + eps = 4 -> std 2.
        // normalized [-1, -0.5, 0, 1.5]; affine [-1, -1, 0.5, 1.5]; then gelu_tanh.
        const float x[] = {1, 2, 3, 6};
        float y[4];
        ForwardWorkspace ws;
        forward(m, x, 1, y, {}, ws, nullptr);
        auto gelu_tanh = [](double v) { return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))); };
        const double expected[] = {gelu_tanh(-1), gelu_tanh(-1), gelu_tanh(0.5), gelu_tanh(1.5)};
        for (int i = 0; i < 4; ++i) QVERIFY2(std::fabs(y[i] - expected[i]) < 1e-6, qPrintable(QString::number(i)));
        // Round trip through the config text keeps every field.
        const Model again = parse_model_config(model_config_json(m), "again");
        QCOMPARE(std::get<LayerNormLayer>(again.layers[0]).eps, 0.5);
        QCOMPARE(std::get<DropoutLayer>(again.layers[1]).p, 0.3);
        QCOMPARE(std::get<ActivationLayer>(again.layers[2]).kind, Activation::GeluTanh);
    }

    void f16WeightsLoadExactly() {
        QTemporaryDir dir;
        const char* cfg = R"({"format": "sparsescope/classifier-v1", "name": "h", "input": {"shape": [2]},
          "labels": ["a", "b"], "layers": [{"type": "linear", "name": "fc", "in": 2, "out": 2}]})";
        const uint16_t w[] = {0x3c00, 0xc000, 0x0001, 0x3800}; // 1, -2, 2^-24, 0.5
        const uint16_t b[] = {0x0000, 0x4200};                  // 0, 3
        const std::string path = dir.filePath("h.safetensors").toStdString();
        write_safetensors(path, {{"fc.weight", DType::F16, {2, 2}, w}, {"fc.bias", DType::F16, {2}, b}}, {{"config", cfg}});
        const Model m = load_model(path);
        const auto& l = std::get<LinearWeights>(m.layers[0]);
        QCOMPARE(l.weight.to_vector(), (std::vector<float>{1.0f, -2.0f, std::ldexp(1.0f, -24), 0.5f}));
        QCOMPARE(l.bias.to_vector(), (std::vector<float>{0.0f, 3.0f}));
        QCOMPARE(m.source.tensors[0].dtype, std::string("F16"));
    }

    void integerWeightsNeedAnInt8Config() {
        QTemporaryDir dir;
        const char* cfg = R"({"format": "sparsescope/classifier-v1", "name": "i", "input": {"shape": [2]},
          "labels": ["a", "b"], "layers": [{"type": "linear", "name": "fc", "in": 2, "out": 2}]})";
        const int8_t w[] = {1, 2, 3, 4};
        const float b[] = {0, 0};
        const std::string path = dir.filePath("i.safetensors").toStdString();
        write_safetensors(path, {{"fc.weight", DType::I8, {2, 2}, w}, {"fc.bias", DType::F32, {2}, b}}, {{"config", cfg}});
        const QString err = error_of([&] { load_model(path); });
        QVERIFY2(err.contains("tensor 'fc.weight' has dtype I8; weights must be F32, F16, BF16 or F64"), qPrintable(err));
    }

    void sha256KnownVectors() {
        QCOMPARE(sha256_hex("", 0), std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
        QCOMPARE(sha256_hex("abc", 3), std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        QCOMPARE(sha256_hex(two_blocks.data(), two_blocks.size()),
                 std::string("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
        Sha256 h; // a million 'a', fed in uneven pieces
        const std::string chunk(997, 'a');
        size_t left = 1000000;
        while (left) {
            const size_t n = std::min(left, chunk.size());
            h.update(chunk.data(), n);
            left -= n;
        }
        QCOMPARE(h.finish_hex(), std::string("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
    }

    // A path is told by its bytes, never its name: what a file manager passes is opened as what
    // it is, and a loader that refuses a file can say what it looks like.
    void fileKindsByContent() {
        QTemporaryDir dir;
        const std::string d = dir.path().toStdString();
        auto copy = [&](const std::string& from, const std::string& name) {
            std::filesystem::copy_file(from, d + "/" + name);
            return d + "/" + name;
        };
        auto write = [&](const std::string& name, const std::string& bytes) {
            std::ofstream(d + "/" + name, std::ios::binary) << bytes;
            return d + "/" + name;
        };
        const std::string res = SPARSESCOPE_RESOURCE_DIR, data = SPARSESCOPE_TEST_DATA, fix = SPARSESCOPE_FIXTURES;
        QCOMPARE(detect_file_kind(copy(fix + "/session-v7.sparsescope", "run.sparsescope")), FileKind::Session);
        QCOMPARE(detect_file_kind(copy(fix + "/session-v1.sparsescope", "session.safetensors")), FileKind::Session); // renamed
        QCOMPARE(detect_file_kind(copy(data + "/torch/mlp.safetensors", "weights.bin")), FileKind::Safetensors);
        QCOMPARE(detect_file_kind(copy(data + "/torch/mlp.onnx", "model")), FileKind::Onnx);
        QCOMPARE(detect_file_kind(write("labels", std::string("\x1f\x8b\x08\0\0\0\0\0\0\x03", 10))), FileKind::Gzip);
        QCOMPARE(detect_file_kind(write("raw-idx", std::string("\0\0\x08\x01\0\0\0\x02\x01\x02", 10))), FileKind::Idx);
        QCOMPARE(detect_file_kind(write("a.npy", std::string("\x93NUMPY\x01\0", 8))), FileKind::Npy);
        QCOMPARE(detect_file_kind(write("a.gguf", "GGUF\x03\0\0\0")), FileKind::Gguf);
        QCOMPARE(detect_file_kind(copy(res + "/models/kjv-moe/kjv-heldout.txt", "heldout")), FileKind::Text);
        QCOMPARE(detect_file_kind(write("random", std::string("\x01\xff\0\x13\x37\x99\0\0\x42\x11\x7f", 11))), FileKind::Unknown);
        // A header length that does not fit the file is no safetensors file, even with its '{'.
        QCOMPARE(detect_file_kind(write("short.safetensors", std::string("\xff\0\0\0\0\0\0\0{}", 10))), FileKind::Unknown);
        QCOMPARE(detect_file_kind(write("empty", "")), FileKind::Unknown);
        QCOMPARE(detect_file_kind(d + "/nope"), FileKind::Missing);
        QCOMPARE(detect_file_kind(res + "/models/fashion-moe"), FileKind::ModelDirectory);
        std::filesystem::create_directory(d + "/other");
        write("other/notes.txt", "notes");
        QCOMPARE(detect_file_kind(d + "/other"), FileKind::OtherDirectory);
        std::filesystem::create_directory(d + "/fashion");
        write("fashion/t10k-labels-idx1-ubyte.gz", "");
        QCOMPARE(detect_file_kind(d + "/fashion"), FileKind::DatasetDirectory);
        QVERIFY(::mkfifo((d + "/fifo").c_str(), 0600) == 0);
        QCOMPARE(detect_file_kind(d + "/fifo"), FileKind::NotRegular); // not opened: reading it would block
        QCOMPARE(open_role(FileKind::Session), OpenRole::Session);
        QCOMPARE(open_role(FileKind::Onnx), OpenRole::Model);
        QCOMPARE(open_role(FileKind::Gzip), OpenRole::Dataset);
        QCOMPARE(open_role(FileKind::Unknown), OpenRole::None);
        // The safetensors loader names a session given to it as a model.
        try {
            (void)load_model(fix + "/session-v7.sparsescope");
            QFAIL("a session loaded as a model");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("not a safetensors file") && QString(e.what()).contains("it looks like a SparseScope session"), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestModelIo)
#include "test_model_io.moc"
