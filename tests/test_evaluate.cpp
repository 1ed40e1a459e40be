// test_evaluate.cpp - evaluation metrics on data whose answers are known, and the trainer's
// gradients against finite differences.
#include "train/backprop.h"
#include "compress/compression_plan.h"
#include "error.h"
#include "eval/evaluate.h"
#include "eval/machine_load.h"
#include "eval/run_evaluation.h"
#include "model/forward.h"
#include "test_support.h"
#include "train/trainer.h"

#include <QtTest>

#include <cmath>

using namespace ss;

namespace {
// Dataset labelled by the model's own argmax on some rows and the opposite class on others.
Dataset labelled_by(const Model& m, int n, int wrong_every) {
    Dataset d;
    d.source_path = "synthetic";
    d.count = n;
    d.features = m.input_features();
    d.num_classes = m.num_classes();
    d.raw.resize(size_t(n) * d.features);
    for (size_t i = 0; i < d.raw.size(); ++i) d.raw[i] = std::sin(float(i) * 1.3f) * 3.0f;
    std::vector<float> logits(size_t(n) * d.num_classes);
    ForwardWorkspace ws;
    forward(m, d.raw.data(), n, logits.data(), {}, ws, nullptr);
    for (int r = 0; r < n; ++r) {
        const int pred = logits[size_t(r) * 2 + 1] > logits[size_t(r) * 2] ? 1 : 0;
        d.labels.push_back(r % wrong_every == 0 ? 1 - pred : pred);
    }
    return d;
}
} // namespace

class TestEvaluate : public QObject {
    Q_OBJECT
private slots:
    void accuracyAndSharesAreMeasured() {
        const Model m = test_support::tiny_moe_model(9);
        const Dataset d = labelled_by(m, 100, 4); // rows 0, 4, 8, ... are wrong: 75 % right
        EvalOptions opt;
        opt.batch_size = 16;
        opt.latency_samples = 10;
        opt.latency_warmup = 2;
        const EvalResult r = evaluate(compress(m, {}), d, opt);
        QCOMPARE(r.samples, 100);
        QCOMPARE(r.accuracy, 0.75);
        QCOMPARE(r.per_class_accuracy.size(), size_t(2));
        QCOMPARE(r.per_class_count[0] + r.per_class_count[1], 100);
        QCOMPARE(r.moe_layers, std::vector<std::string>{"moe"});
        double sum = 0.0;
        for (double s : r.expert_share[0]) sum += s;
        QVERIFY(std::fabs(sum - 1.0) < 1e-12);
        QVERIFY(r.latency_p50_ms > 0.0 && r.latency_p95_ms >= r.latency_p50_ms);
        QVERIFY(r.throughput_sps > 0.0);
        QCOMPARE(r.top_k, 2);
        QCOMPARE(r.latency_samples_ms.size(), size_t(10));
        QCOMPARE(float(r.latency_p50_ms), float(percentile(std::vector<double>(r.latency_samples_ms.begin(), r.latency_samples_ms.end()), 50)));
    }

    void layersKnowTheirWeightsPrecisionAndKernels() {
        // stem (4 -> 6), relu, moe (3 experts + router), head: per layer, the weight count, zeros,
        // precision and kernels the evaluation ran with.
        const Model m = test_support::tiny_moe_model(9);
        const Dataset d = labelled_by(m, 40, 4);
        EvalOptions opt;
        opt.latency_samples = 5;
        const CompressionPlan plan = parse_compression_plan(R"({"prune": "magnitude:0.5", "quant": "none", "layers": {"head": {"quant": "int8"}}})", "t");
        const EvalResult r = evaluate(compress(m, plan), d, opt);
        int64_t weights = 0, zeros = 0;
        bool head = false, moe = false;
        for (const LayerCost& c : r.layers) {
            weights += c.weights;
            zeros += c.zero_weights;
            if (c.name == "head") {
                head = true;
                QCOMPARE(c.precision, std::string("int8"));
                QVERIFY2(c.kernels.find("q8-dot / ") == 0, c.kernels.c_str());
            }
            if (c.kind == "moe") {
                moe = true;
                QCOMPARE(c.precision, std::string("fp32"));
                QVERIFY2(c.kernels.find(" / ") != std::string::npos && c.kernels[0] >= '1' && c.kernels[0] <= '9', c.kernels.c_str()); // counted
            }
            if (c.kind == "activation") QCOMPARE(c.weights, int64_t(0));
        }
        QVERIFY(head && moe);
        QCOMPARE(weights, m.parameter_count() - [&] {
            int64_t biases = 0;
            for (const auto& layer : m.layers)
                if (auto* l = std::get_if<LinearWeights>(&layer)) biases += l->out;
                else if (auto* e = std::get_if<MoeLayer>(&layer))
                    for (const auto& x : e->experts) biases += x.fc1.out + x.fc2.out;
            return biases;
        }());
        // r.sparsity counts the compressible matrices; the layers count the router too (never pruned).
        QVERIFY2(double(zeros) <= r.sparsity * double(weights) + 1 && double(zeros) > 0.3 * double(weights),
                 qPrintable(QStringLiteral("%1 of %2, sparsity %3").arg(zeros).arg(weights).arg(r.sparsity)));
    }

