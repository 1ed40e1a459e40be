// test_compression.cpp - every pruning and quantization method on small hand-checked matrices,
// the plan format and its errors, and the original model never being modified.
#include "compress/compression.h"
#include "model/matrices.h"
#include "kernels/prepared_matrix.h"
#include "eval/sweep_grid.h"
#include "compress/compression_plan.h"
#include "error.h"
#include "compress/expert_drop.h"
#include "model/forward.h"
#include "compress/prune_magnitude.h"
#include "compress/prune_neurons.h"
#include "compress/prune_nm.h"
#include "compress/prune_wanda.h"
#include "compress/quantized_weights.h"
#include "formats/safetensors.h"
#include "test_support.h"

#include <QtTest>

#include <cmath>
#include <random>

using namespace ss;

namespace {
int64_t compressible_count(const Model& m) {
    int64_t n = 0;
    for_each_matrix(m, [&](const LinearWeights& l) { n += l.weight_count(); });
    return n;
}
int64_t compressible_zeros(const Model& m) {
    int64_t n = 0;
    for_each_matrix(m, [&](const LinearWeights& l) { n += count_zero_weights(l); });
    return n;
}
LinearWeights matrix(int out, int in, std::vector<float> w) {
    LinearWeights l;
    l.name = "m";
    l.out = out;
    l.in = in;
    l.weight = std::move(w);
    l.bias = std::vector<float>(size_t(out), 0.0f);
    return l;
}
std::vector<float> random_weights(size_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> w(n);
    for (float& v : w) v = d(rng);
    return w;
}
QString error_of(const std::function<void()>& f) { return QString::fromStdString(test_support::error_message(f)); }
} // namespace

class TestCompression : public QObject {
    Q_OBJECT
private slots:
    // Global magnitude pruning picks its threshold by a histogram of bit patterns (no copy of all
    // magnitudes): the weights it zeroes must be exactly those of sorting every magnitude - k of
    // them, the smallest, ties broken in matrix order - with many ties, negative zeros and
    // magnitudes spanning many powers of two.
    void globalMagnitudeThresholdEqualsFullSort() {
        std::mt19937 rng(7);
        std::vector<LinearWeights> ls;
        for (int m = 0; m < 3; ++m) {
            LinearWeights l = make_linear("m" + std::to_string(m), 37 + m, 11 + 2 * m, true);
            std::vector<float> w(size_t(l.in) * l.out);
            for (float& v : w) {
                const int r = int(rng() % 100);
                v = r < 30 ? float(int(rng() % 7) - 3) * 0.25f             // ties
                    : r < 35 ? -0.0f
                             : std::ldexp(float(rng() % 1000) / 1000.0f - 0.5f, int(rng() % 20) - 10);
            }
            l.weight = WeightData(std::move(w));
            ls.push_back(std::move(l));
        }
        for (double sparsity : {0.05, 0.37, 0.5, 0.93}) {
            std::vector<LinearWeights> got = ls;
            std::vector<LinearWeights*> ptrs;
            for (auto& l : got) ptrs.push_back(&l);
            const int64_t k = prune_magnitude(ptrs, sparsity);
            // Reference: every (magnitude, matrix, index) sorted; the first k are zeroed.
            std::vector<std::tuple<float, size_t, size_t>> all;
            for (size_t m = 0; m < ls.size(); ++m)
                for (size_t i = 0; i < ls[m].weight.size(); ++i) all.emplace_back(std::fabs(ls[m].weight[i]), m, i);
            std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
            QCOMPARE(k, std::llround(sparsity * double(all.size())));
            std::vector<std::vector<float>> want;
            for (const auto& l : ls) want.push_back(l.weight.to_vector());
            for (int64_t j = 0; j < k; ++j) want[std::get<1>(all[size_t(j)])][std::get<2>(all[size_t(j)])] = 0.0f;
            for (size_t m = 0; m < ls.size(); ++m) QCOMPARE(got[m].weight.to_vector(), want[m]);
        }
    }

