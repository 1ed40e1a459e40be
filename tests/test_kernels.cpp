// test_kernels.cpp - every optimized kernel against the plain reference, on odd shapes.
#include "kernels/dense_linear.h"
#include "model/matrices.h"
#include "compress/compression.h"
#include "error.h"
#include "formats/byte_source.h"
#include "formats/safetensors.h"
#include "model/forward.h"
#include "model/gelu.h"
#include "kernels/kernel_plan.h"
#include "kernels/quant_matmul.h"
#include "kernels/simd_path.h"
#include "kernels/small_batch_matmul.h"
#include "compress/prune_magnitude.h"
#include "kernels/sparse_bsr.h"
#include "compress/prune_nm.h"
#include "kernels/sparse_csr.h"
#include "kernels/sparse_nm24.h"
#include "kernels/thread_pool.h"
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
// y = kernel(...) under every SIMD path this CPU runs (portable first), each forced as
// SPARSESCOPE_ISA would force it; the outputs by path.
template <class Kernel>
std::vector<std::pair<SimdPath, std::vector<float>>> on_every_path(size_t n, Kernel kernel) {
    std::vector<std::pair<SimdPath, std::vector<float>>> out;
    for (SimdPath p : simd_paths_available()) {
        ScopedSimdPath forced(p);
        if (simd_path() != p) qFatal("forcing SIMD path %s did not hold", simd_path_name(p));
        std::vector<float> y(n, std::nanf(""));
        kernel(y.data());
        out.emplace_back(p, std::move(y));
    }
    return out;
}
bool same_bits(const std::vector<float>& a, const std::vector<float>& b);
// Whether kernel(y) on path p with two threads gives `one`, the one-thread output, bit for bit:
// the threads split rows or panels, never a sum.
template <class Kernel>
bool same_with_two_threads(const std::vector<float>& one, SimdPath p, Kernel kernel) {
    ScopedSimdPath forced(p);
    set_compute_threads(2);
    std::vector<float> two(one.size());
    kernel(two.data());
    set_compute_threads(1);
    return same_bits(one, two);
}
bool same_bits(const std::vector<float>& a, const std::vector<float>& b) { return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0; }
// |y - ref| within fp32 rounding of `in` terms, against a double-accumulated reference.
void expect_near_reference(const std::vector<float>& y, const std::vector<float>& ref, int in, SimdPath p) {
    for (size_t k = 0; k < ref.size(); ++k)
        QVERIFY2(std::fabs(y[k] - ref[k]) <= 1e-4f * (1.0f + std::fabs(ref[k])) * std::sqrt(float(in)),
                 qPrintable(QString("%1, %2: %3 vs %4").arg(simd_path_name(p)).arg(k).arg(y[k]).arg(ref[k])));
}
} // namespace

class TestKernels : public QObject {
    Q_OBJECT
private slots:
    void simdPathSwitch() {
        // Names round-trip; avx512-vnni is taken as avx512; anything else is not a path.
        for (SimdPath p : {SimdPath::Portable, SimdPath::Avx2, SimdPath::AvxVnni, SimdPath::Avx512})
            QCOMPARE_EQ(parse_simd_path(simd_path_name(p)), std::optional<SimdPath>(p));
        QCOMPARE_EQ(parse_simd_path("avx512-vnni"), std::optional<SimdPath>(SimdPath::Avx512));
        QVERIFY(!parse_simd_path("AVX2") && !parse_simd_path("sse4") && !parse_simd_path(""));
        const std::vector<SimdPath> all = simd_paths_available();
        QCOMPARE_EQ(all.front(), SimdPath::Portable);
        QCOMPARE_EQ(all.back(), simd_best());
        {
            // A forced path holds for the scope, is capped at what the CPU runs, and the kernel
            // line names it.
            ScopedSimdPath outer(SimdPath::Portable);
            QCOMPARE_EQ(simd_path(), SimdPath::Portable);
            QCOMPARE(std::string(qmatmul_isa()), std::string("portable"));
            {
                ScopedSimdPath inner(SimdPath::Avx512);
                QCOMPARE_EQ(simd_path(), simd_best());
            }
            QCOMPARE_EQ(simd_path(), SimdPath::Portable);
            Model m;
            m.input.shape = {8};
            m.layers.push_back(sparse_weights(4, 8, 0.0, 1));
            QVERIFY(kernel_summary(m).find("; SIMD portable, integer dot portable;") != std::string::npos);
        }
        if (simd_best() >= SimdPath::Avx2) {
            ScopedSimdPath forced(SimdPath::Avx2);
            QCOMPARE(std::string(qmatmul_isa()), std::string("avx2")); // never 256-bit VNNI when avx2 is asked for
        }
    }

