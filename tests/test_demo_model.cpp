// test_demo_model.cpp - the committed demo model loads and meets its stated accuracy on the
// Fashion-MNIST test split (docs/demo-model.md).
#include "compression.h"
#include "dataset.h"
#include "evaluate.h"
#include "model_io.h"

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
};

QTEST_GUILESS_MAIN(TestDemoModel)
#include "test_demo_model.moc"
