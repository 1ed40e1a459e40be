// test_kernels.cpp - every optimized kernel against the plain reference, on odd shapes.
#include "dense_linear.h"
#include "compression.h"
#include "forward.h"
#include "kernel_plan.h"
#include "sparse_csr.h"
#include "test_support.h"

#include <QtTest>

#include <cmath>
#include <cstring>
#include <random>

using namespace ss;

namespace {
// Dense weights with the given share of exact zeros (and some fully empty rows).
LinearWeights sparse_weights(int out, int in, double sparsity, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::vector<float> w(static_cast<size_t>(out) * in), b(static_cast<size_t>(out));
    for (auto& v : w) v = u(rng) < sparsity ? 0.0f : d(rng);
    for (int o = 0; o < out; o += 7)
        for (int i = 0; i < in; ++i) w[size_t(o) * in + i] = 0.0f; // empty rows
    for (auto& v : b) v = d(rng);
    LinearWeights l;
    l.name = "w";
    l.out = out;
    l.in = in;
    l.weight = std::move(w);
    l.bias = std::move(b);
    return l;
}
std::vector<float> inputs(int n, int in, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> x(size_t(n) * in);
    for (auto& v : x) v = d(rng);
    return x;
}
} // namespace

class TestKernels : public QObject {
    Q_OBJECT
private slots:
    void csrMatchesReference_data() {
        QTest::addColumn<int>("out");
        QTest::addColumn<int>("in");
        QTest::addColumn<int>("batch");
        QTest::addColumn<double>("sparsity");
        QTest::newRow("batch 1, 90 %") << 37 << 301 << 1 << 0.9;
        QTest::newRow("batch 2, 50 %") << 64 << 100 << 2 << 0.5;
        QTest::newRow("batch 3, odd") << 13 << 7 << 3 << 0.3;
        QTest::newRow("batch 33, 95 %, 3 K blocks") << 50 << 700 << 33 << 0.95;
        QTest::newRow("batch 70, dense") << 29 << 513 << 70 << 0.0;
        QTest::newRow("fully pruned") << 16 << 40 << 9 << 1.0;
    }
    void csrMatchesReference() {
        QFETCH(int, out);
        QFETCH(int, in);
        QFETCH(int, batch);
        QFETCH(double, sparsity);
        const LinearWeights l = sparse_weights(out, in, sparsity, uint64_t(out * 31 + in));
        const CsrMatrix c = csr_from_dense(l.weight.data(), out, in);
        int64_t nz = 0;
        for (float v : l.weight) nz += v != 0.0f;
        QCOMPARE(c.nnz(), nz);
        const std::vector<float> x = inputs(batch, in, 5);
        std::vector<float> ref(size_t(batch) * out), fast(ref.size()), portable(ref.size());
        linear_forward_reference(l, x.data(), batch, ref.data());
        csr_matmul(c, l.bias.data(), x.data(), batch, fast.data());
        csr_matmul_portable(c, l.bias.data(), x.data(), batch, portable.data());
        // Against the double-accumulated reference: fp32 rounding of up to `in` terms.
        for (size_t k = 0; k < ref.size(); ++k)
            QVERIFY2(std::fabs(fast[k] - ref[k]) <= 1e-4f * (1.0f + std::fabs(ref[k])) * std::sqrt(float(in)),
                     qPrintable(QString("%1: %2 vs %3").arg(k).arg(fast[k]).arg(ref[k])));
        // The AVX2 and portable paths agree bit for bit.
        QVERIFY(std::memcmp(fast.data(), portable.data(), fast.size() * sizeof(float)) == 0);
    }

    void kernelPlanPicksCsrForSparseMatricesOnly() {
        const Model m = test_support::tiny_moe_model(4);
        QCOMPARE(kernel_summary(compress(m, {}).model).rfind("dense", 0), size_t(0));
        const CompressedModel c = compress(m, plan_from_flags("magnitude-layer:0.6", "none", 0));
        int with_csr = 0, total = 0;
        for_each_compressible_linear(c.model, [&](const LinearWeights& l) {
            ++total;
            with_csr += bool(l.csr);
        });
        QCOMPARE(with_csr, total);
        QVERIFY(!std::get<MoeLayer>(c.model.layers[2]).gate.csr); // the router stays dense
        // The sparse forward (batch >= kCsrMinBatch) matches the dense kernels on the same weights.
        Model dense = c.model;
        for_each_compressible_linear(dense, [](LinearWeights& l) { l.csr.reset(); });
        const int n = 40;
        const std::vector<float> x = inputs(n, 4, 9);
        std::vector<float> a(size_t(n) * 2), b(size_t(n) * 2);
        ForwardWorkspace ws;
        forward(c.model, x.data(), n, a.data(), {}, ws, nullptr);
        forward(dense, x.data(), n, b.data(), {}, ws, nullptr);
        for (size_t k = 0; k < a.size(); ++k) QVERIFY(std::fabs(a[k] - b[k]) < 1e-5f * (1 + std::fabs(b[k])));
    }
};

QTEST_GUILESS_MAIN(TestKernels)
#include "test_kernels.moc"
