// test_safetensors.cpp - the container reader, its validation rules, and the model loader.
#include "error.h"
#include "formats/model_io.h"
#include "formats/safetensors.h"
#include "test_support.h"

#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <cstring>
#include <filesystem>

using namespace ss;

namespace {
// Builds a file from a header text and a data section.
std::vector<uint8_t> container(const std::string& header, size_t data_bytes) {
    std::vector<uint8_t> b(8 + header.size() + data_bytes, 0);
    const uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) b[size_t(i)] = uint8_t(n >> (8 * i));
    std::memcpy(b.data() + 8, header.data(), header.size());
    return b;
}

QString error_of(const std::vector<uint8_t>& bytes) {
    try {
        SafetensorsFile::parse("f.safetensors", bytes);
    } catch (const Error& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}
} // namespace

class TestSafetensors : public QObject {
    Q_OBJECT
private slots:
    void roundTripF32() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("t.safetensors").toStdString();
        const std::vector<float> a = {1.5f, -2.0f, 0.0f, 3.25f, 1e-30f, -7.0f}, b = {42.0f};
        write_safetensors(path, {{"a", DType::F32, {2, 3}, a.data()}, {"b", DType::F32, {1}, b.data()}}, {{"k", "v"}});
        const SafetensorsFile f = SafetensorsFile::read(path);
        QCOMPARE(f.entries().size(), size_t(2));
        QCOMPARE(f.metadata().at("k"), std::string("v"));
        const SafetensorsEntry* ea = f.find("a");
        QVERIFY(ea);
        QCOMPARE(ea->shape, (std::vector<int64_t>{2, 3}));
        const WeightData va = f.to_f32(*ea);
        QVERIFY(va.is_view()); // F32 at an aligned offset: no copy
        QCOMPARE(va.to_vector(), a);
        QCOMPARE(f.to_f32(*f.find("b")).to_vector(), b);
        QVERIFY(!f.find("c"));
    }

    void halfPrecisionIsExact_data() {
        QTest::addColumn<uint>("bits");
        QTest::addColumn<float>("expected");
        QTest::newRow("one") << 0x3c00u << 1.0f;
        QTest::newRow("minus two") << 0xc000u << -2.0f;
        QTest::newRow("max") << 0x7bffu << 65504.0f;
        QTest::newRow("smallest subnormal") << 0x0001u << std::ldexp(1.0f, -24);
        QTest::newRow("largest subnormal") << 0x03ffu << std::ldexp(1023.0f, -24);
        QTest::newRow("smallest normal") << 0x0400u << std::ldexp(1.0f, -14);
        QTest::newRow("infinity") << 0x7c00u << INFINITY;
    }
    void halfPrecisionIsExact() {
        QFETCH(uint, bits);
        QFETCH(float, expected);
        QCOMPARE(f16_to_f32(uint16_t(bits)), expected);
    }

    void negativeZeroAndNaN() {
        QVERIFY(std::signbit(f16_to_f32(0x8000)) && f16_to_f32(0x8000) == 0.0f);
        QVERIFY(std::isnan(f16_to_f32(0x7e00)));
        QCOMPARE(bf16_to_f32(0x3f80), 1.0f);
        QCOMPARE(bf16_to_f32(0xc0a0), -5.0f);
        QCOMPARE(bf16_to_f32(0x0001), std::ldexp(1.0f, -133)); // bf16 subnormal
    }

    void f16TensorConverts() {
        const std::string h = R"({"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})";
        auto b = container(h, 4);
        const size_t d = 8 + h.size();
        b[d] = 0x00; b[d + 1] = 0x3c;     // 1.0
        b[d + 2] = 0x00; b[d + 3] = 0xb8; // -0.5
        const auto f = SafetensorsFile::parse("f", b);
        QCOMPARE(f.to_f32(*f.find("w")).to_vector(), (std::vector<float>{1.0f, -0.5f}));
    }

    void rejectsBadContainers_data() {
        QTest::addColumn<QByteArray>("header");
        QTest::addColumn<int>("dataBytes");
        QTest::addColumn<QString>("expected");
        QTest::newRow("not json") << QByteArray("{nope") << 0 << "not valid UTF-8 JSON";
        QTest::newRow("array") << QByteArray("[1,2]") << 0 << "JSON object";
        QTest::newRow("past data") << QByteArray(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})") << 8 << "'w': data_offsets [0, 16) exceed";
        QTest::newRow("size mismatch") << QByteArray(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})") << 8 << "shape x dtype size is 12 bytes";
        QTest::newRow("overlap") << QByteArray(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})") << 8 << "overlaps";
        QTest::newRow("gap") << QByteArray(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})") << 8 << "gap in the data section";
        QTest::newRow("trailing") << QByteArray(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})") << 8 << "trailing bytes";
        QTest::newRow("dtype") << QByteArray(R"({"a":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}})") << 1 << "unknown dtype 'F8'";
        QTest::newRow("negative dim") << QByteArray(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})") << 4 << "non-negative integers";
        QTest::newRow("overflow") << QByteArray(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})") << 4 << "overflows";
        QTest::newRow("end before begin") << QByteArray(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}})") << 4 << "end 0 < begin 4";
        QTest::newRow("metadata not string") << QByteArray(R"({"__metadata__":{"k":1}})") << 0 << "string value";
    }
    void rejectsBadContainers() {
        QFETCH(QByteArray, header);
        QFETCH(int, dataBytes);
        QFETCH(QString, expected);
        const QString err = error_of(container(header.toStdString(), size_t(dataBytes)));
        QVERIFY2(err.contains(expected), qPrintable(err));
        QVERIFY2(err.startsWith("f.safetensors: "), qPrintable(err));
    }

    // The hand-made corpus in tests/data/bad-safetensors (made by make_bad_safetensors.py):
    // every file fails with the message listed in expected.tsv, naming the file.
    void rejectsCorpusOfBadFiles_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("expected");
        QFile tsv(SPARSESCOPE_TEST_DATA "/bad-safetensors/expected.tsv");
        QVERIFY(tsv.open(QIODevice::ReadOnly | QIODevice::Text));
        int rows = 0;
        while (!tsv.atEnd()) {
            const QStringList cols = QString::fromUtf8(tsv.readLine()).trimmed().split('\t');
            if (cols.size() != 2) continue;
            QTest::newRow(qPrintable(cols[0])) << cols[0] << cols[1];
            ++rows;
        }
        QVERIFY(rows >= 20);
    }
    void rejectsCorpusOfBadFiles() {
        QFETCH(QString, file);
        QFETCH(QString, expected);
        const std::string path = std::string(SPARSESCOPE_TEST_DATA "/bad-safetensors/") + file.toStdString();
        QString err;
        try {
            const SafetensorsFile f = SafetensorsFile::read(path);
            for (const auto& e : f.entries()) f.to_f32(e); // some rules apply to values
        } catch (const Error& e) {
            err = QString::fromStdString(e.what());
        }
        QVERIFY2(err.contains(expected), qPrintable(err.isEmpty() ? QStringLiteral("no error") : err));
        QVERIFY2(err.startsWith(QString::fromStdString(path) + ": "), qPrintable(err));
    }

    void everyDtypeConverts_data() {
        QTest::addColumn<QString>("dtype");
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QVector<float>>("expected");
        auto le = [](std::initializer_list<int> b) {
            QByteArray a;
            for (int v : b) a.append(char(v));
            return a;
        };
        QTest::newRow("F64") << "F64" << le({0, 0, 0, 0, 0, 0, 0xf8, 0x3f, 0, 0, 0, 0, 0, 0, 0x04, 0xc0}) << QVector<float>{1.5f, -2.5f};
        QTest::newRow("F32") << "F32" << le({0, 0, 0xc0, 0x3f, 0, 0, 0x20, 0xc0}) << QVector<float>{1.5f, -2.5f};
        QTest::newRow("F16") << "F16" << le({0x00, 0x3e, 0x00, 0xc1}) << QVector<float>{1.5f, -2.5f};
        QTest::newRow("F16 subnormal") << "F16" << le({0x01, 0x00, 0x00, 0x80}) << QVector<float>{std::ldexp(1.0f, -24), -0.0f};
        QTest::newRow("BF16") << "BF16" << le({0xc0, 0x3f, 0x20, 0xc0}) << QVector<float>{1.5f, -2.5f};
        QTest::newRow("I64") << "I64" << le({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 7, 0, 0, 0, 0, 0, 0, 0}) << QVector<float>{-1.0f, 7.0f};
        QTest::newRow("I32") << "I32" << le({0xfe, 0xff, 0xff, 0xff, 0, 1, 0, 0}) << QVector<float>{-2.0f, 256.0f};
        QTest::newRow("I16") << "I16" << le({0x00, 0x80, 0xff, 0x7f}) << QVector<float>{-32768.0f, 32767.0f};
        QTest::newRow("I8") << "I8" << le({0x81, 0x7f}) << QVector<float>{-127.0f, 127.0f};
        QTest::newRow("U8") << "U8" << le({0, 255}) << QVector<float>{0.0f, 255.0f};
        QTest::newRow("BOOL") << "BOOL" << le({1, 0}) << QVector<float>{1.0f, 0.0f};
    }
    void everyDtypeConverts() {
        QFETCH(QString, dtype);
        QFETCH(QByteArray, bytes);
        QFETCH(QVector<float>, expected);
        const std::string h = "{\"t\":{\"dtype\":\"" + dtype.toStdString() + "\",\"shape\":[2],\"data_offsets\":[0," +
                              std::to_string(bytes.size()) + "]}}";
        auto b = container(h, size_t(bytes.size()));
        std::memcpy(b.data() + 8 + h.size(), bytes.data(), size_t(bytes.size()));
        const auto f = SafetensorsFile::parse("f", b);
        const std::vector<float> got = f.to_f32(*f.find("t")).to_vector();
        QCOMPARE(got.size(), size_t(2));
        for (int i = 0; i < 2; ++i) {
            QCOMPARE(got[size_t(i)], expected[i]);
            QCOMPARE(std::signbit(got[size_t(i)]), std::signbit(expected[i]));
        }
    }

    void unalignedF32IsCopiedNotViewed() {
        // Header of odd length: the data section starts at an odd address.
        std::string h = R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
        if ((8 + h.size()) % 4 == 0) h += " ";
        auto b = container(h, 4);
        const float v = 3.25f;
        std::memcpy(b.data() + 8 + h.size(), &v, 4);
        const auto f = SafetensorsFile::parse("f", b);
        const WeightData w = f.to_f32(*f.find("w"));
        QVERIFY(w.data() != reinterpret_cast<const float*>(f.raw(*f.find("w")))); // a copy, not the unaligned bytes
        QCOMPARE(reinterpret_cast<uintptr_t>(w.data()) % alignof(float), uintptr_t(0));
        QCOMPARE(w[0], 3.25f);
    }

    void rejectsTruncatedAndHugeHeaders() {
        QVERIFY(error_of({1, 2, 3}).contains("shorter than the 8-byte"));
        auto b = container("{}", 0);
        b[0] = 0xff; // header length 255 > file
        QVERIFY(error_of(b).contains("runs past the end"));
        std::vector<uint8_t> huge(9, 0);
        huge[4] = 0x01; // 2^32 bytes, then the header's '{'
        huge[8] = '{';
        QVERIFY(error_of(huge).contains("100 MB"));
        // Bytes that are no safetensors file at all say so first, with the bytes they start with.
        std::vector<uint8_t> random{0x53, 0x51, 0x4c, 0x69, 0x74, 0x65, 0x20, 0x66, 0x6f, 0x72};
        QCOMPARE(error_of(random), QString("f.safetensors: not a safetensors file: its first 8 bytes (53 51 4c 69 74 65 20 66) are not the length of a header within the file, and no '{' follows them"));
        huge[8] = 'x';
        QVERIFY(error_of(huge).contains("not a safetensors file"));
    }

    void truncatedModelFileFailsCleanly() {
        QTemporaryDir dir;
        const std::string d = dir.filePath("m").toStdString();
        save_model_dir(test_support::tiny_moe_model(), d);
        const std::string st = d + "/model.safetensors";
        auto bytes = test_support::read_bytes(st);
        bytes.resize(bytes.size() - 10);
        test_support::write_bytes(st, bytes);
        try {
            load_model(d);
            QFAIL("truncated model loaded");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("exceed the data section"), e.what());
        }
    }

    void modelRoundTripAndSingleFile() {
        QTemporaryDir dir;
        const std::string d = dir.filePath("m").toStdString();
        const Model m = test_support::tiny_moe_model();
        save_model_dir(m, d);
        for (const std::string& path : {d, d + "/model.safetensors"}) {
            const Model r = load_model(path);
            QCOMPARE(r.parameter_count(), m.parameter_count());
            QCOMPARE(std::get<LinearWeights>(r.layers[0]).weight, std::get<LinearWeights>(m.layers[0]).weight);
            QCOMPARE(std::get<MoeLayer>(r.layers[2]).experts[2].fc2.bias, std::get<MoeLayer>(m.layers[2]).experts[2].fc2.bias);
            QCOMPARE(std::get<MoeLayer>(r.layers[2]).top_k, 2);
        }
    }

    void modelErrorsNameTheTensor() {
        QTemporaryDir dir;
        const std::string d = dir.filePath("m").toStdString();
        Model m = test_support::tiny_moe_model();
        // A config that wants more than the file has: head.weight shape mismatch.
        save_model_dir(m, d);
        const std::string cfg = d + "/config.json";
        auto text = test_support::read_bytes(cfg);
        std::string s(text.begin(), text.end());
        const auto expect_error = [&](const std::string& config, const QString& needle) {
            test_support::write_bytes(cfg, std::vector<uint8_t>(config.begin(), config.end()));
            try {
                load_model(d);
                QFAIL("bad model loaded");
            } catch (const Error& e) {
                QVERIFY2(QString(e.what()).contains(needle), e.what());
            }
        };
        std::string wider = s;
        wider.replace(wider.find("\"hidden\": 4"), 11, "\"hidden\": 5");
        expect_error(wider, "tensor 'moe.experts.0.fc1.weight' has shape [4, 3], config expects [5, 3]");
        std::string fewer = s;
        fewer.replace(fewer.find("\"experts\": 3"), 12, "\"experts\": 2");
        expect_error(fewer, "tensor 'moe.gate.weight' has shape [3, 3], config expects [2, 3]");
        // Without the head layer (and with 3 labels), head.* are extra tensors.
        nlohmann::json headless = nlohmann::json::parse(s);
        headless["layers"].erase(3);
        headless["labels"] = {"a", "b", "c"};
        expect_error(headless.dump(), "tensor 'head.bias' is not used by any layer");
        std::string bad_layer = s;
        bad_layer.replace(bad_layer.find("\"relu\""), 6, "\"swish\"");
        expect_error(bad_layer, "unknown layer type 'swish'");
        std::string bad_in = s;
        bad_in.replace(bad_in.find("\"in\": 3"), 7, "\"in\": 9");
        expect_error(bad_in, "'in' = 9 but the previous layer gives 3 features");
        std::filesystem::remove(cfg);
        try {
            load_model(d);
            QFAIL("loaded without config");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("config.json: missing"), e.what());
        }
        try {
            load_model(dir.filePath("nope").toStdString());
            QFAIL("loaded a missing path");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("no such file"), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestSafetensors)
#include "test_safetensors.moc"
