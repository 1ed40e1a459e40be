// test_conv.cpp - convolution and pooling against PyTorch (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d,
// nn.AdaptiveAvgPool2d; committed goldens from scripts/make-conv-goldens.py) and convolution
// against the plain reference kernel.
#include "error.h"
#include "kernels/conv2d.h"
#include "kernels/pool2d.h"
#include "kernels/thread_pool.h"
#include "model/batchnorm_fold.h"
#include "test_support.h"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>

using namespace ss;

namespace {

std::vector<float> floats(const nlohmann::json& a) {
    std::vector<float> v;
    for (const auto& e : a) v.push_back(e.get<float>());
    return v;
}

Conv2dShape shape_of(const nlohmann::json& c) {
    Conv2dShape s;
    s.in_channels = c["in_channels"];
    s.out_channels = c["out_channels"];
    s.kernel_h = c["kernel"][0];
    s.kernel_w = c["kernel"][1];
    s.stride_h = c["stride"][0];
    s.stride_w = c["stride"][1];
    s.pad_h = c["padding"][0];
    s.pad_w = c["padding"][1];
    s.dilation_h = c["dilation"][0];
    s.dilation_w = c["dilation"][1];
    s.groups = c["groups"];
    return s;
}

std::vector<float> random(size_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

} // namespace

class TestConv : public QObject {
    Q_OBJECT
private slots:
    void conv2dMatchesPyTorch() {
        std::ifstream in(SPARSESCOPE_TEST_DATA "/conv/conv2d_goldens.json");
        QVERIFY(in.good());
        const nlohmann::json g = nlohmann::json::parse(in);
        QCOMPARE(int(g["cases"].size()), 8);
        for (const auto& c : g["cases"]) {
            const std::string name = c["name"];
            const Conv2dShape s = shape_of(c);
            const int n = c["n"], h = c["h"], w = c["w"];
            validate_conv2d(s, h, w, name);
            const std::vector<float> x = floats(c["x"]), weight = floats(c["weight"]), want = floats(c["y"]);
            const std::vector<float> bias = c["bias"].is_null() ? std::vector<float>() : floats(c["bias"]);
            QCOMPARE(int64_t(weight.size()), int64_t(s.weight_count()));
            QCOMPARE(c["y_shape"][2].get<int>(), s.out_h(h));
            QCOMPARE(c["y_shape"][3].get<int>(), s.out_w(w));
            std::vector<float> fast(want.size(), std::nanf("")), ref(want.size());
            const float* b = bias.empty() ? nullptr : bias.data();
            conv2d_forward(s, weight.data(), b, x.data(), n, h, w, fast.data());
            conv2d_reference(s, weight.data(), b, x.data(), n, h, w, ref.data());
            const double terms = double(s.group_in()) * s.kernel_h * s.kernel_w;
            for (size_t k = 0; k < want.size(); ++k) {
                // PyTorch sums in float in its own order: a few ulp of the terms.
                QVERIFY2(std::fabs(fast[k] - want[k]) <= 1e-5 * (1.0 + std::fabs(want[k])) * std::sqrt(terms),
                         qPrintable(QString("%1, %2: %3 vs torch %4").arg(name.c_str()).arg(k).arg(fast[k]).arg(want[k])));
                QVERIFY2(std::fabs(ref[k] - want[k]) <= 1e-5 * (1.0 + std::fabs(want[k])) * std::sqrt(terms),
                         qPrintable(QString("%1 reference, %2: %3 vs torch %4").arg(name.c_str()).arg(k).arg(ref[k]).arg(want[k])));
            }
        }
    }