    // Block pruning ranks 4x1 blocks under one threshold found without listing them: it must
    // zero exactly the blocks a stable sort of every (mean |w|, matrix, block) picks, ties in
    // matrix order, including short last blocks (out % 4 != 0) and many equal scores.
    void blockThresholdEqualsFullSort() {
        std::mt19937 rng(11);
        std::vector<LinearWeights> ls;
        for (int m = 0; m < 3; ++m) {
            LinearWeights l = make_linear("b" + std::to_string(m), 9 + 5 * m, 6 + m, true); // out 6, 7, 8: short blocks
            std::vector<float> w(size_t(l.in) * l.out);
            for (float& v : w) v = rng() % 3 == 0 ? float(int(rng() % 5) - 2) : std::ldexp(float(rng() % 1000) / 1000.0f, int(rng() % 8) - 4);
            l.weight = WeightData(std::move(w));
            ls.push_back(std::move(l));
        }
        for (double sparsity : {0.1, 0.5, 0.77, 1.0}) {
            std::vector<LinearWeights> got = ls;
            std::vector<LinearWeights*> ptrs;
            for (auto& l : got) ptrs.push_back(&l);
            std::vector<std::string> order;
            const int64_t zeroed = prune_magnitude_blocks(ptrs, sparsity, [&](LinearWeights& l) { order.push_back(l.name); });
            QCOMPARE(order, (std::vector<std::string>{"b0", "b1", "b2"})); // each matrix reported once, in order
            struct Block {
                float score;
                size_t m;
                int q, j;
            };
            std::vector<Block> all;
            for (size_t m = 0; m < ls.size(); ++m) {
                const LinearWeights& l = ls[m];
                for (int q = 0; q * 4 < l.out; ++q)
                    for (int j = 0; j < l.in; ++j) {
                        const int rows = std::min(4, l.out - 4 * q);
                        float sum = 0.0f;
                        for (int i = 0; i < rows; ++i) sum += std::fabs(l.weight[size_t(4 * q + i) * l.in + j]);
                        all.push_back({sum / float(rows), m, q, j});
                    }
            }
            std::stable_sort(all.begin(), all.end(), [](const Block& a, const Block& b) { return a.score < b.score; });
            std::vector<std::vector<float>> want;
            for (const auto& l : ls) want.push_back(l.weight.to_vector());
            int64_t want_zeroed = 0;
            for (int64_t b = 0; b < std::llround(sparsity * double(all.size())); ++b) {
                const Block& x = all[size_t(b)];
                for (int i = 0; i < 4 && 4 * x.q + i < ls[x.m].out; ++i, ++want_zeroed) want[x.m][size_t(4 * x.q + i) * ls[x.m].in + x.j] = 0.0f;
            }
            QCOMPARE(zeroed, want_zeroed);
            for (size_t m = 0; m < ls.size(); ++m) QCOMPARE(got[m].weight.to_vector(), want[m]);
        }
    }

    // Compression finishes each matrix as soon as it is pruned (quantizes it there): the codes
    // must be those of quantizing the pruned matrix, as if all were pruned first.
    void pruneThenQuantizeMatrixByMatrix() {
        const Model m = test_support::tiny_moe_model(5);
        for (const char* prune : {"magnitude:0.6", "magnitude:0.5:block4", "nm:2:4"}) {
            const CompressedModel both = compress(m, plan_from_flags(prune, "int4:g32", 0));
            const CompressedModel pruned = compress(m, plan_from_flags(prune, "none", 0));
            std::vector<std::vector<float>> want;
            for_each_matrix(pruned.model, [&](const LinearWeights& l) {
                want.push_back(dequantize_weights(quantize_weights(dense_weights(l).data(), l.out, l.in, parse_quant_spec("int4:g32"))));
            });
            size_t i = 0;
            for_each_matrix(both.model, [&](const LinearWeights& l) {
                QVERIFY(l.quant || quantized_weights_of(l));
                QCOMPARE(dense_weights(l), want[i++]);
            });
            QCOMPARE(i, want.size());
            QVERIFY(std::fabs(both.sparsity - pruned.sparsity) < 1e-9);
        }
    }

