// test_finetune.cpp - recovery fine-tuning (train/finetune.h): the mask held fixed, the
// straight-through quantizer, distillation's gradient, the gradual pruning schedule, cancelling,
// and the recovered run kept in a session.
#include "compress/compression.h"
#include "compress/quantized_weights.h"
#include "data/idx_dataset.h"
#include "eval/run_record.h"
#include "formats/model_config.h"
#include "formats/model_io.h"
#include "kernels/prepared_matrix.h"
#include "model/matrices.h"
#include "session/session_db.h"
#include "test_support.h"
#include "train/backprop.h"
#include "train/finetune.h"
#include "train/gmp_schedule.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <random>

using namespace ss;

namespace {

// The first n samples of a split of the built-in Fashion-MNIST.
Dataset fashion(const std::string& split, int n) { return load_idx_dir(kDefaultDatasetDir, split, n); }

// Every compressible matrix's fp32 weights, in for_each_matrix order.
std::vector<std::vector<float>> weights_of(const Model& m) {
    std::vector<std::vector<float>> out;
    for_each_matrix(m, [&](const LinearWeights& l) { out.push_back(dense_weights(l)); });
    return out;
}

} // namespace

class TestFinetune : public QObject {
    Q_OBJECT
private slots:
    void gmpScheduleIsZhuGuptaCubic() {
        const GmpSchedule s = parse_gmp_schedule("gmp:1:3", 5);
        QVERIFY(s.enabled);
        QCOMPARE(gmp_sparsity(s, 0.9, 0.0), 0.0);
        QCOMPARE(gmp_sparsity(s, 0.9, 1.0), 0.0);
        // Half way: 1 - (1/2)^3 = 7/8 of the final sparsity.
        QVERIFY(std::fabs(gmp_sparsity(s, 0.9, 2.0) - 0.9 * 0.875) < 1e-12);
        QVERIFY(std::fabs(gmp_sparsity(s, 0.8, 1.5) - 0.8 * (1.0 - 0.75 * 0.75 * 0.75)) < 1e-12);
        QCOMPARE(gmp_sparsity(s, 0.9, 3.0), 0.9);
        QCOMPARE(gmp_sparsity(s, 0.9, 4.5), 0.9);
        QVERIFY(!parse_gmp_schedule("", 5).enabled);
        QVERIFY(!parse_gmp_schedule("none", 5).enabled);
        using test_support::error_message;
        QVERIFY(error_message([] { parse_gmp_schedule("gmp:3:1", 5); }).find("END must be greater than START") != std::string::npos);
        QVERIFY(error_message([] { parse_gmp_schedule("gmp:0:6", 5); }).find("past the last epoch") != std::string::npos);
        QVERIFY(error_message([] { parse_gmp_schedule("cubic:0:2", 5); }).find("--schedule 'cubic:0:2'") != std::string::npos);
        QVERIFY(error_message([] { parse_gmp_schedule("gmp:-1:2", 5); }).find("START must be >= 0") != std::string::npos);
        QVERIFY(error_message([] { parse_gmp_schedule("gmp:0:x", 5); }).find("expected gmp:START:END") != std::string::npos);
    }

    void scheduleNeedsASparsityToReach() {
        FinetuneOptions o;
        o.schedule = parse_gmp_schedule("gmp:0:2", 5);
        o.plan.prune = parse_prune_spec("nm:2:4");
        QVERIFY(test_support::error_message([&] { check_finetune_options(o); }).find("--schedule gmp needs") != std::string::npos);
        o.plan.prune = parse_prune_spec("magnitude:0.5");
        check_finetune_options(o); // fine
        o.plan.drop_experts = 1;
        QVERIFY(test_support::error_message([&] { check_finetune_options(o); }).find("dropped experts") != std::string::npos);
    }