    void limitAndCancel() {
        const Model m = test_support::tiny_moe_model(9);
        const Dataset d = labelled_by(m, 100, 1000);
        EvalOptions opt;
        opt.limit = 10;
        opt.latency_samples = 0;
        opt.latency_warmup = 0;
        QCOMPARE(evaluate(compress(m, {}), d, opt).samples, 10);
        opt.limit = 0;
        opt.batch_size = 8;
        int calls = 0;
        opt.progress = [&](float) { return ++calls < 3; };
        QVERIFY(evaluate(compress(m, {}), d, opt).cancelled);
        QCOMPARE(calls, 3);
    }

    void honestSpeedFlag() {
        // The flag compares with the dense model's measured speed: against an impossibly fast dense
        // run it must say "not faster", against an impossibly slow one "faster".
        const Model m = test_support::tiny_moe_model(9);
        const Dataset d = labelled_by(m, 64, 5);
        BaselineOutputs base = compute_baseline(m, d, 0);
        QVERIFY(base.throughput_sps > 0 && base.latency_p50_ms > 0);
        EvalOptions opt;
        opt.latency_samples = 5;
        opt.latency_warmup = 1;
        opt.baseline = &base;
        base.throughput_sps = 1e15;
        base.latency_p50_ms = 1e-12;
        EvalResult r = evaluate(compress(m, {}), d, opt);
        QVERIFY(!r.comparison.faster_than_dense);
        QVERIFY(r.comparison.throughput_ratio < 1.0);
        base.throughput_sps = 1e-3;
        r = evaluate(compress(m, {}), d, opt);
        QVERIFY(r.comparison.faster_than_dense);
        QCOMPARE(r.comparison.agreement, 1.0); // same model: every prediction agrees
        QCOMPARE(r.comparison.mean_kl, 0.0);
    }

    // "Faster" is withheld when it rests on a noisy batch-1 latency alone.
    void speedVerdictWithholdsNoisyLatency() {
        Comparison c;
        QCOMPARE(speed_verdict(c, 0.1, 0.2), SpeedVerdict::Unknown); // never compared
        c.throughput_ratio = 1.05;
        c.latency_ratio = 1.02;
        c.faster_than_dense = beats_dense(c.throughput_ratio, c.latency_ratio);
        QCOMPARE(speed_verdict(c, 0.1, 0.2), SpeedVerdict::NotFaster);
        c.latency_ratio = 1.40; // faster by latency only
        c.faster_than_dense = beats_dense(c.throughput_ratio, c.latency_ratio);
        QCOMPARE(speed_verdict(c, 0.1, 0.25), SpeedVerdict::Faster);       // p95 2.5x p50: steady enough
        QCOMPARE(speed_verdict(c, 0.1, 0.68), SpeedVerdict::Inconclusive); // p95 6.8x p50: a busy machine
        c.throughput_ratio = 1.30; // throughput (a median over batches) beats dense too: noise in latency does not matter
        QCOMPARE(speed_verdict(c, 0.1, 0.68), SpeedVerdict::Faster);
        QCOMPARE(std::string(speed_verdict_name(SpeedVerdict::Inconclusive)), std::string("inconclusive"));
        // A steady latency measured while other processes kept the machine busy is withheld too.
        c.throughput_ratio = 1.05;
        QCOMPARE(speed_verdict(c, 0.1, 0.25, 0.4), SpeedVerdict::Faster);       // others used 0.4 CPUs: not busy
        QCOMPARE(speed_verdict(c, 0.1, 0.25, 1.1), SpeedVerdict::Inconclusive); // others kept 1.1 CPUs busy
        QCOMPARE(speed_verdict(c, 0.1, 0.25, std::nan("")), SpeedVerdict::Faster); // not measured: not held against it
        QCOMPARE(inconclusive_reason(0.1, 0.25, 1.1), std::string("other processes kept 1.1 CPUs busy"));
        QCOMPARE(inconclusive_reason(0.1, 0.68, 1.1), std::string("p95 6.8x p50; other processes kept 1.1 CPUs busy"));
        QCOMPARE(inconclusive_reason(0.1, 0.68, std::nan("")), std::string("p95 6.8x p50"));
    }

