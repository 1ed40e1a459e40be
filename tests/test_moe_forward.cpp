// test_moe_forward.cpp - MoE routing and forward against a hand-computed example; the BLAS
// linear path against the reference loop; batch and batch-1 paths against each other.
#include "kernels/dense_linear.h"
#include "model/forward.h"
#include "model/moe_forward.h"
#include "model/moe_router.h"
#include "test_support.h"

#include <QtTest>

#include <cmath>

using namespace ss;

namespace {
LinearWeights lin(const char* name, int in, int out, std::vector<float> w, std::vector<float> b, bool bias = true) {
    LinearWeights l;
    l.name = name;
    l.in = in;
    l.out = out;
    l.weight = std::move(w);
    l.bias = std::move(b);
    l.has_bias = bias;
    return l;
}

// dim 2, hidden 2, 3 experts, top-2, relu, residual.
// gate = [[1,0],[0,1],[1,1]]; expert j: fc1 = (j+1) I, bias 0; fc2 = I, bias [j, 0].
MoeLayer hand_moe() {
    MoeLayer m;
    m.name = "moe";
    m.dim = 2;
    m.hidden = 2;
    m.top_k = 2;
    m.activation = Activation::Relu;
    m.residual = true;
    m.gate = lin("moe.gate", 2, 3, {1, 0, 0, 1, 1, 1}, {}, false);
    for (int j = 0; j < 3; ++j) {
        const float s = float(j + 1);
        m.experts.push_back({j, lin("fc1", 2, 2, {s, 0, 0, s}, {0, 0}), lin("fc2", 2, 2, {1, 0, 0, 1}, {float(j), 0}), {}});
    }
    return m;
}
} // namespace

class TestMoeForward : public QObject {
    Q_OBJECT
private slots:
    void routerPicksTopKWithSoftmax() {
        const float g[] = {1.0f, 2.0f, 3.0f};
        int idx[2];
        float w[2];
        route_top_k(g, 3, 2, idx, w);
        QCOMPARE(idx[0], 2);
        QCOMPARE(idx[1], 1);
        QCOMPARE(w[0], 0.7310585786f); // e / (e + 1)
        QCOMPARE(w[1], 0.2689414214f);
    }

    void routerTiesTakeLowerIndex() {
        const float g[] = {0.5f, 2.0f, 0.5f, 2.0f};
        int idx[3];
        float w[3];
        route_top_k(g, 4, 3, idx, w);
        QCOMPARE(idx[0], 1);
        QCOMPARE(idx[1], 3);
        QCOMPARE(idx[2], 0);
    }

    void handComputedExample() {
        // x = [1, 2] -> g = [1, 2, 3] -> experts 2 (w = e/(e+1)) and 1 (w = 1/(e+1)).
        // expert 2: relu(3x) = [3, 6] -> + [2, 0] = [5, 6]; expert 1: [2, 4] + [1, 0] = [3, 4].
        // out = x + w2 [5, 6] + w1 [3, 4] = [1 + 3 + 2 w2, 2 + 4 + 2 w2].
        const MoeLayer m = hand_moe();
        const float x[] = {1.0f, 2.0f};
        float y[2];
        MoeScratch s;
        int64_t routed[3] = {0, 0, 0};
        moe_forward(m, 2, x, 1, y, s, routed);
        const double w2 = 0.7310585786300049;
        QCOMPARE(y[0], float(4.0 + 2.0 * w2));
        QCOMPARE(y[1], float(6.0 + 2.0 * w2));
        QCOMPARE(routed[0], int64_t(0));
        QCOMPARE(routed[1], int64_t(1));
        QCOMPARE(routed[2], int64_t(1));
    }

    void topOneAndNoResidual() {
        MoeLayer m = hand_moe();
        m.residual = false;
        const float x[] = {3.0f, -1.0f}; // g = [3, -1, 2] -> expert 0 alone, weight 1
        float y[2];
        MoeScratch s;
        moe_forward(m, 1, x, 1, y, s, nullptr);
        QCOMPARE(y[0], 3.0f); // relu(1 * [3, -1]) = [3, 0]; + [0, 0]
        QCOMPARE(y[1], 0.0f);
    }

    void batchMatchesSingleRows() {
        // The batched path (sgemm, rows grouped per expert) and batch 1 (sgemv) agree.
        const Model model = test_support::tiny_moe_model(3);
        const int n = 17, f = model.input_features(), c = model.num_classes();
        std::vector<float> x(size_t(n) * f);
        for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(float(i) * 0.7f) * 2.0f;
        std::vector<float> batched(size_t(n) * c), single(static_cast<size_t>(c));
        ForwardWorkspace ws;
        ExpertSlotCounts counts = make_expert_slot_counts(model);
        forward(model, x.data(), n, batched.data(), {}, ws, &counts);
        for (int r = 0; r < n; ++r) {
            forward(model, &x[size_t(r) * f], 1, single.data(), {}, ws, nullptr);
            for (int k = 0; k < c; ++k) QVERIFY(std::fabs(single[size_t(k)] - batched[size_t(r) * c + k]) < 1e-5f);
        }
        int64_t total = 0;
        for (int64_t v : counts[0]) total += v;
        QCOMPARE(total, int64_t(n) * 2); // every row fills top-2 slots
    }

    void topKOverrideChangesRouting() {
        const Model model = test_support::tiny_moe_model(3);
        std::vector<float> x(4 * 8, 0.5f), logits(8 * 2);
        ForwardWorkspace ws;
        ExpertSlotCounts counts = make_expert_slot_counts(model);
        ForwardOptions opt;
        opt.top_k_override = 3;
        forward(model, x.data(), 8, logits.data(), opt, ws, &counts);
        QCOMPARE(counts[0], (std::vector<int64_t>{8, 8, 8}));
        opt.top_k_override = 99; // clamped to the expert count
        QCOMPARE(effective_top_k(*model.moe_layers()[0], opt), 3);
    }

    void blasLinearMatchesReference_data() {
        QTest::addColumn<int>("rows");
        QTest::newRow("batch 1 (sgemv)") << 1;
        QTest::newRow("batch 7 (sgemm)") << 7;
        QTest::newRow("batch 64") << 64;
    }
    void blasLinearMatchesReference() {
        QFETCH(int, rows);
        LinearWeights l = lin("l", 37, 23, {}, {});
        std::vector<float> w, bias;
        for (int i = 0; i < 37 * 23; ++i) w.push_back(std::cos(float(i)));
        for (int i = 0; i < 23; ++i) bias.push_back(0.1f * float(i));
        l.weight = w;
        l.bias = bias;
        std::vector<float> x(size_t(rows) * 37), a(size_t(rows) * 23), b(size_t(rows) * 23);
        for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(float(i));
        linear_forward(l, x.data(), rows, a.data());
        linear_forward_reference(l, x.data(), rows, b.data());
        for (size_t i = 0; i < a.size(); ++i) QVERIFY2(std::fabs(a[i] - b[i]) < 1e-4f, qPrintable(QString::number(i)));
    }
};

QTEST_GUILESS_MAIN(TestMoeForward)
#include "test_moe_forward.moc"
