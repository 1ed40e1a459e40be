// test_demo_model.cpp - the committed demo model loads and meets its stated accuracy on the
// Fashion-MNIST test split (docs/demo-model.md).
#include "compress/compression.h"
#include "data/dataset.h"
#include "eval/evaluate.h"
#include "model/forward.h"
#include "formats/model_io.h"

#include <QtTest>

using namespace ss;

class TestDemoModel : public QObject {
    Q_OBJECT
private slots:
    void reachesStatedAccuracy() {
        const Model m = load_model(SPARSESCOPE_RESOURCE_DIR "/models/fashion-moe");
        QCOMPARE(m.name, std::string("fashion-moe"));
        QCOMPARE(m.moe_layers().size(), size_t(1));
        QCOMPARE(m.moe_layers()[0]->experts.size(), size_t(8));
        const Dataset d = load_dataset(kDefaultDatasetDir);
        EvalOptions opt;
        opt.latency_samples = 0;
        opt.latency_warmup = 0;
        const EvalResult r = evaluate(compress(m, {}), d, opt);
        QCOMPARE(r.samples, 10000);
        qInfo("demo model: %.2f %% top-1", 100.0 * r.accuracy);
        QVERIFY2(r.accuracy >= 0.88, qPrintable(QString::number(r.accuracy)));
        // Every expert is used (the load-balancing term at work): none below 5 % of slots.
        for (double s : r.expert_share[0]) QVERIFY2(s > 0.05, qPrintable(QString::number(s)));
        // 50 % magnitude pruning with int8 costs little on this model.
        const EvalResult c = evaluate(compress(m, plan_from_flags("magnitude:0.5", "int8", 0)), d, opt);
        QVERIFY2(c.accuracy > r.accuracy - 0.02, qPrintable(QString::number(c.accuracy)));
    }

    // Quantized matrices run the integer dot kernel at batch 1 (activations rounded to 8 bits per
    // block of 32) and fp32 on the dequantized weights in batches. On real data the two must agree.
    void integerKernelsAgreeWithBatchedFp32() {
        const Model m = load_model(SPARSESCOPE_RESOURCE_DIR "/models/fashion-moe");
        const Dataset d = load_dataset(kDefaultDatasetDir);
        const int n = 2000, classes = 10;
        for (const char* scheme : {"int8", "int4:g32"}) {
            const CompressedModel c = compress(m, plan_from_flags("none", scheme, 0));
            std::vector<float> x(size_t(n) * d.features), batched(size_t(n) * classes), single(batched.size());
            for (int i = 0; i < n; ++i) preprocess_input(m.input, d.sample(i), size_t(d.features), &x[size_t(i) * d.features]);
            ForwardWorkspace ws;
            forward(c.model, x.data(), n, batched.data(), {}, ws, nullptr);
            for (int i = 0; i < n; ++i) forward(c.model, &x[size_t(i) * d.features], 1, &single[size_t(i) * classes], {}, ws, nullptr);
            int agree = 0, correct_single = 0, correct_batched = 0;
            for (int i = 0; i < n; ++i) {
                const float* a = &single[size_t(i) * classes];
                const float* b = &batched[size_t(i) * classes];
                const int pa = int(std::max_element(a, a + classes) - a), pb = int(std::max_element(b, b + classes) - b);
                agree += pa == pb;
                correct_single += pa == d.labels[size_t(i)];
                correct_batched += pb == d.labels[size_t(i)];
            }
            qInfo("%s: batch-1 integer kernel vs batched fp32: %d / %d same top-1; accuracy %.2f %% vs %.2f %%", scheme, agree, n,
                  100.0 * correct_single / n, 100.0 * correct_batched / n);
            QVERIFY2(agree >= n * 99 / 100, qPrintable(QString::number(agree)));
            QVERIFY(std::abs(correct_single - correct_batched) <= n / 200);
        }
    }
};

QTEST_GUILESS_MAIN(TestDemoModel)
#include "test_demo_model.moc"