    void bf16MatmulMatchesReference_data() {
        QTest::addColumn<int>("out");
        QTest::addColumn<int>("in");
        QTest::addColumn<int>("batch");
        QTest::newRow("batch 1, fused rows, in % 32 = 13") << 37 << 301 << 1;
        QTest::newRow("batch 1, in < 8") << 70 << 5 << 1;
        QTest::newRow("batch 2, tiles") << 130 << 100 << 2;
        QTest::newRow("batch 33, 3 tiles") << 150 << 256 << 33;
    }
    void bf16MatmulMatchesReference() {
        // A deferred BF16 matrix (as a Hugging Face model loads for compression only) runs
        // bf16_matmul; it must equal the reference on the same values widened to fp32.
        QFETCH(int, out);
        QFETCH(int, in);
        QFETCH(int, batch);
        LinearWeights l = sparse_weights(out, in, 0.0, uint64_t(out + in));
        std::vector<uint16_t> b16(size_t(out) * in);
        std::vector<float> widened(b16.size());
        for (size_t k = 0; k < widened.size(); ++k) {
            uint32_t u;
            std::memcpy(&u, &l.weight.data()[k], 4);
            b16[k] = uint16_t(u >> 16); // truncated: any bf16 value will do
            const uint32_t w = uint32_t(b16[k]) << 16;
            std::memcpy(&widened[k], &w, 4);
        }
        LinearWeights ref = l, deferred = l;
        ref.weight = widened;
        const auto* raw = reinterpret_cast<const uint8_t*>(b16.data());
        auto src = bytes_source(std::vector<uint8_t>(raw, raw + b16.size() * 2));
        deferred.weight = WeightData::deferred(src, reinterpret_cast<const uint16_t*>(src->data()), b16.size(), DeferredType::BF16);
        QVERIFY(deferred.weight.bf16_data() != nullptr);
        QCOMPARE(kernel_name(deferred, batch), std::string(batch == 1 ? "bf16-gemv" : "bf16-tiles"));
        const std::vector<float> x = inputs(batch, in, 9);
        std::vector<float> want(size_t(batch) * out), got(want.size());
        linear_forward_reference(ref, x.data(), batch, want.data());
        linear_forward(deferred, x.data(), batch, got.data());
        for (size_t k = 0; k < want.size(); ++k)
            QVERIFY2(std::fabs(got[k] - want[k]) <= 1e-4f * (1.0f + std::fabs(want[k])) * std::sqrt(float(in)),
                     qPrintable(QString("%1: %2 vs %3").arg(k).arg(got[k]).arg(want[k])));
        QVERIFY(deferred.weight.deferred_pending()); // computed from the BF16: no fp32 copy made
    }

    void smallBatchMatmulMatchesReference_data() {
        QTest::addColumn<int>("out");
        QTest::addColumn<int>("in");
        QTest::addColumn<int>("batch");
        QTest::newRow("batch 2, odd out, in % 16 = 13") << 37 << 301 << 2;
        QTest::newRow("batch 8, in < 8") << 70 << 5 << 8;
        QTest::newRow("batch 9: chunks of 8 and 1") << 64 << 256 << 9;
        QTest::newRow("batch 16, the demo expert's shape") << 512 << 256 << 16;
        QTest::newRow("batch 3, in % 16 = 0, one output") << 1 << 48 << 3;
    }
    void smallBatchMatmulMatchesReference() {
        // fp32 at 2 .. 16 rows runs without sgemm's packing (small_batch_matmul.h) on every SIMD
        // path; each within float rounding of the double-sum reference, 1 and 2 threads the same.
        QFETCH(int, out);
        QFETCH(int, in);
        QFETCH(int, batch);
        const LinearWeights l = sparse_weights(out, in, 0.0, uint64_t(out * 3 + in));
        const std::vector<float> x = inputs(batch, in, 5);
        std::vector<float> ref(size_t(batch) * out);
        linear_forward_reference(l, x.data(), batch, ref.data());
        const auto paths = on_every_path(ref.size(), [&](float* y) { small_batch_matmul(l.weight.data(), out, in, l.bias.data(), x.data(), batch, y); });
        for (const auto& [p, y] : paths) {
            expect_near_reference(y, ref, in, p);
            QVERIFY2(same_with_two_threads(y, p, [&](float* two) { small_batch_matmul(l.weight.data(), out, in, l.bias.data(), x.data(), batch, two); }),
                     simd_path_name(p));
        }
        // linear_forward takes it for dense matrices at these batches whenever AVX2 is there.
        std::vector<float> via(ref.size());
        linear_forward(l, x.data(), batch, via.data());
        expect_near_reference(via, ref, in, simd_path());
    }