    void magnitudeHitsSparsityExactly_data() {
        QTest::addColumn<double>("sparsity");
        for (double s : {0.0, 0.1, 0.25, 0.5, 0.73, 0.9, 0.99}) QTest::newRow(qPrintable(QString::number(s))) << s;
    }
    void magnitudeHitsSparsityExactly() {
        QFETCH(double, sparsity);
        const Model original = test_support::tiny_moe_model(11);
        CompressionPlan plan;
        plan.prune = {PruneMethod::Magnitude, sparsity, 0, 0};
        const CompressedModel c = compress(original, plan);
        const int64_t total = compressible_count(c.model);
        QCOMPARE(compressible_zeros(c.model), std::llround(sparsity * double(total)));
        // Gates and biases are never pruned; the original keeps its weights.
        QCOMPARE(std::get<MoeLayer>(c.model.layers[2]).gate.weight, std::get<MoeLayer>(original.layers[2]).gate.weight);
        QCOMPARE(std::get<LinearWeights>(c.model.layers[0]).bias, std::get<LinearWeights>(original.layers[0]).bias);
        QCOMPARE(compressible_zeros(original), int64_t(0));
    }

    void magnitudeRemovesSmallestFirstAcrossLayers() {
        Model m = test_support::tiny_moe_model(5);
        std::vector<float> mags;
        for_each_matrix(m, [&](const LinearWeights& l) {
            for (float w : l.weight) mags.push_back(std::fabs(w));
        });
        std::sort(mags.begin(), mags.end());
        const int64_t k = prune_magnitude_global(m, 0.4);
        QVERIFY(k > 0);
        for_each_matrix(m, [&](const LinearWeights& l) {
            for (float w : l.weight)
                if (w != 0.0f) QVERIFY(std::fabs(w) >= mags[size_t(k - 1)]);
        });
    }

    void magnitudePerLayerIsExactPerMatrix() {
        CompressionPlan plan = plan_from_flags("magnitude-layer:0.5", "none", 0);
        const CompressedModel c = compress(test_support::tiny_moe_model(2), plan);
        for_each_matrix(c.model, [](const LinearWeights& l) {
            int64_t z = 0;
            for (float w : l.weight) z += w == 0.0f;
            QCOMPARE(z, std::llround(0.5 * double(l.weight.size())));
        });
    }

    void nmKeepsTheLargestNOfEveryM() {
        // One row, in = 10, 2:4: blocks [0..3], [4..7], last block [8, 9] keeps min(2, 2) = both.
        LinearWeights l = matrix(1, 10, {0.1f, -4, 3, 0.2f, 5, 1, -1, 0.5f, 0.3f, -0.4f});
        prune_nm(l, 2, 4);
        QCOMPARE(l.weight.to_vector(), (std::vector<float>{0, -4, 3, 0, 5, 1, 0, 0, 0.3f, -0.4f}));
        // Ties keep the lower index.
        LinearWeights t = matrix(1, 4, {1, 1, 1, 1});
        prune_nm(t, 2, 4);
        QCOMPARE(t.weight.to_vector(), (std::vector<float>{1, 1, 0, 0}));
        // The pattern holds for a whole random matrix: every 4-block has at most 2 nonzeros.
        LinearWeights r = matrix(16, 64, random_weights(16 * 64, 1));
        prune_nm(r, 2, 4);
        for (size_t b = 0; b < r.weight.size(); b += 4) {
            int nz = 0;
            for (size_t k = b; k < b + 4; ++k) nz += r.weight[k] != 0.0f;
            QCOMPARE(nz, 2);
        }
    }

    void wandaUsesActivationNorms() {
        // W row [1, 2, 3, 4]; input norms sqrt([100, 1, 1, 0.01]) = [10, 1, 1, 0.1]
        // scores [10, 2, 3, 0.4]: pruning half removes inputs 3 and 1 (magnitude would remove 0 and 1).
        LinearWeights l = matrix(1, 4, {1, 2, 3, 4});
        prune_wanda(l, {100, 1, 1, 0.01}, 0.5);
        QCOMPARE(l.weight.to_vector(), (std::vector<float>{1, 0, 3, 0}));
        QVERIFY(!error_of([&] { prune_wanda(l, {1, 2}, 0.5); }).isEmpty());
    }