    void poolingMatchesPyTorch() {
        std::ifstream in(SPARSESCOPE_TEST_DATA "/conv/pool2d_goldens.json");
        QVERIFY(in.good());
        const nlohmann::json g = nlohmann::json::parse(in);
        QCOMPARE(int(g["cases"].size()), 7);
        for (const auto& c : g["cases"]) {
            const std::string name = c["name"], op = c["op"];
            const int n = c["n"], ch = c["c"], h = c["h"], w = c["w"];
            const std::vector<float> x = floats(c["x"]), want = floats(c["y"]);
            std::vector<float> got(want.size(), std::nanf(""));
            if (op == "global") {
                global_avg_pool2d(x.data(), n, ch, h, w, got.data());
            } else {
                Pool2dShape s;
                s.kernel_h = s.kernel_w = c["kernel"];
                s.stride_h = s.stride_w = c["stride"];
                s.pad_h = s.pad_w = c["padding"];
                s.dilation_h = s.dilation_w = c["dilation"];
                s.count_include_pad = c["count_include_pad"];
                validate_pool2d(s, h, w, name);
                QCOMPARE(c["y_shape"][2].get<int>(), s.out_h(h));
                QCOMPARE(c["y_shape"][3].get<int>(), s.out_w(w));
                if (op == "max") max_pool2d(s, x.data(), n, ch, h, w, got.data());
                else avg_pool2d(s, x.data(), n, ch, h, w, got.data());
            }
            for (size_t k = 0; k < want.size(); ++k) {
                // max: one of the inputs, exactly; averages: a few ulp.
                const float tol = op == "max" ? 0.0f : 1e-6f * (1.0f + std::fabs(want[k]));
                QVERIFY2(std::fabs(got[k] - want[k]) <= tol, qPrintable(QString("%1, %2: %3 vs torch %4").arg(name.c_str()).arg(k).arg(got[k]).arg(want[k])));
            }
        }
        // Padding must leave every window some input, and average pooling has no dilation.
        Pool2dShape s;
        s.kernel_h = s.kernel_w = 2;
        s.pad_h = 2;
        try {
            validate_pool2d(s, 5, 5, "pool1");
            QFAIL("padding 2 on a 2 x 2 window was accepted");
        } catch (const Error& e) {
            QVERIFY(std::string(e.what()).find("pool1: pads must be smaller than the window") != std::string::npos);
        }
        s.pad_h = 0;
        s.dilation_h = 2;
        std::vector<float> x(25), y(25);
        QVERIFY_THROWS_EXCEPTION(Error, avg_pool2d(s, x.data(), 1, 1, 5, 5, y.data()));
    }

    void batchNormFoldsIntoTheConvolution() {
        // conv then BatchNorm2d (eval) in PyTorch = the folded convolution alone here.
        std::ifstream in(SPARSESCOPE_TEST_DATA "/conv/batchnorm_goldens.json");
        QVERIFY(in.good());
        const nlohmann::json g = nlohmann::json::parse(in);
        QCOMPARE(int(g["cases"].size()), 3);
        for (const auto& c : g["cases"]) {
            const std::string name = c["name"];
            Conv2dShape s;
            s.in_channels = c["in_channels"];
            s.out_channels = c["out_channels"];
            s.kernel_h = s.kernel_w = 3;
            s.pad_h = s.pad_w = 1;
            s.groups = c["groups"];
            const int n = c["n"], h = c["h"], w = c["w"];
            std::vector<float> weight = floats(c["weight"]), bias = c["bias"].is_null() ? std::vector<float>() : floats(c["bias"]);
            BatchNormParams bn{floats(c["gamma"]), floats(c["beta"]), floats(c["mean"]), floats(c["var"]), c["eps"].get<double>()};
            fold_batchnorm(weight, bias, s.out_channels, bn, name);
            QCOMPARE(int(bias.size()), s.out_channels); // a convolution without bias gets one
            const std::vector<float> x = floats(c["x"]), want = floats(c["y"]);
            std::vector<float> got(want.size());
            conv2d_forward(s, weight.data(), bias.data(), x.data(), n, h, w, got.data());
            for (size_t k = 0; k < want.size(); ++k)
                QVERIFY2(std::fabs(got[k] - want[k]) <= 1e-5f * (1.0f + std::fabs(want[k])) * 6.0f,
                         qPrintable(QString("%1, %2: %3 vs torch %4").arg(name.c_str()).arg(k).arg(got[k]).arg(want[k])));
        }
        // Bad parameters are refused by name, and nothing is changed.
        std::vector<float> weight{1, 2, 3, 4}, bias;
        BatchNormParams bn{{1, 1}, {0, 0}, {0, 0}, {1, -2}, 1e-5};
        try {
            fold_batchnorm(weight, bias, 2, bn, "bn1");
            QFAIL("a negative variance was accepted");
        } catch (const Error& e) {
            QVERIFY(std::string(e.what()).find("bn1: BatchNorm input_var[1] + epsilon is not positive") != std::string::npos);
        }
        bn.var = {1};
        QVERIFY_THROWS_EXCEPTION(Error, fold_batchnorm(weight, bias, 2, bn, "bn1"));
        QCOMPARE(weight, (std::vector<float>{1, 2, 3, 4}));
        QVERIFY(bias.empty());
    }

