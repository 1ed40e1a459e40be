// test_lm_baseline.cpp - a language model evaluated without its dense form in memory: 16-bit
// matrices deferred in the mapping (converted when compression reads them, dropped after), and the
// dense model's distributions and speed from the baseline cache instead of a side-by-side run.
#include "compress/compression.h"
#include "data/token_data.h"
#include "eval/lm_baseline_cache.h"
#include "eval/lm_evaluate.h"
#include "formats/file_io.h"
#include "formats/model_io.h"
#include "model/matrices.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <cstring>
#include <filesystem>

using namespace ss;
namespace fs = std::filesystem;

namespace {
const std::string kDemo = std::string(SPARSESCOPE_RESOURCE_DIR) + "/models/kjv-moe";

LmEvalOptions options() {
    LmEvalOptions o;
    o.ctx = 64;
    o.chunks = 3;
    o.gen_tokens = 4;
    return o;
}
constexpr int kRows = 64 - 1 - 64 / 2; // scored positions per chunk

bool near(double a, double b, double rel, double abs = 0.0) { return std::fabs(a - b) <= std::max(abs, rel * std::fabs(b)); }
} // namespace

class TestLmBaseline : public QObject {
    Q_OBJECT
private slots:
    void deferredLoadEvaluatesLikeAPlainOne() {
        const Model plain = load_model(kDemo);
        Model deferred = load_model(kDemo, LoadOptions{false, true});
        const TokenData data = load_token_data(kDemo + "/kjv-heldout.txt", plain.lm.vocab, plain.lm.tokenizer_path, {});
        int matrices = 0, pending = 0;
        for_each_matrix(deferred, [&](const LinearWeights& l) { ++matrices, pending += l.weight.deferred_pending(); }, MatrixScope::All);
        QVERIFY(matrices > 10);
        QCOMPARE(pending, matrices); // nothing converted by loading (the finite check dropped what it read)

        const CompressionPlan plan = plan_from_flags("none", "int4:g32", 0);
        const CompressedModel a = compress(plain, plan), b = compress(deferred, plan);
        // Compression read each deferred matrix once and dropped its fp32 again.
        for_each_matrix(deferred, [&](const LinearWeights& l) { QVERIFY2(l.weight.deferred_pending(), l.name.c_str()); }, MatrixScope::All);
        LmEvalOptions o = options();
        o.gen_tokens = 0;
        const EvalResult ra = evaluate_language_model(a, data, o), rb = evaluate_language_model(b, data, o);
        // Same codes; lm_head and the routers run on BF16 (bf16_matmul) instead of fp32: only the
        // order of summation differs.
        QVERIFY2(near(rb.metrics.at("perplexity"), ra.metrics.at("perplexity"), 1e-5),
                 qPrintable(QString("%1 vs %2").arg(rb.metrics.at("perplexity"), 0, 'g', 12).arg(ra.metrics.at("perplexity"), 0, 'g', 12)));
        for (size_t l = 0; l < ra.expert_share.size(); ++l)
            for (size_t e = 0; e < ra.expert_share[l].size(); ++e) QVERIFY(near(rb.expert_share[l][e], ra.expert_share[l][e], 0, 0.01));

        // Made fp32 (a cache miss): the same as a plain load, bit for bit.
        materialize_deferred(deferred);
        for_each_matrix(deferred, [&](const LinearWeights& l) { QVERIFY(!l.weight.is_deferred()); }, MatrixScope::All);
        const EvalResult rc = evaluate_language_model(compress(deferred, plan), data, o);
        QCOMPARE(rc.metrics.at("perplexity"), ra.metrics.at("perplexity"));
    }

