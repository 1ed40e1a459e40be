// test_compression.cpp - global magnitude pruning hits the requested count exactly; int8 error
// bounds; weight bytes; the original model is never modified.
#include "compression.h"
#include "error.h"
#include "prune_magnitude.h"
#include "quantize_int8.h"
#include "test_support.h"

#include <QtTest>

#include <cmath>

using namespace ss;

namespace {
int64_t compressible_count(const Model& m) {
    int64_t n = 0;
    for_each_compressible_linear(m, [&](const LinearWeights& l) { n += int64_t(l.weight.size()); });
    return n;
}
int64_t compressible_zeros(const Model& m) {
    int64_t n = 0;
    for_each_compressible_linear(m, [&](const LinearWeights& l) {
        for (float w : l.weight) n += w == 0.0f;
    });
    return n;
}
} // namespace

class TestCompression : public QObject {
    Q_OBJECT
private slots:
    void pruneHitsSparsityExactly_data() {
        QTest::addColumn<double>("sparsity");
        for (double s : {0.0, 0.1, 0.25, 0.5, 0.73, 0.9, 1.0}) QTest::newRow(qPrintable(QString::number(s))) << s;
    }
    void pruneHitsSparsityExactly() {
        QFETCH(double, sparsity);
        const Model original = test_support::tiny_moe_model(11);
        const CompressedModel c = compress(original, {PruneMethod::Magnitude, sparsity, QuantKind::None, 0});
        const int64_t total = compressible_count(c.model);
        QCOMPARE(compressible_zeros(c.model), std::llround(sparsity * double(total)));
        QCOMPARE(c.sparsity, double(std::llround(sparsity * double(total))) / double(total));
        // Gates and biases are never pruned; the original keeps its weights.
        const auto& moe = std::get<MoeLayer>(c.model.layers[2]);
        QCOMPARE(moe.gate.weight, std::get<MoeLayer>(original.layers[2]).gate.weight);
        QCOMPARE(std::get<LinearWeights>(c.model.layers[0]).bias, std::get<LinearWeights>(original.layers[0]).bias);
        QCOMPARE(compressible_zeros(original), int64_t(0));
    }

    void pruneRemovesSmallestFirstAcrossLayers() {
        Model m = test_support::tiny_moe_model(5);
        std::vector<float> mags;
        for_each_compressible_linear(m, [&](const LinearWeights& l) {
            for (float w : l.weight) mags.push_back(std::fabs(w));
        });
        std::sort(mags.begin(), mags.end());
        const int64_t k = prune_magnitude_global(m, 0.4);
        // Every surviving weight is at least as large as every pruned one.
        QVERIFY(k > 0);
        for_each_compressible_linear(m, [&](const LinearWeights& l) {
            for (float w : l.weight)
                if (w != 0.0f) QVERIFY(std::fabs(w) >= mags[size_t(k - 1)]);
        });
    }

    void pruneBreaksTiesToExactCount() {
        Model m = test_support::tiny_moe_model(5);
        for_each_compressible_linear(m, [](LinearWeights& l) { std::fill(l.weight.begin(), l.weight.end(), 0.5f); });
        prune_magnitude_global(m, 0.3);
        QCOMPARE(compressible_zeros(m), std::llround(0.3 * double(compressible_count(m))));
    }

    void pruneRejectsOutOfRange() {
        Model m = test_support::tiny_moe_model();
        QVERIFY_THROWS_EXCEPTION(Error, prune_magnitude_global(m, 1.5));
        QVERIFY_THROWS_EXCEPTION(Error, prune_magnitude_global(m, -0.1));
    }

    void int8ErrorBoundPerChannel() {
        LinearWeights l;
        l.in = 5;
        l.out = 3;
        l.weight = {0.10f, -0.50f, 0.25f, 0.0f, 0.49f,   // max 0.5 -> scale 0.5 / 127
                    0.0f, 0.0f, 0.0f, 0.0f, 0.0f,        // zero row
                    -3.0f, 1.0f, 2.9f, -0.01f, 0.333f};  // max 3 -> scale 3 / 127
        const Int8Weights q = quantize_int8_per_channel(l);
        QCOMPARE(q.scale[0], 0.5f / 127.0f);
        QCOMPARE(q.scale[1], 0.0f);
        QCOMPARE(q.q[1], int8_t(-127)); // the largest magnitude maps to the end of the range
        QCOMPARE(q.q[10], int8_t(-127));
        QCOMPARE(q.q[0], int8_t(25));   // 0.1 / (0.5/127) = 25.4 -> 25
        const std::vector<float> deq = dequantize_int8(q, 3, 5);
        for (int o = 0; o < 3; ++o)
            for (int i = 0; i < 5; ++i) {
                const size_t k = size_t(o) * 5 + i;
                QVERIFY2(std::fabs(deq[k] - l.weight[k]) <= q.scale[size_t(o)] / 2 * (1 + 1e-6f), qPrintable(QString::number(k)));
            }
        for (int i = 5; i < 10; ++i) QCOMPARE(deq[size_t(i)], 0.0f);
    }

    void int8KeepsPrunedZerosAndCountsBytes() {
        const Model original = test_support::tiny_moe_model(2);
        const CompressedModel c = compress(original, {PruneMethod::Magnitude, 0.5, QuantKind::Int8, 0});
        QCOMPARE(compressible_zeros(c.model), std::llround(0.5 * double(compressible_count(original))));
        // fp32 bytes minus 3 bytes per compressible weight plus a 4-byte scale per output row.
        int64_t rows = 0;
        for_each_compressible_linear(original, [&](const LinearWeights& l) { rows += l.out; });
        QCOMPARE(c.weight_bytes, original.parameter_count() * 4 - compressible_count(original) * 3 + rows * 4);
        QCOMPARE(compress(original, {}).weight_bytes, original.parameter_count() * 4);
    }

    void parsesOptions() {
        CompressionSpec s;
        parse_prune_option(s, "magnitude:0.25");
        QCOMPARE(s.sparsity, 0.25);
        QCOMPARE(s.prune_label(), std::string("magnitude:0.25"));
        parse_quant_option(s, "int8");
        QCOMPARE(s.quant_label(), std::string("int8"));
        QVERIFY_THROWS_EXCEPTION(Error, parse_prune_option(s, "magnitude:1.2"));
        QVERIFY_THROWS_EXCEPTION(Error, parse_prune_option(s, "magnitude:"));
        QVERIFY_THROWS_EXCEPTION(Error, parse_prune_option(s, "random:0.5"));
        QVERIFY_THROWS_EXCEPTION(Error, parse_quant_option(s, "int3"));
    }
};

QTEST_GUILESS_MAIN(TestCompression)
#include "test_compression.moc"