    // Others' CPU use from /proc: the fields as Linux writes them, and a real reading.
    void machineLoadFromProc() {
        uint64_t busy = 0, self = 0;
        QVERIFY(parse_proc_stat_busy("cpu  4705 356 584 3699 23 0 23 7 0 0", &busy));
        QCOMPARE(busy, uint64_t(4705 + 356 + 584 + 0 + 23 + 7)); // idle and iowait are not busy
        QVERIFY(parse_proc_stat_busy("cpu  10 0 5 100 0 1 2", &busy)); // before steal existed
        QCOMPARE(busy, uint64_t(18));
        QVERIFY(!parse_proc_stat_busy("cpu0 1 2 3 4 5 6 7 8", &busy)); // one CPU's line, not the total
        QVERIFY(!parse_proc_stat_busy("cpu 1 2", &busy));
        QVERIFY(!parse_proc_stat_busy("", &busy));
        // comm may hold spaces and ')': fields are counted from the last ')'.
        QVERIFY(parse_proc_self_ticks("4242 (sparse scope (x)) R 1 4242 4242 0 -1 4194304 100 0 0 0 731 42 0 0 20 0 3", &self));
        QCOMPARE(self, uint64_t(731 + 42));
        QVERIFY(!parse_proc_self_ticks("4242 (short) R 1 2", &self));
        QVERIFY(!parse_proc_self_ticks("4242 (x) R 1 2 3 4 5 6 7 8 9 x1 2", &self));
        CpuTicks a = cpu_ticks_now();
        QVERIFY(a.valid); // Linux
        CpuTicks b = a;
        b.seconds += 1.0;
        b.busy += 150; // 1.5 s of CPU in 1 s (USER_HZ is 100 on Linux): 0.5 of it ours
        b.self += 50;
        QCOMPARE(others_busy_cpus(a, b), 1.0);
        b.seconds = a.seconds + 0.1; // too short to count ticks of 10 ms
        QVERIFY(std::isnan(others_busy_cpus(a, b)));
        QVERIFY(machine_was_busy(0.5) && !machine_was_busy(0.49) && !machine_was_busy(std::nan("")));
    }

    void runEvaluationComparesWithDenseAndEstimatesFirst() {
        const Model m = test_support::tiny_moe_model(9);
        const Dataset d = labelled_by(m, 100, 4);
        RunRequest req;
        req.dense = &m;
        req.data = &d;
        req.plan = plan_from_flags("magnitude:0.5", "none", 1); // top-1: the outputs change
        req.options.batch_size = 16;
        req.options.latency_samples = 10;
        req.options.latency_warmup = 2;
        int estimates = 0, estimate_samples = 0;
        req.estimate_samples = 20;
        req.on_estimate = [&](const RunRecord& e) {
            ++estimates;
            estimate_samples = e.result.samples;
            return true;
        };
        const RunRecord r = run_evaluation(req);
        QCOMPARE(estimates, 1);
        QCOMPARE(estimate_samples, 20);
        QVERIFY(!r.result.cancelled);
        QCOMPARE(r.result.samples, 100);
        QCOMPARE(r.plan.summary(), req.plan.summary());
        QCOMPARE(r.result.top_k, 1);
        // Compared with the dense model, whose accuracy on this data is 75 % by construction.
        QVERIFY(r.result.has_comparison);
        QCOMPARE(r.result.comparison.baseline_accuracy, 0.75);
        QCOMPARE(r.result.comparison.accuracy_delta, r.result.accuracy - 0.75);
        QVERIFY(r.result.comparison.throughput_ratio > 0.0); // timed side by side
        // The same compressed model evaluated by hand gives the same accuracy.
        EvalOptions opt = req.options;
        QCOMPARE(evaluate(compress(m, req.plan), d, opt).accuracy, r.result.accuracy);

        // Stopping at the estimate: cancelled, and the full evaluation never ran.
        req.on_estimate = [](const RunRecord&) { return false; };
        QVERIFY(run_evaluation(req).result.cancelled);
        // A provider that gives no baseline: no comparison, no side-by-side timing.
        req.on_estimate = {};
        req.baseline = [](const Model&, int, int) { return std::shared_ptr<const BaselineOutputs>(); };
        QVERIFY(!run_evaluation(req).result.has_comparison);
    }