    void cachedBaselineGivesTheSideBySideComparison() {
        QTemporaryDir tmp;
        const std::string dir = tmp.path().toStdString();
        const Model dense = load_model(kDemo);
        const TokenData data = load_token_data(kDemo + "/kjv-heldout.txt", dense.lm.vocab, dense.lm.tokenizer_path, {});
        const CompressedModel cm = compress(dense, plan_from_flags("magnitude:0.5", "int8", 0));
        const std::string key = lm_baseline_cache_key(dense, data, 64, 3, 4, 1);
        QCOMPARE(key.size(), size_t(64));
        QVERIFY(key != lm_baseline_cache_key(dense, data, 64, 2, 4, 1)); // chunks are part of the key

        LmEvalOptions side = options();
        side.dense = &dense;
        EvalResult live;
        {
            LmBaselineWriter w(dir, key, 3, kRows, dense.lm.vocab, 1);
            side.record = &w;
            live = evaluate_language_model(cm, data, side);
        }
        auto cache = LmBaselineCache::open(dir, key, 3, kRows, dense.lm.vocab);
        QVERIFY(cache.has_value());
        QVERIFY(cache->dense_prompt_tps > 0 && cache->dense_gen_p50_ms > 0);
        QVERIFY(!LmBaselineCache::open(dir, key, 2, kRows, dense.lm.vocab)); // another shape: not used

        LmEvalOptions cached = options();
        cached.cached = &*cache;
        const EvalResult r = evaluate_language_model(cm, data, cached);
        QVERIFY(r.has_comparison);
        const auto &M = r.metrics, &L = live.metrics;
        QCOMPARE(M.at("perplexity"), L.at("perplexity"));
        QCOMPARE(M.at("same_top_p"), L.at("same_top_p")); // top-1 stored exactly
        QVERIFY(near(M.at("dense_perplexity"), L.at("dense_perplexity"), 1e-6)); // NLL stored as fp32
        QVERIFY(near(M.at("delta_p_mean"), L.at("delta_p_mean"), 0, 1e-6));
        // KL from 16-bit log-probabilities (step 4.9e-4 nats), renormalized.
        for (const char* k : {"kld_mean", "kld_p90", "kld_p99"})
            QVERIFY2(near(M.at(k), L.at(k), 0.01, 1e-4), qPrintable(QString("%1: %2 cached vs %3 side by side").arg(k).arg(M.at(k)).arg(L.at(k))));
        qInfo("KL mean %.6f cached vs %.6f side by side; p99 %.6f vs %.6f", M.at("kld_mean"), L.at("kld_mean"), M.at("kld_p99"), L.at("kld_p99"));
        QVERIFY(L.at("kld_mean") > 1e-3); // a comparison that could differ
        QVERIFY(r.comparison.throughput_ratio > 0 && r.comparison.latency_ratio > 0);
    }

    void damagedCacheIsNotUsed_data() {
        QTest::addColumn<QString>("damage");
        QTest::newRow("truncated") << "truncated";
        QTest::newRow("top-1 outside the vocabulary") << "argmax";
        QTest::newRow("negative step") << "step";
        QTest::newRow("NaN NLL") << "nll";
        QTest::newRow("another key inside") << "key";
    }
    void damagedCacheIsNotUsed() {
        QFETCH(QString, damage);
        QTemporaryDir tmp;
        const std::string dir = tmp.path().toStdString();
        const std::string key(64, 'a');
        const int V = 10, rows = 3, chunks = 2;
        {
            LmBaselineWriter w(dir, key, chunks, rows, V, 1);
            std::vector<double> lp(V, std::log(0.1));
            for (int i = 0; i < chunks * rows; ++i) w.add_row(lp.data(), 2.3, i % V);
            w.finish(100.0, 1.0);
        }
        QVERIFY(LmBaselineCache::open(dir, key, chunks, rows, V).has_value());
        const std::string path = dir + "/" + key + ".lm.bin";
        std::vector<uint8_t> b = read_file_bytes(path);
        const size_t row0 = 80; // after the header
        const float nan = std::nanf(""), neg = -1.0f;
        const int32_t big = V;
        if (damage == "truncated") b.resize(b.size() - 1);
        else if (damage == "argmax") std::memcpy(&b[row0 + 4], &big, 4);
        else if (damage == "step") std::memcpy(&b[row0 + 12], &neg, 4);
        else if (damage == "nll") std::memcpy(&b[row0], &nan, 4);
        else b[8] ^= 1;
        write_file_bytes(path, b);
        QVERIFY(!LmBaselineCache::open(dir, key, chunks, rows, V).has_value());
    }

    void unfinishedCacheLeavesNoFile() {
        // A cancelled evaluation (or fewer rows than announced) writes nothing.
        QTemporaryDir tmp;
        const std::string dir = tmp.path().toStdString(), key(64, 'b');
        {
            LmBaselineWriter w(dir, key, 2, 3, 10, 1);
            std::vector<double> lp(10, std::log(0.1));
            w.add_row(lp.data(), 2.3, 0);
            QVERIFY_THROWS_EXCEPTION(Error, w.finish(1.0, 1.0));
        }
        {
            LmBaselineWriter w(dir, key, 2, 3, 10, 1);
        }
        QVERIFY(fs::is_empty(dir));
    }
};

QTEST_GUILESS_MAIN(TestLmBaseline)
#include "test_lm_baseline.moc"