    void neuronsShrinkTheMatrices() {
        // fc1 (3, 2), fc2 (2, 3): unit norms^2: u0 = 1 + 0 + 1 + 0 = 2, u1 = 9 + 9 + 9 + 9 = 36, u2 = 0.25 * 4 = 1
        LinearWeights fc1 = matrix(3, 2, {1, 0, 3, 3, 0.5f, 0.5f});
        fc1.bias = {10, 20, 30};
        LinearWeights fc2 = matrix(2, 3, {1, 3, 0.5f, 0, 3, 0.5f});
        prune_neurons(fc1, fc2, 0.34); // round(0.34 * 3) = 1 unit: u2 goes
        QCOMPARE(fc1.out, 2);
        QCOMPARE(fc2.in, 2);
        QCOMPARE(fc1.weight.to_vector(), (std::vector<float>{1, 0, 3, 3}));
        QCOMPARE(fc1.bias.to_vector(), (std::vector<float>{10, 20}));
        QCOMPARE(fc2.weight.to_vector(), (std::vector<float>{1, 3, 0, 3}));

        // On a model: every expert's hidden size halves, the forward still runs, FLOPs drop.
        const Model m = test_support::tiny_moe_model(3);
        const CompressedModel c = compress(m, plan_from_flags("neurons:0.5", "none", 0));
        for (const auto& e : std::get<MoeLayer>(c.model.layers[2]).experts) {
            QCOMPARE(e.fc1.out, 2);
            QCOMPARE(e.fc2.in, 2);
        }
        QVERIFY(c.flops_per_sample < dense_flops_per_sample(m));
        QVERIFY(c.weight_bytes < weight_bytes(m));
        std::vector<float> x(4, 1.0f), y(2);
        ForwardWorkspace ws;
        forward(c.model, x.data(), 1, y.data(), {}, ws, nullptr);
        QVERIFY(std::isfinite(y[0]) && std::isfinite(y[1]));
    }

    void dropExpertsRemovesRouterRows() {
        Model m = test_support::tiny_moe_model(3);
        auto& moe = std::get<MoeLayer>(m.layers[2]);
        const std::vector<float> gate = moe.gate.weight.to_vector();
        drop_experts(moe, {1});
        QCOMPARE(int(moe.experts.size()), 2);
        QCOMPARE(moe.gate.out, 2);
        QCOMPARE(moe.experts[1].id, 2);
        std::vector<float> want(gate.begin(), gate.begin() + 3);
        want.insert(want.end(), gate.begin() + 6, gate.end());
        QCOMPARE(moe.gate.weight.to_vector(), want);
        QCOMPARE(moe.top_k, 2);
        drop_experts(moe, {0});
        QCOMPARE(moe.top_k, 1); // clamped to the experts left
        QVERIFY(error_of([&] { drop_experts(moe, {0}); }).contains("cannot drop 1 of the 1 experts"));
        QCOMPARE(least_used_experts({0.3, 0.1, 0.5, 0.1}, 2), (std::vector<int>{3, 1}));
        // By name through a plan; an unknown name is an error.
        CompressionPlan plan;
        plan.drop_expert_names = {"moe.0"};
        QCOMPARE(std::get<MoeLayer>(compress(test_support::tiny_moe_model(3), plan).model.layers[2]).experts[0].id, 1);
        plan.drop_expert_names = {"moe.7"};
        QVERIFY(error_of([&] { compress(test_support::tiny_moe_model(3), plan); }).contains("has no expert 7"));
    }

    void symmetricGroupErrorBound_data() {
        QTest::addColumn<QString>("scheme");
        for (const char* s : {"int8", "int8:g32", "int4:g32", "int4:g64", "int3:g32", "int2:g32", "int4:g32:asym", "int2:g128:asym"})
            QTest::newRow(s) << s;
    }
    void symmetricGroupErrorBound() {
        // in = 80 with G = 32 or 64: the last group is short (16 values) and has its own scale.
        QFETCH(QString, scheme);
        const QuantSpec spec = parse_quant_spec(scheme.toStdString());
        const int out = 5, in = 80;
        std::vector<float> w = random_weights(size_t(out) * in, 7);
        w[3] = 0.0f; // zero stays exactly zero
        const QuantizedWeights q = quantize_weights(w.data(), out, in, spec);
        const std::vector<float> d = dequantize_weights(q);
        QCOMPARE(q.packed.size(), (size_t(out) * in * size_t(spec.bits()) + 7) / 8);
        const int groups = q.groups_per_row();
        QCOMPARE(groups, spec.group ? (in + spec.group - 1) / spec.group : 1);
        for (int o = 0; o < out; ++o)
            for (int i = 0; i < in; ++i) {
                const size_t k = size_t(o) * in + i;
                const float scale = q.scale[size_t(o) * groups + size_t(i / q.group)];
                QVERIFY2(std::fabs(d[k] - w[k]) <= scale / 2 * (1 + 1e-5f) + 1e-7f,
                         qPrintable(QString("%1 at %2: %3 vs %4, scale %5").arg(scheme).arg(k).arg(d[k]).arg(w[k]).arg(scale)));
            }
        QCOMPARE(d[3], 0.0f);
        // Scales are f16 values (as ggml blocks keep them; GGUF export writes them unchanged), 2 bytes each.
        for (float s : q.scale) QCOMPARE(f16_to_f32(f32_to_f16(s)), s);
        const int64_t expected_bytes = int64_t(q.packed.size()) + int64_t(out) * groups * (2 + (spec.asym ? 1 : 0));
        QCOMPARE(q.storage_bytes(), expected_bytes);
    }