    void deferredWeightsConvertOnReadAndDropAgain() {
        // BF16 and F16 bits (normal, subnormal, inf, negative zero) read as their fp32 values;
        // a copy shares the conversion; release drops it and the next read makes it again;
        // writing gives the writer values of its own.
        const std::vector<uint16_t> bf = {0x3f80, 0xc000, 0x0001, 0x7f80, 0x8000, 0x4049};
        const std::vector<uint16_t> hf = {0x3c00, 0xc000, 0x0001, 0x7c00, 0x8000, 0x4248};
        for (const auto& [bits, type] : {std::pair{bf, DeferredType::BF16}, std::pair{hf, DeferredType::F16}}) {
            auto src = bytes_source(std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(bits.data()),
                                                         reinterpret_cast<const uint8_t*>(bits.data()) + bits.size() * 2));
            const WeightData w = WeightData::deferred(src, reinterpret_cast<const uint16_t*>(src->data()), bits.size(), type);
            QCOMPARE(w.size(), bits.size());
            QVERIFY(w.deferred_pending());
            for (size_t i = 0; i < bits.size(); ++i) {
                const float want = type == DeferredType::BF16 ? bf16_to_f32(bits[i]) : f16_to_f32(bits[i]);
                QCOMPARE(std::memcmp(&w.data()[i], &want, 4), 0);
            }
            const WeightData copy = w;
            QVERIFY(!copy.deferred_pending()); // shared conversion
            QCOMPARE(copy.data(), w.data());
            w.release_file_pages();
            QVERIFY(copy.deferred_pending());
            QCOMPARE(copy[0], 1.0f); // converted again
            WeightData owned = w;
            owned[0] = 5.0f; // copy-on-write
            QVERIFY(!owned.is_deferred());
            QCOMPARE(owned[0], 5.0f);
            QCOMPARE(owned[1], -2.0f);
            QCOMPARE(w[0], 1.0f);
            QCOMPARE(type == DeferredType::BF16, w.bf16_data() != nullptr);
        }
    }

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
        std::vector<float> ref(size_t(batch) * out);
        linear_forward_reference(l, x.data(), batch, ref.data());
        const auto run = [&](float* y) { csr_matmul(c, l.bias.data(), x.data(), batch, y); };
        const auto paths = on_every_path(ref.size(), run);
        for (const auto& [p, y] : paths) {
            expect_near_reference(y, ref, in, p);
            // AVX-512 sums in the portable order, bit for bit; AVX2's panel kernel in its own (sparse_csr.cpp).
            if (p == SimdPath::Avx512 || (p >= SimdPath::Avx2 && batch <= 2)) QVERIFY2(same_bits(y, paths[0].second), simd_path_name(p));
            QVERIFY2(same_with_two_threads(y, p, run), simd_path_name(p));
        }
    }

    void bsrMatchesReference_data() {
        QTest::addColumn<int>("out");
        QTest::addColumn<int>("in");
        QTest::addColumn<int>("batch");
        QTest::addColumn<double>("sparsity");
        QTest::newRow("batch 1, 90 % blocks, out % 4 = 1") << 37 << 301 << 1 << 0.9;
        QTest::newRow("batch 2, 50 %") << 64 << 100 << 2 << 0.5;
        QTest::newRow("batch 3, odd, out < 4") << 3 << 7 << 3 << 0.3;
        QTest::newRow("batch 33, 95 %, 3 K blocks") << 50 << 700 << 33 << 0.95;
        QTest::newRow("batch 70, dense") << 29 << 513 << 70 << 0.0;
        QTest::newRow("fully pruned") << 16 << 40 << 9 << 1.0;
    }
    void bsrMatchesReference() {
        QFETCH(int, out);
        QFETCH(int, in);
        QFETCH(int, batch);
        QFETCH(double, sparsity);
        LinearWeights l = sparse_weights(out, in, 0.0, uint64_t(out * 13 + in));
        prune_magnitude_blocks({&l}, sparsity);
        const BsrMatrix b = bsr_from_dense(l.weight.data(), out, in);
        // Block pruning leaves whole 4x1 blocks: BSR stores exactly those with a nonzero, and at
        // least round(sparsity * blocks) are gone (the test's empty rows may empty more).
        const int64_t blocks = int64_t(b.row_blocks()) * in;
        int64_t nonzero_blocks = 0;
        for (int q = 0; q < b.row_blocks(); ++q)
            for (int j = 0; j < in; ++j) {
                bool any = false;
                for (int i = 0; i < 4 && 4 * q + i < out; ++i) any |= l.weight[size_t(4 * q + i) * in + j] != 0.0f;
                nonzero_blocks += any;
            }
        QCOMPARE(b.blocks(), nonzero_blocks);
        QVERIFY(nonzero_blocks <= blocks - std::llround(sparsity * double(blocks)));
        QVERIFY(bsr_to_dense(b) == l.weight.to_vector());
        const std::vector<float> x = inputs(batch, in, 5);
        std::vector<float> ref(size_t(batch) * out);
        linear_forward_reference(l, x.data(), batch, ref.data());
        const auto run = [&](float* y) { bsr_matmul(b, l.bias.data(), x.data(), batch, y); };
        const auto paths = on_every_path(ref.size(), run);
        for (const auto& [p, y] : paths) {
            expect_near_reference(y, ref, in, p);
            QVERIFY2(same_bits(y, paths[0].second), simd_path_name(p)); // every path sums in one order
            QVERIFY2(same_with_two_threads(y, p, run), simd_path_name(p));
        }
    }

    void nm24MatchesReference_data() {
        QTest::addColumn<int>("out");
        QTest::addColumn<int>("in");
        QTest::addColumn<int>("batch");
        QTest::newRow("batch 1, in % 4 = 1") << 37 << 301 << 1;
        QTest::newRow("batch 2, one window") << 16 << 32 << 2;
        QTest::newRow("batch 3, in < 4") << 5 << 3 << 3;
        QTest::newRow("batch 1, 784 inputs") << 64 << 784 << 1;
    }
    void nm24MatchesReference() {
        QFETCH(int, out);
        QFETCH(int, in);
        QFETCH(int, batch);
        LinearWeights l = sparse_weights(out, in, 0.2, uint64_t(out * 7 + in)); // some groups keep fewer than 2
        prune_nm(l, 2, 4);
        QVERIFY(fits_nm24(l.weight.data(), out, in));
        const Nm24Matrix m = nm24_from_dense(l.weight.data(), out, in);
        QVERIFY(nm24_to_dense(m) == l.weight.to_vector());
        QCOMPARE(m.values_per_row % 16, 0);
        const std::vector<float> x = inputs(batch, in, 3);
        std::vector<float> ref(size_t(batch) * out);
        linear_forward_reference(l, x.data(), batch, ref.data());
        const auto paths = on_every_path(ref.size(), [&](float* y) { nm24_matmul(m, l.bias.data(), x.data(), batch, y); });
        for (const auto& [p, y] : paths) {
            expect_near_reference(y, ref, in, p);
            QVERIFY2(same_bits(y, paths[0].second), simd_path_name(p)); // AVX2's permutes pick the lanes AVX-512's do
        }
        // A matrix with 3 nonzeros in a group does not fit and is refused.
        std::vector<float> dense(8, 1.0f);
        QVERIFY(!fits_nm24(dense.data(), 2, 4));
        QVERIFY_THROWS_EXCEPTION(Error, nm24_from_dense(dense.data(), 2, 4));
        // An nm:2:4 model runs the 2:4 kernel at batch 1 under the static rule, a sparse panel
        // kernel in batches (the tiny model's 3-row matrices even fit 4x1 blocks).
        set_kernel_selection(KernelSelection::Static);
        const CompressedModel c = compress(test_support::tiny_moe_model(5), plan_from_flags("nm:2:4", "none", 0));
        for_each_matrix(c.model, [&](const LinearWeights& w) {
            if (w.in < 4) return;
            QCOMPARE(kernel_name(w, 1), std::string("nm24-rows"));
            QVERIFY(kernel_name(w, 64).ends_with("-panel"));
        });
        set_kernel_selection(KernelSelection::Measured);
    }

    void blockPruningRanksBlocksByMeanMagnitude() {
        // 8 x 2: blocks (rows 0-3, col 0) mean 1, (0-3, 1) mean 4, (4-7, 0) mean 2, (4-7, 1) mean 3.
        LinearWeights l;
        l.out = 8;
        l.in = 2;
        l.weight = WeightData(std::vector<float>{1, 4, -1, 4, 1, -4, -1, 4, 2, 3, 2, -3, -2, 3, 2, 3});
        QCOMPARE(prune_magnitude_blocks({&l}, 0.5), int64_t(8));
        QVERIFY(l.weight == WeightData(std::vector<float>{0, 4, 0, 4, 0, -4, 0, 4, 0, 3, 0, -3, 0, 3, 0, 3}));
        // A model pruned in blocks runs the block kernel under the static rule.
        set_kernel_selection(KernelSelection::Static);
        const CompressedModel c = compress(test_support::tiny_moe_model(3), plan_from_flags("magnitude:0.75:block4", "none", 0));
        QVERIFY(std::fabs(c.sparsity - 0.75) < 0.05);
        int bsr = 0;
        for_each_matrix(c.model, [&](const LinearWeights& m) {
            bsr += bool(prepared(m).bsr);
            if (prepared(m).bsr) QVERIFY(m.weight.empty()); // the blocks serve every batch size
        });
        QVERIFY(bsr > 0);
        set_kernel_selection(KernelSelection::Measured);
    }

    void kernelPlanPicksCsrForSparseMatricesOnly() {
        set_kernel_selection(KernelSelection::Static);
        const Model m = test_support::tiny_moe_model(4);
        QVERIFY(kernel_summary(compress(m, {}).model).rfind("batch 1: 8 sgemv; batch 256: 8 sgemm; SIMD ", 0) == 0);
        const CompressedModel c = compress(m, plan_from_flags("magnitude-layer:0.6", "none", 0));
        int with_csr = 0, total = 0;
        for_each_matrix(c.model, [&](const LinearWeights& l) {
            ++total;
            with_csr += bool(prepared(l).csr) || bool(prepared(l).bsr); // a sparse kernel (4x1 blocks when the zeros happen to fit)
        });
        QCOMPARE(with_csr, total);
        QVERIFY(!prepared(std::get<MoeLayer>(c.model.layers[2]).gate).csr); // the router stays dense
        // The sparse forward (batch >= kCsrMinBatch) matches the dense kernels on the same weights.
        Model dense = c.model;
        restore_dense_weights(dense); // fp32 again, dense kernels
        const int n = 40;
        const std::vector<float> x = inputs(n, 4, 9);
        std::vector<float> a(size_t(n) * 2), b(size_t(n) * 2);
        ForwardWorkspace ws;
        forward(c.model, x.data(), n, a.data(), {}, ws, nullptr);
        forward(dense, x.data(), n, b.data(), {}, ws, nullptr);
        for (size_t k = 0; k < a.size(); ++k) QVERIFY(std::fabs(a[k] - b[k]) < 1e-5f * (1 + std::fabs(b[k])));
        set_kernel_selection(KernelSelection::Measured);
    }
    void quantizedKernelsMatchReference_data() {
        QTest::addColumn<QString>("scheme");
        QTest::addColumn<int>("out");
        QTest::addColumn<int>("in");
        QTest::addColumn<int>("batch");
        QTest::addColumn<double>("sparsity");
        QTest::newRow("int8 per channel, batch 1, odd in") << "int8" << 37 << 301 << 1 << 0.0;
        QTest::newRow("int8 per channel asym, batch 5") << "int8:asym" << 16 << 64 << 5 << 0.3;
        QTest::newRow("int8:g128, batch 8") << "int8:g128" << 9 << 300 << 8 << 0.0;
        QTest::newRow("int4:g32, batch 1") << "int4:g32" << 40 << 784 << 1 << 0.0;
        QTest::newRow("int4:g64:asym, batch 3, short last group") << "int4:g64:asym" << 21 << 100 << 3 << 0.5;
        QTest::newRow("int3:g32, batch 4") << "int3:g32" << 8 << 65 << 4 << 0.0;
        QTest::newRow("int2:g32:asym, batch 7") << "int2:g32:asym" << 12 << 96 << 7 << 0.0;
        QTest::newRow("int4:g32, fully pruned") << "int4:g32" << 5 << 40 << 2 << 1.0;
        QTest::newRow("int8, in < one block") << "int8" << 3 << 7 << 2 << 0.0;
        // int4 rows of 11 and 13 blocks (AVX-512 takes four at a time: tails of 3 and 1) and of 2 steps.
        QTest::newRow("int4:g32, batch 2, 11 blocks") << "int4:g32" << 19 << 350 << 2 << 0.2;
        QTest::newRow("int4:g64, batch 1, 13 blocks") << "int4:g64" << 17 << 400 << 1 << 0.0;
        QTest::newRow("int4:g128, batch 6") << "int4:g128" << 33 << 1024 << 6 << 0.5;
        QTest::newRow("int4:g128, in 128: one scale per row, batch 1") << "int4:g128" << 24 << 128 << 1 << 0.0;
        QTest::newRow("int4:g128, in 120: one scale per row, batch 2") << "int4:g128" << 24 << 120 << 2 << 0.0;
        QTest::newRow("int4:g32:asym, batch 9 (two steps of 4, then 1)") << "int4:g32:asym" << 11 << 2816 << 9 << 0.0;
    }
    void activationRoundingTiesToEven() {
        // Activations scale by 127 / max|x| per block of 32: with max 127 the products are the values themselves,
        // so x = k + 0.5 lands on ties, which every path must round to even (nearbyint's rule),
        // and the whole-block SIMD quantizer must give the portable codes bit for bit.
        const int in = 64;
        LinearWeights l = sparse_weights(3, in, 0.0, 5);
        const QMatrix m = qmatrix_from(quantize_weights(l.weight.data(), 3, in, parse_quant_spec("int8")));
        std::vector<float> x(in);
        for (int i = 0; i < in; ++i) x[size_t(i)] = i % 32 == 0 ? 127.0f : float(i % 9) - 4.0f + 0.5f * float((i % 2) ? 1 : -1); // 127 heads each block
        std::vector<float> ref(3);
        const auto paths = on_every_path(3, [&](float* y) { qmatmul_dot(m, nullptr, x.data(), 1, y); });
        const std::vector<float>& portable = paths[0].second;
        // the reference with x already integral gives what rounding half to even should
        std::vector<float> even(x);
        for (float& v : even) v = std::nearbyint(v);
        qmatmul_dot_reference(m, nullptr, even.data(), 1, ref.data());
        for (int o = 0; o < 3; ++o) QVERIFY2(std::fabs(portable[size_t(o)] - ref[size_t(o)]) <= 1e-4f * (1.0f + std::fabs(ref[size_t(o)])), qPrintable(QString::number(o)));
        for (const auto& [p, y] : paths) QVERIFY2(same_bits(y, portable), simd_path_name(p));
    }

    void quantizedKernelsMatchReference() {
        QFETCH(QString, scheme);
        QFETCH(int, out);
        QFETCH(int, in);
        QFETCH(int, batch);
        QFETCH(double, sparsity);
        LinearWeights l = sparse_weights(out, in, sparsity, uint64_t(out * 17 + in));
        const QuantizedWeights q = quantize_weights(l.weight.data(), out, in, parse_quant_spec(scheme.toStdString()));
        QVERIFY(qmatrix_supports(q));
        const QMatrix m = qmatrix_from(q);
        // The block layout holds exactly the dequantized weights.
        const std::vector<float> deq = dequantize_weights(q);
        std::vector<float> rows(deq.size());
        qmatrix_dequantize_rows(m, 0, out, rows.data());
        QVERIFY(std::memcmp(rows.data(), deq.data(), deq.size() * sizeof(float)) == 0);
        l.weight = WeightData(deq);

        const std::vector<float> x = inputs(batch, in, 11);
        std::vector<float> fp32(size_t(batch) * out), ref(fp32.size()), fast(fp32.size()), tiles(fp32.size());
        linear_forward_reference(l, x.data(), batch, fp32.data());
        qmatmul_dot_reference(m, l.bias.data(), x.data(), batch, ref.data());
        qmatmul_dot(m, l.bias.data(), x.data(), batch, fast.data());
        qmatmul_tiles(m, l.bias.data(), x.data(), batch, tiles.data());
        for (int r = 0; r < batch; ++r)
            for (int o = 0; o < out; ++o) {
                const size_t k = size_t(r) * out + o;
                // Same quantized activations, fp32 sums: a few ulp per group.
                QVERIFY2(std::fabs(fast[k] - ref[k]) <= 1e-5f * (1.0f + std::fabs(ref[k])) * std::sqrt(float(in)),
                         qPrintable(QString("dot %1: %2 vs %3").arg(k).arg(fast[k]).arg(ref[k])));
                // Against fp32 on the dequantized weights: rounding x to 8 bits moves it by at most
                // half a step, max|x_block| / 254, so |error| <= sum |w_i| * max|x_block(i)| / 254.
                double bound = 0.0;
                for (int i = 0; i < in; ++i) {
                    const int b0 = i / 32 * 32;
                    float amax = 0.0f;
                    for (int j = b0; j < std::min(in, b0 + 32); ++j) amax = std::max(amax, std::fabs(x[size_t(r) * in + j]));
                    bound += std::fabs(deq[size_t(o) * in + i]) * amax / 254.0;
                }
                QVERIFY2(std::fabs(fast[k] - fp32[k]) <= bound * 1.001 + 1e-5 * (1.0 + std::fabs(fp32[k])),
                         qPrintable(QString("vs fp32 %1: %2 vs %3, bound %4").arg(k).arg(fast[k]).arg(fp32[k]).arg(bound)));
                // Dequantized tiles + sgemm: fp32 on exactly those weights.
                QVERIFY2(std::fabs(tiles[k] - fp32[k]) <= 1e-4f * (1.0f + std::fabs(fp32[k])) * std::sqrt(float(in)),
                         qPrintable(QString("tiles %1: %2 vs %3").arg(k).arg(tiles[k]).arg(fp32[k])));
            }
        // Every integer path this CPU has (AVX2, AVX-VNNI, AVX-512 VNNI) agrees with the portable one
        // bit for bit (int4: every path sums its 16 lanes per step of four blocks in one order),
        // and so do 1 and 2 threads.
        std::vector<float> portable(fast.size());
        qmatmul_dot_on("portable", m, l.bias.data(), x.data(), batch, portable.data());
        for (const std::string& path : qmatmul_paths_available()) {
            std::vector<float> y(fast.size(), std::nanf(""));
            qmatmul_dot_on(path, m, l.bias.data(), x.data(), batch, y.data());
            QVERIFY2(same_bits(y, portable), path.c_str());
            set_compute_threads(2);
            std::vector<float> two(y.size());
            qmatmul_dot_on(path, m, l.bias.data(), x.data(), batch, two.data());
            set_compute_threads(1);
            QVERIFY2(same_bits(y, two), (path + ", two threads").c_str());
        }
        set_compute_threads(2);
        std::vector<float> two(fast.size());
        qmatmul_dot(m, l.bias.data(), x.data(), batch, two.data());
        set_compute_threads(1);
        QVERIFY(std::memcmp(fast.data(), two.data(), fast.size() * sizeof(float)) == 0);
    }

    void quantizedModelStaysCompressedInMemory() {
        // int4:g32 keeps 16 code bytes + a 2-byte (f16) scale per 32 weights: 14.1 % of fp32, as ggml's Q4_0.
        Model m;
        m.input.shape = {256};
        m.layers.push_back(sparse_weights(64, 256, 0.0, 3));
        m.layers.push_back(ActivationLayer{});
        m.layers.push_back(sparse_weights(10, 64, 0.0, 4));
        const CompressedModel c = compress(m, plan_from_flags("none", "int4:g32", 0));
        int64_t resident = 0, fp32 = 0;
        for_each_matrix(c.model, [&](const LinearWeights& l) {
            QVERIFY(l.weight.empty());
            QVERIFY(prepared(l).qmat);
            QVERIFY(l.quant->slim()); // the codes are kept once: in the kernel's blocks
            int64_t zeros = 0; // counted from the blocks: the zeros of the weights they stand for
            for (float v : dense_weights(l)) zeros += v == 0.0f;
            QCOMPARE(count_zero_weights(l), zeros);
            // Rebuilt from the blocks, the codes are those of quantizing the weights they stand for.
            QCOMPARE(quantized_weights_of(l)->packed, quantize_weights(dense_weights(l).data(), l.out, l.in, l.quant->spec).packed);
            QVERIFY(!prepared(l).csr);
            QCOMPARE(kernel_name(l, 1), std::string("q4-dot"));
            QCOMPARE(kernel_name(l, 256), std::string("q4-tiles"));
            resident += resident_weight_bytes(l) - int64_t(l.bias.size()) * 4;
            fp32 += l.weight_count() * 4;
        });
        QCOMPARE(resident, int64_t(64 * 8 * (16 + 2) + 10 * 2 * (16 + 2)));
        // A matrix whose scales are not f16 values (saved before scales were f16) gets no
        // integer kernel, so its weights are never rounded again: it runs them in fp32.
        QuantizedWeights old = quantize_weights(std::get<LinearWeights>(m.layers[0]).weight.data(), 64, 256, parse_quant_spec("int4:g32"));
        QVERIFY(qmatrix_supports(old));
        old.scale[5] = std::nextafter(old.scale[5], 1.0f);
        QVERIFY(!qmatrix_supports(old));
        // int3 and int2 codes take a nibble in the kernel's blocks, not a byte.
        const LinearWeights& first = std::get<LinearWeights>(m.layers[0]);
        for (const char* scheme : {"int3:g32", "int2:g32:asym"}) {
            const QuantizedWeights q = quantize_weights(first.weight.data(), first.out, first.in, parse_quant_spec(scheme));
            const QMatrix w = qmatrix_from(q);
            QCOMPARE(w.layout_bits, 4);
            QCOMPARE(w.codes.size(), size_t(64 * 8 * 16));
            QCOMPARE(qmatrix_to_quantized(w, q.spec, q.group).packed, q.packed); // and back, exactly
        }
        QVERIFY(double(resident) <= 0.141 * double(fp32));
        // Forward at batch 1 (integer dot) and 40 (tiles) against fp32 on the dequantized weights.
        Model deq = c.model;
        restore_dense_weights(deq);
        // Zeros counted from the codes equal the zeros of the dequantized weights (int4 rounds
        // small weights and the test's empty rows to 0).
        int64_t zeros = 0;
        for_each_matrix(deq, [&](const LinearWeights& l) {
            for (float w : l.weight) zeros += w == 0.0f;
        });
        QVERIFY(zeros > 0);
        QCOMPARE(c.sparsity, double(zeros) / double(fp32 / 4));
        for (int n : {1, 40}) {
            const std::vector<float> x = inputs(n, 256, 21);
            std::vector<float> a(size_t(n) * 10), b(a.size());
            ForwardWorkspace ws;
            forward(c.model, x.data(), n, a.data(), {}, ws, nullptr);
            forward(deq, x.data(), n, b.data(), {}, ws, nullptr);
            // Batch 1 rounds each layer's input to 8 bits per block of 32 (the per-matrix bound is
            // tested above); through two layers of random weights that is a few % of the logit scale.
            float scale = 0.0f;
            for (float v : b) scale = std::max(scale, std::fabs(v));
            for (size_t k = 0; k < a.size(); ++k)
                QVERIFY2(std::fabs(a[k] - b[k]) <= (n == 1 ? 0.1f * scale : 1e-4f * (1 + std::fabs(b[k]))),
                         qPrintable(QString("n=%1 k=%2: %3 vs %4").arg(n).arg(k).arg(a[k]).arg(b[k])));
        }
        // A planned model can be compressed again: its fp32 weights come back from the codes.
        const CompressedModel again = compress(c.model, plan_from_flags("magnitude:0.5", "int8", 0));
        QVERIFY(std::fabs(again.sparsity - 0.5) < 0.01);
    }

    void geluMatchesDoublePrecision() {
        std::vector<float> x;
        for (double v = -12.0; v <= 12.0; v += 0.00037) x.push_back(float(v));
        for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-5f, 50.0f, -50.0f, 1e30f, -1e30f}) x.push_back(v);
        std::vector<float> fast = x;
        gelu_erf_inplace(fast.data(), fast.size());
        const auto paths = on_every_path(x.size(), [&](float* y) {
            std::memcpy(y, x.data(), x.size() * sizeof(float));
            gelu_erf_inplace(y, x.size());
        });
        for (const auto& [p, y] : paths) QVERIFY2(same_bits(y, fast), simd_path_name(p));
        double worst = 0.0;
        for (size_t i = 0; i < x.size(); ++i) {
            const double ref = 0.5 * double(x[i]) * std::erfc(-double(x[i]) / std::sqrt(2.0));
            const double err = std::fabs(double(fast[i]) - ref);
            // Relative 1e-5 for |x| < 9; beyond, GELU is 0 or below 1e-18 in size for x < 0: 1e-4.
            if (std::fabs(x[i]) < 9.0f) worst = std::max(worst, ref != 0.0 ? err / std::fabs(ref) : err);
            else QVERIFY2(err <= 1e-37 + 1e-4 * std::fabs(ref), qPrintable(QString("x=%1: %2 vs %3").arg(x[i]).arg(fast[i]).arg(ref)));
        }
        qInfo("GELU worst relative error for |x| < 9: %.2g", worst);
        QVERIFY(worst < 1e-5);
        // For x >= -1 (where almost all activations are) a few ulp; 2e-6 down to x = -3.
        for (size_t i = 0; i < x.size(); ++i)
            if (x[i] > -3.0f && x[i] < 12.0f && x[i] != 0.0f) {
                const double ref = 0.5 * double(x[i]) * std::erfc(-double(x[i]) / std::sqrt(2.0));
                const double bound = x[i] >= -1.0f ? 5e-7 : 2e-6;
                QVERIFY2(std::fabs(double(fast[i]) - ref) <= bound * std::fabs(ref), qPrintable(QString::number(x[i])));
            }
        float nan = std::nanf("");
        gelu_erf_inplace(&nan, 1);
        QVERIFY(std::isnan(nan));
    }

    void threadPoolCoversEveryIndexOnce() {
        for (int threads : {1, 2, 3}) {
            set_compute_threads(threads);
            QCOMPARE(compute_threads(), threads);
            for (int64_t n : {int64_t(1), int64_t(7), int64_t(100), int64_t(1001)}) {
                std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
                parallel_for(n, 16, [&](int64_t b, int64_t e) {
                    QVERIFY(b % 16 == 0);
                    for (int64_t i = b; i < e; ++i) hits[size_t(i)]++;
                    // Nested calls run inline instead of deadlocking.
                    parallel_for(4, 1, [&](int64_t, int64_t) {});
                });
                for (auto& h : hits) QCOMPARE(h.load(), 1);
            }
        }
        set_compute_threads(1);
    }

    // A worker whose tasks sleep makes shared jobs slower than the caller alone: the pool then runs
    // jobs of that size solo. The ranges every job is cut into must not change with that (results
    // would then depend on timing), and small jobs stay on the caller.
    void threadPoolRangesDoNotDependOnTiming() {
        set_compute_threads(2);
        using Ranges = std::vector<std::pair<int64_t, int64_t>>;
        const auto caller = std::this_thread::get_id();
        auto ranges_of = [&](int64_t n, double work, bool slow_worker) {
            std::mutex m;
            Ranges r;
            parallel_for(n, 8, [&](int64_t b, int64_t e) {
                if (slow_worker) // every task takes a while, so the worker surely joins; its tasks take long
                    std::this_thread::sleep_for(std::chrono::microseconds(std::this_thread::get_id() == caller ? 500 : 40000));
                std::lock_guard lock(m);
                r.emplace_back(b, e);
            }, work);
            std::sort(r.begin(), r.end());
            return r;
        };
        // 1000 rows of 8: one task per thread for a batch-1-sized job, four per thread for a large one.
        const Ranges small = ranges_of(1000, 1e5, false), large = ranges_of(1000, 1e9, false);
        QCOMPARE(small.size(), size_t(2));
        QCOMPARE(small[0], std::make_pair(int64_t(0), int64_t(504)));
        QCOMPARE(large.size(), size_t(8));
        QCOMPARE(large[1], std::make_pair(int64_t(128), int64_t(256)));
        for (int round = 0; round < 4; ++round) QCOMPARE(ranges_of(1000, 1e9, true), large);
        const ThreadPoolStats before = thread_pool_stats();
        for (int round = 0; round < 16; ++round) {
            QCOMPARE(ranges_of(1000, 1e9, false), large);
            QCOMPARE(ranges_of(1000, 1e5, false), small);
        }
        const ThreadPoolStats after = thread_pool_stats();
        QVERIFY(before.shared_jobs > 0 && before.solo_jobs > 0);
        // Large jobs now run solo (the slow shared ones are remembered): at least 15 of those 16.
        QVERIFY2(after.solo_jobs - before.solo_jobs >= 15,
                 qPrintable(QString("solo %1 -> %2").arg(before.solo_jobs).arg(after.solo_jobs)));
        // Below kMinParallelWork: one range, on the calling thread.
        int calls = 0;
        parallel_for(1000, 8, [&](int64_t b, int64_t e) {
            ++calls;
            QCOMPARE(std::this_thread::get_id(), caller);
            QCOMPARE(b, int64_t(0));
            QCOMPARE(e, int64_t(1000));
        }, kMinParallelWork / 2);
        QCOMPARE(calls, 1);
        set_compute_threads(1);
    }
};

QTEST_GUILESS_MAIN(TestKernels)
#include "test_kernels.moc"