    void distillationGradientMatchesFiniteDifferences() {
        // (1 - a) CE + a T^2 KL(teacher_T || student_T): its analytic gradient against central differences.
        Model m = test_support::tiny_moe_model(5);
        const int n = 5;
        std::vector<float> x(size_t(n) * 4);
        for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(float(i) * 0.7f) * 1.3f;
        const std::vector<int> labels = {0, 1, 0, 1, 1};
        const std::vector<float> teacher = {2.0f, -1.0f, 0.5f, 0.4f, -3.0f, 1.0f, 0.0f, 0.0f, 1.5f, 2.5f};
        Distillation d;
        d.teacher_logits = teacher.data();
        d.weight = 0.7f;
        d.temperature = 3.0f;
        Model g = make_zero_gradients(m);
        loss_and_gradients(m, x.data(), labels.data(), n, 0.0f, g, &d);
        Model scratch = make_zero_gradients(m);
        auto loss_at = [&] {
            zero_gradients(scratch);
            const BatchLoss l = loss_and_gradients(m, x.data(), labels.data(), n, 0.0f, scratch, &d);
            return (1.0 - d.weight) * l.cross_entropy + d.weight * l.distill;
        };
        const auto params = parameter_vectors(m);
        const auto grads = parameter_vectors(g);
        int checked = 0;
        for (size_t p = 0; p < params.size(); ++p)
            for (size_t i = 0; i < params[p]->size(); i += 2) {
                float& w = (*params[p])[i];
                const float saved = w, h = 1e-3f;
                w = saved + h;
                const double up = loss_at();
                w = saved - h;
                const double down = loss_at();
                w = saved;
                const double numeric = (up - down) / (2.0 * h), analytic = (*grads[p])[i];
                QVERIFY2(std::fabs(numeric - analytic) < 2e-3 + 2e-2 * std::fabs(numeric),
                         qPrintable(QString("param %1[%2]: numeric %3 analytic %4").arg(p).arg(i).arg(numeric).arg(analytic)));
                ++checked;
            }
        QVERIFY(checked > 30);
    }