    void int8PerChannelMatchesTheDefinition() {
        const float w[] = {0.10f, -0.50f, 0.25f, 0.0f, 0.49f, 0, 0, 0, 0, 0};
        const QuantizedWeights q = quantize_weights(w, 2, 5, parse_quant_spec("int8"));
        QCOMPARE(q.scale[0], f16_to_f32(f32_to_f16(0.5f / 127.0f))); // the nearest f16 value: 0.00393677
        QVERIFY(q.scale[0] != 0.5f / 127.0f);
        QCOMPARE(q.scale[1], 0.0f);
        QCOMPARE(int(q.code(1)) - 128, -127); // the largest magnitude maps to the end of the range
        QCOMPARE(int(q.code(0)) - 128, 25);   // 0.1 / (0.5 / 127) = 25.4 -> 25
        const std::vector<float> d = dequantize_weights(q);
        for (int i = 5; i < 10; ++i) QCOMPARE(d[size_t(i)], 0.0f);
    }

    void packingRoundTrips_data() {
        QTest::addColumn<int>("bits");
        for (int b : {1, 2, 3, 4, 5, 7, 8}) QTest::newRow(qPrintable(QString::number(b))) << b;
    }
    void packingRoundTrips() {
        QFETCH(int, bits);
        std::mt19937 rng(static_cast<uint32_t>(bits));
        std::vector<uint32_t> codes(1001);
        for (auto& c : codes) c = rng() & ((1u << bits) - 1);
        std::vector<uint8_t> packed;
        pack_codes(codes, bits, packed);
        QCOMPARE(packed.size(), (codes.size() * size_t(bits) + 7) / 8);
        for (size_t k = 0; k < codes.size(); ++k) QCOMPARE(unpack_code(packed.data(), k, bits), codes[k]);
    }