    void conv2dSamplesSplitOverThreadsGiveTheSameBits() {
        Conv2dShape s;
        s.in_channels = 8;
        s.out_channels = 16;
        s.kernel_h = s.kernel_w = 3;
        s.pad_h = s.pad_w = 1;
        s.stride_h = 2;
        s.groups = 2;
        const int n = 5, h = 12, w = 9;
        validate_conv2d(s, h, w, "test");
        const auto x = random(size_t(n) * s.in_channels * h * w, 1), weight = random(size_t(s.weight_count()), 2), bias = random(size_t(s.out_channels), 3);
        const size_t out = size_t(n) * s.out_channels * s.out_h(h) * s.out_w(w);
        std::vector<float> one(out), two(out), ref(out);
        conv2d_forward(s, weight.data(), bias.data(), x.data(), n, h, w, one.data());
        set_compute_threads(2);
        conv2d_forward(s, weight.data(), bias.data(), x.data(), n, h, w, two.data());
        set_compute_threads(1);
        QVERIFY(std::memcmp(one.data(), two.data(), out * sizeof(float)) == 0);
        conv2d_reference(s, weight.data(), bias.data(), x.data(), n, h, w, ref.data());
        for (size_t k = 0; k < out; ++k) QVERIFY(std::fabs(one[k] - ref[k]) <= 1e-4f * (1.0f + std::fabs(ref[k])));
    }

    void conv2dShapesAreValidatedWithTheRule() {
        auto message = [](const Conv2dShape& s, int h, int w) -> std::string {
            try {
                validate_conv2d(s, h, w, "layer 'c1'");
            } catch (const Error& e) {
                return e.what();
            }
            return "";
        };
        Conv2dShape s;
        s.in_channels = 6;
        s.out_channels = 4;
        s.kernel_h = s.kernel_w = 3;
        QCOMPARE(message(s, 8, 8), std::string());
        s.groups = 4; // divides 4 output channels but not 6 input ones
        QVERIFY(message(s, 8, 8).find("layer 'c1': group 4 must divide the input channels (6)") != std::string::npos);
        s.groups = 2;
        QCOMPARE(message(s, 8, 8), std::string());
        QVERIFY(message(s, 2, 8).find("kernel_shape") != std::string::npos); // 3 rows of kernel on 2 rows of input
        s.pad_h = 1;
        QCOMPARE(message(s, 2, 8), std::string()); // padded to 4 rows: fits
        s.dilation_h = 2; // dilated to 5 rows
        QVERIFY(message(s, 2, 8).find("larger than the padded input (4 x 8)") != std::string::npos);
        s.dilation_h = 1;
        s.stride_w = 0;
        QVERIFY(message(s, 8, 8).find("strides must be positive") != std::string::npos);
        s.stride_w = 1;
        s.pad_w = -1;
        QVERIFY(message(s, 8, 8).find("pads must not be negative") != std::string::npos);
    }
};

QTEST_APPLESS_MAIN(TestConv)
#include "test_conv.moc"