    void distillationTermIsTemperedKl() {
        // A head with zero weights gives uniform logits: KL(p || uniform) = sum p log p + log C.
        Model m = parse_model_config(R"({"format": "sparsescope/classifier-v1", "name": "h",
          "input": {"shape": [2]}, "labels": ["a", "b", "c"],
          "layers": [{"type": "linear", "name": "head", "in": 2, "out": 3}]})", "h");
        auto& head = std::get<LinearWeights>(m.layers[0]);
        head.weight = WeightData(std::vector<float>(6, 0.0f));
        head.bias = WeightData(std::vector<float>(3, 0.0f));
        const std::vector<float> x = {1.0f, 2.0f}, teacher = {3.0f, 1.0f, -1.0f};
        const int label = 0;
        const double T = 2.0;
        double z = 0.0, p[3];
        for (int c = 0; c < 3; ++c) z += (p[c] = std::exp(teacher[size_t(c)] / T));
        double kl = std::log(3.0);
        for (double& v : p) v /= z, kl += v * std::log(v);
        Distillation d{teacher.data(), 1.0f, float(T)};
        Model g = make_zero_gradients(m);
        const BatchLoss l = loss_and_gradients(m, x.data(), &label, 1, 0.0f, g, &d);
        QVERIFY(std::fabs(l.distill - T * T * kl) < 1e-9);
        QVERIFY(std::fabs(l.cross_entropy - std::log(3.0)) < 1e-6);
        // Weight 1: the hard label has no say; d bias_c = T (1/3 - p_c).
        const auto& gb = std::get<LinearWeights>(g.layers[0]).bias;
        for (int c = 0; c < 3; ++c) QVERIFY(std::fabs(gb[size_t(c)] - T * (1.0 / 3.0 - p[c])) < 1e-6);
    }

    void convNetGradientsMatchFiniteDifferences() {
        // conv, relu, max pool, a residual block with a strided 1x1 projection, average and global
        // pooling, flatten, linear: every parameter's analytic gradient against central differences.
        Model m = parse_model_config(R"({"format": "sparsescope/classifier-v1", "input": {"shape": [2, 8, 8]}, "labels": ["a", "b", "c"],
            "layers": [{"type": "conv2d", "name": "c1", "in_channels": 2, "out_channels": 3, "kernel": 3, "padding": 1}, {"type": "relu"},
                       {"type": "maxpool2d", "kernel": 2},
                       {"type": "residual_save"},
                       {"type": "conv2d", "name": "c2", "in_channels": 3, "out_channels": 4, "kernel": 3, "stride": 2, "padding": 1}, {"type": "tanh"},
                       {"type": "residual_add", "projection": {"name": "p", "in_channels": 3, "out_channels": 4, "kernel": 1, "stride": 2}},
                       {"type": "residual_save"},
                       {"type": "conv2d", "name": "c3", "in_channels": 4, "out_channels": 4, "kernel": [3, 1], "padding": [1, 0], "dilation": [1, 1]},
                       {"type": "residual_add"},
                       {"type": "avgpool2d", "kernel": 2, "stride": 1, "padding": 1, "count_include_pad": false},
                       {"type": "global_avgpool"}, {"type": "flatten"}, {"type": "linear", "name": "h", "in": 4, "out": 3}]})", "conv");
        test_support::fill_normal(m, 3, 0.5f);
        std::mt19937 rng(3 + 1);
        std::normal_distribution<float> nd(0.0f, 0.5f);
        const int n = 3;
        std::vector<float> x(size_t(n) * 128);
        for (float& v : x) v = nd(rng) * 2.0f;
        const std::vector<int> labels = {0, 2, 1};
        Model g = make_zero_gradients(m);
        loss_and_gradients(m, x.data(), labels.data(), n, 0.0f, g);
        Model scratch = make_zero_gradients(m);
        auto loss_at = [&] {
            zero_gradients(scratch);
            return loss_and_gradients(m, x.data(), labels.data(), n, 0.0f, scratch).cross_entropy;
        };
        const auto params = parameter_vectors(m);
        const auto grads = parameter_vectors(g);
        int checked = 0;
        double largest = 0.0;
        for (size_t p = 0; p < params.size(); ++p)
            for (size_t i = 0; i < params[p]->size(); i += 2) {
                float& w = (*params[p])[i];
                const float saved = w, h = 1e-3f;
                w = saved + h;
                const double up = loss_at();
                w = saved - h;
                const double down = loss_at();
                w = saved;
                const double numeric = (up - down) / (2.0 * h), analytic = (*grads[p])[i];
                largest = std::max(largest, std::fabs(analytic));
                QVERIFY2(std::fabs(numeric - analytic) < 2e-3 + 3e-2 * std::fabs(numeric),
                         qPrintable(QString("param %1[%2]: numeric %3 analytic %4").arg(p).arg(i).arg(numeric).arg(analytic)));
                ++checked;
            }
        QVERIFY(checked > 120);
        QVERIFY(largest > 1e-2); // the gradients are not all zero
    }

    void maskStaysFixedAndAccuracyComesBack() {
        // The demo MoE at 90 % magnitude (one-shot about 66 %): one epoch on 6000 samples brings
        // it well back, and no pruned weight comes back to life.
        const Model dense = load_model(SPARSESCOPE_RESOURCE_DIR "/models/fashion-moe");
        const Dataset train = fashion("train", 6000), test = fashion("t10k", 2000);
        FinetuneOptions o;
        o.plan.prune = parse_prune_spec("magnitude:0.9");
        o.epochs = 1;
        o.threads = 2;
        const CompressedModel one_shot = compress(dense, o.plan);
        std::vector<RecoveryEpoch> seen;
        const FinetuneResult r = finetune(dense, train, &test, o, {}, [&](const RecoveryEpoch& e) {
            seen.push_back(e);
            return true;
        });
        QVERIFY(!r.cancelled);
        QCOMPARE(int(r.curve.size()), 2);
        QCOMPARE(int(seen.size()), 2);
        QCOMPARE(r.curve[0].epoch, 0);
        QVERIFY(std::isnan(r.curve[0].loss));
        QVERIFY2(r.curve[0].test_accuracy < 0.75, qPrintable(QString::number(r.curve[0].test_accuracy)));
        QVERIFY2(r.curve[1].test_accuracy > 0.82, qPrintable(QString::number(r.curve[1].test_accuracy)));
        QVERIFY(r.curve[1].loss > 0.0 && r.curve[1].train_accuracy > 0.5);
        QVERIFY(std::fabs(r.model.sparsity - 0.9) < 1e-3);
        QCOMPARE(r.model.plan.prune.label(), std::string("magnitude:0.90"));
        // Every weight one-shot pruning removed is still exactly 0, and the kept ones moved.
        const auto before = weights_of(one_shot.model), after = weights_of(r.model.model);
        QCOMPARE(before.size(), after.size());
        size_t pruned = 0, moved = 0;
        for (size_t i = 0; i < before.size(); ++i) {
            QCOMPARE(before[i].size(), after[i].size());
            for (size_t j = 0; j < before[i].size(); ++j) {
                if (before[i][j] == 0.0f) {
                    ++pruned;
                    QCOMPARE(after[i][j], 0.0f);
                } else if (after[i][j] != before[i][j]) {
                    ++moved;
                }
            }
        }
        QVERIFY(pruned > 1000000);
        QVERIFY(moved > 100000);
    }

    void quantizationAwareTrainingEndsOnTheGrid() {
        // 2:4 with int8 (per row), distilled: the mask holds, every matrix ends quantized, and its weights are
        // exactly what its codes give back.
        Model dense = test_support::tiny_moe_model(3);
        test_support::Synthetic data(4, 2, 256);
        dense.name = "tiny";
        FinetuneOptions o;
        o.plan.prune = parse_prune_spec("nm:2:4");
        o.plan.quant = parse_quant_spec("int8");
        o.epochs = 2;
        o.batch_size = 32;
        o.learning_rate = 1e-2f;
        o.distill = true;
        const FinetuneResult r = finetune(dense, data.dataset, &data.dataset, o);
        QVERIFY(!r.cancelled);
        int quantized = 0;
        for_each_matrix(r.model.model, [&](const LinearWeights& l) {
            QVERIFY2(l.quant != nullptr, l.name.c_str());
            const std::vector<float> w = dense_weights(l);
            const std::vector<float> again = dequantize_weights(quantize_weights(w.data(), l.out, l.in, l.quant->spec));
            for (size_t j = 0; j < w.size(); ++j) QCOMPARE(again[j], w[j]);
            for (int row = 0; row < l.out; ++row)
                for (int g = 0; g + 4 <= l.in; g += 4) {
                    int nz = 0;
                    for (int k = 0; k < 4; ++k) nz += w[size_t(row) * l.in + g + k] != 0.0f;
                    QVERIFY(nz <= 2);
                }
            ++quantized;
        });
        QVERIFY(quantized >= 4);
        QCOMPARE(r.curve.size(), size_t(3));
        QVERIFY(std::isfinite(r.curve[2].loss));
    }

    void stepsSeeTheQuantizedWeights() {
        // One step over the whole set: the epoch's loss is the loss of the starting model as
        // quantized (int2), not of its fp32 weights - the straight-through estimator's forward.
        Model dense = parse_model_config(R"({"format": "sparsescope/classifier-v1", "name": "q",
          "input": {"shape": [32]}, "labels": ["a", "b"],
          "layers": [{"type": "linear", "name": "fc", "in": 32, "out": 8}, {"type": "relu"},
                     {"type": "linear", "name": "head", "in": 8, "out": 2}]})", "q");
        init_weights(dense, 11);
        test_support::Synthetic data(32, 2, 64);
        FinetuneOptions o;
        o.plan.quant = parse_quant_spec("int2:g32");
        o.epochs = 1;
        o.batch_size = 64;
        o.aux_weight = 0.0f;
        const FinetuneResult r = finetune(dense, data.dataset, nullptr, o);
        auto loss_of = [&](Model m) {
            restore_dense_weights(m);
            std::vector<float> x(data.dataset.raw);
            Model g = make_zero_gradients(m);
            return loss_and_gradients(m, x.data(), data.dataset.labels.data(), 64, 0.0f, g).cross_entropy;
        };
        const double quantized = loss_of(compress(dense, o.plan).model), fp32 = loss_of(dense);
        QVERIFY2(std::fabs(fp32 - quantized) > 1e-3, qPrintable(QString("%1 %2").arg(fp32).arg(quantized)));
        QVERIFY2(std::fabs(r.curve[1].loss - quantized) < 1e-6 * std::max(1.0, quantized),
                 qPrintable(QString("epoch loss %1, quantized %2, fp32 %3").arg(r.curve[1].loss).arg(quantized).arg(fp32)));
    }

    void gradualPruningRampsFromDense() {
        Model dense = test_support::tiny_moe_model(9);
        test_support::Synthetic data(4, 2, 320);
        FinetuneOptions o;
        o.plan.prune = parse_prune_spec("magnitude:0.6");
        o.epochs = 3;
        o.batch_size = 16;
        o.schedule = parse_gmp_schedule("gmp:0:2", 3);
        const FinetuneResult r = finetune(dense, data.dataset, nullptr, o);
        QCOMPARE(r.curve.size(), size_t(4));
        QCOMPARE(r.curve[0].sparsity, 0.0);     // training starts dense
        QVERIFY(std::isnan(r.curve[0].test_accuracy)); // no test split given
        QVERIFY(r.curve[1].sparsity > 0.3 && r.curve[1].sparsity < 0.6); // 7/8 of the way at epoch 1 of 0..2, pruned every few steps
        QVERIFY(std::fabs(r.curve[2].sparsity - 0.6) < 0.02);
        QVERIFY(std::fabs(r.curve[3].sparsity - r.curve[2].sparsity) < 1e-12); // reached: the mask stays
        QVERIFY(std::fabs(r.model.sparsity - r.curve[3].sparsity) < 1e-12);
    }

    void cancelStopsWithoutAModel() {
        Model dense = test_support::tiny_moe_model(2);
        test_support::Synthetic data(4, 2, 64);
        std::atomic<bool> cancel{true};
        FinetuneOptions o;
        o.plan.prune = parse_prune_spec("magnitude:0.5");
        o.cancel = &cancel;
        const FinetuneResult r = finetune(dense, data.dataset, nullptr, o);
        QVERIFY(r.cancelled);
        QCOMPARE(r.curve.size(), size_t(1)); // only the starting point
        // on_epoch saying stop cancels too.
        o.cancel = nullptr;
        const FinetuneResult s = finetune(dense, data.dataset, nullptr, o, {}, [](const RecoveryEpoch& e) { return e.epoch < 1; });
        QVERIFY(s.cancelled);
        QCOMPARE(s.curve.size(), size_t(2));
    }

    void languageModelsAndMismatchedDataAreRefused() {
        Model dense = test_support::tiny_moe_model(2);
        test_support::Synthetic wrong(5, 2, 16);
        FinetuneOptions o;
        o.plan.prune = parse_prune_spec("magnitude:0.5");
        QVERIFY(!test_support::error_message([&] { finetune(dense, wrong.dataset, nullptr, o); }).empty());
        o.learning_rate = 0.0f;
        test_support::Synthetic right(4, 2, 16);
        QVERIFY(test_support::error_message([&] { finetune(dense, right.dataset, nullptr, o); }).find("learning rate") != std::string::npos);
    }

    void recoveryIsKeptInTheSession() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("s.sqlite").toStdString();
        const Model m = test_support::tiny_moe_model(1);
        test_support::Synthetic data(4, 2, 8);
        RunRecord r = make_run_record(m, data.dataset, plan_from_flags("magnitude:0.5", "int4:g32", 0));
        r.result.accuracy = 0.75;
        r.recovery.method = "2 epochs, lr 0.0005, batch 128, mask fixed";
        RecoveryEpoch e0;
        e0.test_accuracy = 0.5;
        e0.sparsity = 0.5;
        RecoveryEpoch e1;
        e1.epoch = 1;
        e1.loss = 0.25;
        e1.train_accuracy = 0.8;
        e1.test_accuracy = 0.75;
        e1.sparsity = 0.5;
        e1.seconds = 1.5;
        r.recovery.curve = {e0, e1};
        RunRecord plain = make_run_record(m, data.dataset, plan_from_flags("magnitude:0.5", "int4:g32", 0));
        {
            auto db = SessionDb::open(path, SessionAccess::ReadWrite);
            db->add_run(plain);
            db->add_run(r);
        }
        const auto db = SessionDb::open(path, SessionAccess::ReadOnly);
        const std::vector<RunRecord> runs = db->runs();
        QCOMPARE(runs.size(), size_t(2));
        QVERIFY(!runs[0].recovery.present());
        const RecoveryInfo& got = runs[1].recovery;
        QCOMPARE(got.method, r.recovery.method);
        QCOMPARE(got.curve.size(), size_t(2));
        QVERIFY(std::isnan(got.curve[0].loss) && std::isnan(got.curve[0].train_accuracy));
        QCOMPARE(got.curve[0].test_accuracy, 0.5);
        QCOMPARE(got.curve[1].epoch, 1);
        QCOMPARE(got.curve[1].loss, 0.25);
        QCOMPARE(got.curve[1].train_accuracy, 0.8);
        QCOMPARE(got.curve[1].test_accuracy, 0.75);
        QCOMPARE(got.curve[1].seconds, 1.5);
    }
};

QTEST_APPLESS_MAIN(TestFinetune)
#include "test_finetune.moc"