    void halfPrecisionRoundsToNearestEven() {
        // Every finite fp16 value converts back to itself; halfway cases go to the even neighbour.
        for (uint32_t h = 0; h < 0x10000; ++h) {
            const float f = f16_to_f32(uint16_t(h));
            if (std::isnan(f)) continue;
            QCOMPARE(f32_to_f16(f), uint16_t(h));
        }
        QCOMPARE(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), uint16_t(0x3c00)); // tie: to even (1.0)
        QCOMPARE(f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)), uint16_t(0x3c02)); // tie: to even (up)
        QCOMPARE(f32_to_f16(65520.0f), uint16_t(0x7c00));                      // overflow to infinity
        QCOMPARE(f32_to_f16(std::ldexp(1.0f, -25)), uint16_t(0x0000));         // tie below the smallest subnormal
        QCOMPARE(f32_to_f16(std::ldexp(3.0f, -26)), uint16_t(0x0001));
        QCOMPARE(f32_to_bf16(1.0f + std::ldexp(1.0f, -8)), uint16_t(0x3f80));  // tie: to even
        QCOMPARE(f32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), uint16_t(0x3f82));
        for (uint32_t b = 0; b < 0x10000; b += 7) {
            const float f = bf16_to_f32(uint16_t(b));
            if (!std::isnan(f)) QCOMPARE(f32_to_bf16(f), uint16_t(b));
        }
    }

    void quantizedModelBytesAndZeros() {
        const Model original = test_support::tiny_moe_model(2);
        const CompressedModel c = compress(original, plan_from_flags("magnitude:0.5", "int8", 0));
        QCOMPARE(compressible_zeros(c.model), std::llround(0.5 * double(compressible_count(original))));
        // fp32 bytes minus 3 bytes per compressible weight plus a 2-byte (f16) scale per output row.
        int64_t rows = 0;
        for_each_matrix(original, [&](const LinearWeights& l) { rows += l.out; });
        QCOMPARE(c.weight_bytes, original.parameter_count() * 4 - compressible_count(original) * 3 + rows * 2);
        QCOMPARE(compress(original, {}).weight_bytes, original.parameter_count() * 4);
        QCOMPARE(compress(original, plan_from_flags("none", "fp16", 0)).weight_bytes,
                 original.parameter_count() * 4 - compressible_count(original) * 2);
    }

    void planOverridesAndBitsByUse() {
        const Model m = test_support::tiny_moe_model(2);
        const CompressionPlan plan = parse_compression_plan(R"({"quant": "int4:g32", "prune": "magnitude:0.3",
            "layers": {"head": {"quant": "none", "prune": "none"}, "moe.experts.1": {"quant": "int8"}, "moe.experts.2.fc2": {"prune": "nm:1:2"}}})", "p");
        const CompressedModel c = compress(m, plan);
        const auto& moe = std::get<MoeLayer>(c.model.layers[2]);
        QVERIFY(!std::get<LinearWeights>(c.model.layers[3]).quant);
        QCOMPARE(std::get<LinearWeights>(c.model.layers[3]).weight, std::get<LinearWeights>(m.layers[3]).weight);
        QCOMPARE(moe.experts[1].fc1.quant->spec.label(), std::string("int8"));
        QCOMPARE(moe.experts[1].fc2.quant->spec.label(), std::string("int8"));
        QCOMPARE(moe.experts[0].fc1.quant->spec.label(), std::string("int4:g32"));
        // Bits by use: on calibration data, shares decide which experts get high or low precision.
        test_support::Synthetic data(4, 2, 200);
        CompressionPlan by_use;
        by_use.quant = parse_quant_spec("int4:g32");
        by_use.quant_by_use = {true, parse_quant_spec("int8"), parse_quant_spec("int2:g32"), 0.34, 0.33};
        const CompressedModel u = compress(m, by_use, &data.dataset);
        QCOMPARE(u.notes.size(), size_t(3));
        int high = 0, low = 0;
        for (const auto& e : std::get<MoeLayer>(u.model.layers[2]).experts) {
            high += e.fc1.quant->spec.label() == "int8";
            low += e.fc1.quant->spec.label() == "int2:g32";
        }
        QVERIFY2(high + low >= 1, "no expert crossed a threshold");
        QVERIFY(error_of([&] { compress(m, by_use); }).contains("needs calibration data"));
    }

    void sweepGridExpandsWithoutDuplicates() {
        const SweepGrid g = parse_sweep_grid("magnitude, nm:2:4", "0, 0.5,0.9", "none,int4:g32", "1,2");
        QCOMPARE(g.sparsities.size(), size_t(3));
        const std::vector<CompressionPlan> plans = expand_sweep(g);
        // magnitude: 3 sparsities (0 is "none") x 2 quants x 2 top-k = 12; nm:2:4 ignores the
        // sparsity except 0 (= none, already there): 1 x 2 x 2 = 4 more.
        QCOMPARE(plans.size(), size_t(16));
        QCOMPARE(plans[0].prune.label(), std::string("none"));
        QCOMPARE(plans[0].quant.label(), std::string("none"));
        QCOMPARE(plans[0].top_k, 1);
        QCOMPARE(plans[4].prune.label(), std::string("magnitude:0.50"));
        QCOMPARE(plans.back().prune.label(), std::string("nm:2:4"));
        QCOMPARE(plans.back().quant.label(), std::string("int4:g32"));
        QCOMPARE(expand_sweep(parse_sweep_grid("magnitude:block4", "0.75", "none", "0"))[0].prune.label(), std::string("magnitude:0.75:block4"));
        QVERIFY(error_of([] { parse_sweep_grid("magnitude", "0.5,1.5", "none", "2"); }).contains("'1.5' must be a number in [0, 1)"));
        QVERIFY(error_of([] { parse_sweep_grid("magnitude,", "0.5", "none", "2"); }).contains("empty item"));
        QVERIFY(error_of([] { parse_sweep_grid("pruneit", "0.5", "none", "2"); }).contains("unknown method"));
        QVERIFY(error_of([] { parse_sweep_grid("magnitude", "0.5", "int5", "2"); }).contains("int5"));
        QVERIFY(error_of([] { parse_sweep_grid("magnitude", "0.5", "none", "-1"); }).contains("top-k"));
    }

    void planJsonRoundTripsAndErrors() {
        const std::string text = R"({"prune": "nm:2:4", "quant": "int3:g64:asym", "drop_experts": ["moe.1"], "top_k": {"moe": 1},
            "layers": {"stem": {"prune": "wanda:0.25"}}, "calibration_samples": 64})";
        const CompressionPlan p = parse_compression_plan(text, "p");
        const CompressionPlan again = parse_compression_plan(p.to_json(), "again");
        QCOMPARE(again.to_json(), p.to_json());
        QCOMPARE(again.prune.label(), std::string("nm:2:4"));
        QCOMPARE(again.quant.label(), std::string("int3:g64:asym"));
        QCOMPARE(again.top_k_per_layer.at("moe"), 1);
        QCOMPARE(again.calibration_samples, 64);
        QVERIFY(again.needs_calibration());

        QVERIFY(error_of([] { parse_prune_spec("magnitude:1.0"); }).contains("[0, 1)"));
        QCOMPARE(parse_prune_spec("magnitude:0.9:block4").block, 4);
        QCOMPARE(parse_prune_spec("magnitude-layer:0.5:block4").label(), std::string("magnitude-layer:0.50:block4"));
        QVERIFY(error_of([] { parse_prune_spec("wanda:0.5:block4"); }).contains("only magnitude:S:block4"));
        QVERIFY(error_of([] { parse_prune_spec("magnitude:0.5:block8"); }).contains("unknown option 'block8'"));
        QVERIFY(error_of([] { parse_prune_spec("magnitude:-0.1"); }).contains("[0, 1)"));
        QVERIFY(error_of([] { parse_prune_spec("nm:4:2"); }).contains("N = 4 must not exceed M = 2"));
        QVERIFY(error_of([] { parse_prune_spec("random:0.5"); }).contains("unknown method"));
        QVERIFY(error_of([] { parse_quant_spec("int4:g48"); }).contains("group size must be 32, 64 or 128"));
        QVERIFY(error_of([] { parse_quant_spec("int4"); }).contains("needs a group size"));
        QVERIFY(error_of([] { parse_quant_spec("int5:g32"); }).contains("unknown scheme"));
        QVERIFY(error_of([] { parse_compression_plan(R"({"prnue": "none"})", "p.json"); }).contains("p.json: unknown key 'prnue'"));
        // Integers are range-checked before narrowing: 2^32 + 1 must not run as 1 (issue 13).
        QVERIFY(error_of([] { parse_compression_plan(R"({"top_k": 4294967297})", "p.json"); })
                    .contains("p.json: 'top_k' = 4294967297 must be an integer in 1..65536"));
        QVERIFY(error_of([] { parse_compression_plan(R"({"drop_experts": 4294967297})", "p.json"); })
                    .contains("'drop_experts' = 4294967297 must be an integer in 0..65536"));
        QVERIFY(error_of([] { parse_compression_plan(R"({"top_k": {"moe": 18446744073709551615}})", "p.json"); })
                    .contains("'top_k.moe' = 18446744073709551615"));
        QVERIFY(error_of([] { parse_compression_plan(R"({"calibration_samples": -4294967295})", "p.json"); })
                    .contains("'calibration_samples' = -4294967295 must be an integer in 1..1000000"));
        QVERIFY(error_of([] { parse_compression_plan(R"({"top_k": 1.5})", "p.json"); }).contains("'top_k' = 1.5"));
        QCOMPARE(parse_compression_plan(R"({"top_k": 3, "drop_experts": 0})", "p").top_k, 3);
        QVERIFY(error_of([] { parse_compression_plan(R"({"layers": {"x": {"prune": "magnitude:0.5"}}})", "p"); })
                    .contains("use magnitude-layer:S"));
        const Model m = test_support::tiny_moe_model();
        QVERIFY(error_of([&] { compress(m, plan_from_flags("none", "none", 4)); }).contains("top-k 4 exceeds the 3 experts of MoE layer 'moe'"));
        QVERIFY(error_of([&] { compress(m, parse_compression_plan(R"({"layers": {"nope": {"quant": "int8"}}})", "p")); })
                    .contains("'nope' names no linear layer"));
    }
};

QTEST_GUILESS_MAIN(TestCompression)
#include "test_compression.moc"