    void percentileIsNearestRank() {
        QCOMPARE(percentile({5, 1, 4, 2, 3}, 50), 3.0);
        QCOMPARE(percentile({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 95), 10.0);
        QCOMPARE(percentile({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 90), 9.0);
    }

    void gradientsMatchFiniteDifferences_data() {
        QTest::addColumn<QString>("config");
        QTest::newRow("tiny moe (relu, gelu)") << QString();
        QTest::newRow("layernorm, gelu_tanh, silu, dropout") << QString(R"({"format": "sparsescope/classifier-v1", "name": "t",
          "input": {"shape": [4]}, "labels": ["a", "b"],
          "layers": [{"type": "linear", "name": "stem", "in": 4, "out": 3}, {"type": "layernorm", "name": "ln", "dim": 3},
                     {"type": "gelu_tanh"}, {"type": "dropout", "p": 0.1},
                     {"type": "moe", "name": "moe", "dim": 3, "hidden": 4, "experts": 3, "top_k": 2, "activation": "silu"},
                     {"type": "tanh"}, {"type": "linear", "name": "head", "in": 3, "out": 2}]})");
    }
    void gradientsMatchFiniteDifferences() {
        // The analytic gradient of cross-entropy + load balancing against central differences,
        // for every parameter tensor (sampled entries).
        QFETCH(QString, config);
        Model m = test_support::tiny_moe_model(4);
        if (!config.isEmpty()) {
            m = parse_model_config(config.toStdString(), "cfg");
            init_weights(m, 4);
            // Non-trivial layernorm affine parameters.
            auto& ln = std::get<LayerNormLayer>(m.layers[1]);
            ln.weight = {1.2f, 0.7f, -0.9f};
            ln.bias = {0.1f, -0.2f, 0.3f};
        }
        const int n = 6;
        std::vector<float> x(size_t(n) * 4);
        for (size_t i = 0; i < x.size(); ++i) x[i] = std::cos(float(i) * 0.9f) * 1.5f;
        const std::vector<int> labels = {0, 1, 1, 0, 1, 0};
        const float aux = 0.3f;
        Model g = make_zero_gradients(m);
        loss_and_gradients(m, x.data(), labels.data(), n, aux, g);
        const auto params = parameter_vectors(m);
        const auto grads = parameter_vectors(g);
        Model scratch = make_zero_gradients(m);
        auto loss_at = [&] {
            zero_gradients(scratch);
            const BatchLoss l = loss_and_gradients(m, x.data(), labels.data(), n, aux, scratch);
            return l.cross_entropy + l.aux;
        };
        int checked = 0;
        for (size_t p = 0; p < params.size(); ++p) {
            for (size_t i = 0; i < params[p]->size(); i += 2) {
                float& w = (*params[p])[i];
                const float saved = w, h = 1e-3f;
                w = saved + h;
                const double up = loss_at();
                w = saved - h;
                const double down = loss_at();
                w = saved;
                const double numeric = (up - down) / (2.0 * h);
                const double analytic = (*grads[p])[i];
                QVERIFY2(std::fabs(numeric - analytic) < 2e-3 + 2e-2 * std::fabs(numeric),
                         qPrintable(QString("param %1[%2]: numeric %3 analytic %4").arg(p).arg(i).arg(numeric).arg(analytic)));
                ++checked;
            }
        }
        QVERIFY(checked > 50);
    }

    void trainingLowersTheLoss() {
        Model m = test_support::tiny_moe_model(1);
        const Dataset d = labelled_by(test_support::tiny_moe_model(99), 256, 1000); // learn another net's labels
        TrainOptions opt;
        opt.epochs = 30;
        opt.batch_size = 32;
        opt.learning_rate = 1e-2f;
        std::vector<double> losses;
        train_model(m, d, opt, [&](const EpochReport& r) {
            losses.push_back(r.loss);
            return true;
        });
        QCOMPARE(losses.size(), size_t(30));
        QVERIFY2(losses.back() < 0.6 * losses.front(), qPrintable(QString("%1 -> %2").arg(losses.front()).arg(losses.back())));
    }
};

QTEST_GUILESS_MAIN(TestEvaluate)
#include "test_evaluate.moc"
