// test_conv.cpp - convolution and pooling against PyTorch (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d,
// nn.AdaptiveAvgPool2d; committed goldens from scripts/make-conv-goldens.py) and convolution
// against the plain reference kernel.
#include "error.h"
#include "kernels/conv2d.h"
#include "kernels/kernel_plan.h"
#include "kernels/prepared_matrix.h"
#include "model/conv_forward.h"
#include "model/matrices.h"
#include "formats/model_config.h"
#include "kernels/pool2d.h"
#include "kernels/thread_pool.h"
#include "compress/compression.h"
#include "data/dataset.h"
#include "eval/evaluate.h"
#include "formats/model_io.h"
#include "formats/onnx_import.h"
#include "model/batchnorm_fold.h"
#include "model/conv_net.h"
#include "model/forward.h"
#include "test_support.h"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <set>

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

    void demoResnetMatchesPytorch_data() {
        QTest::addColumn<QString>("path");
        QTest::newRow("safetensors (BatchNorm folded at load)") << QStringLiteral(SPARSESCOPE_RESOURCE_DIR "/models/fashion-resnet");
        QTest::newRow("onnx (torch.onnx.export)") << QStringLiteral(SPARSESCOPE_RESOURCE_DIR "/models/fashion-resnet/fashion-resnet.onnx");
    }

    void demoResnetMatchesPytorch() {
        // The demo CNN in both forms against PyTorch's logits of the first 32 test images and its
        // test accuracy (resources/models/fashion-resnet/goldens.json, scripts/make-demo-cnn.py).
        QFETCH(QString, path);
        std::ifstream gf(SPARSESCOPE_RESOURCE_DIR "/models/fashion-resnet/goldens.json");
        const nlohmann::json g = nlohmann::json::parse(gf);
        Model m = load_model(path.toStdString());
        m.input.scale = 1.0 / 255.0; // the ONNX file carries no preprocessing: the demo's
        m.input.mean = 0.286;
        m.input.std = 0.353;
        QVERIFY(is_conv_net(m));
        for (const Layer& l : m.layers) QVERIFY(!std::holds_alternative<BatchNorm2dLayer>(l)); // all folded
        const std::vector<ActivationShape> shapes = activation_shapes(m, "demo");
        QCOMPARE(shapes.front(), (ActivationShape{1, 28, 28, false}));
        QCOMPARE(shapes.back(), (ActivationShape{10, 1, 1, true}));
        const Dataset d = load_dataset(kDefaultDatasetDir);
        const auto& want = g["first_logits"];
        const int n = int(want.size());
        std::vector<float> x(size_t(n) * 784), y(size_t(n) * 10);
        for (int i = 0; i < n; ++i) preprocess_input(m.input, d.sample(i), 784, &x[size_t(i) * 784]);
        ForwardWorkspace ws;
        forward(m, x.data(), n, y.data(), {}, ws, nullptr);
        double worst = 0.0;
        for (int i = 0; i < n; ++i)
            for (int c = 0; c < 10; ++c) worst = std::max(worst, std::fabs(double(y[size_t(i) * 10 + c]) - want[size_t(i)][size_t(c)].get<double>()));
        QVERIFY2(worst < 2e-4, qPrintable(QString("largest logit difference %1").arg(worst)));
        // Batch 1 gives the same logits as the batch.
        std::vector<float> one(10);
        forward(m, x.data() + 5 * 784, 1, one.data(), {}, ws, nullptr);
        for (int c = 0; c < 10; ++c) QVERIFY(std::fabs(one[size_t(c)] - y[50 + size_t(c)]) < 1e-5f);
        EvalOptions eo;
        eo.latency_samples = 0;
        eo.latency_warmup = 0;
        eo.threads = 2;
        const EvalResult e = evaluate(compress(m, {}), d, eo);
        QVERIFY2(std::abs(int(std::lround(e.accuracy * d.count)) - g["correct"].get<int>()) <= 2,
                 qPrintable(QString("%1 correct, PyTorch %2").arg(e.accuracy * d.count).arg(g["correct"].get<int>())));
        QVERIFY(e.accuracy >= 0.92);
    }

    void convNetConfigErrorsNameTheLayer() {
        auto config = [](const std::string& layers) {
            return R"({"format": "sparsescope/classifier-v1", "input": {"shape": [1, 8, 8]}, "labels": ["a", "b"], "layers": [)" + layers + "]}";
        };
        using test_support::error_message;
        // Channels that do not follow on.
        std::string e = error_message([&] {
            parse_model_config(config(R"({"type": "conv2d", "name": "c1", "in_channels": 1, "out_channels": 4, "kernel": 3},
                {"type": "conv2d", "name": "c2", "in_channels": 3, "out_channels": 2, "kernel": 3},
                {"type": "global_avgpool"}, {"type": "flatten"})"), "cfg");
        });
        QVERIFY2(e.find("layer 1 (conv2d 'c2'): 'in_channels' = 3 but the previous layer gives 4 channels") != std::string::npos, e.c_str());
        // A kernel larger than the image.
        e = error_message([&] { parse_model_config(config(R"({"type": "conv2d", "name": "c1", "in_channels": 1, "out_channels": 2, "kernel": 9}, {"type": "global_avgpool"}, {"type": "flatten"})"), "cfg"); });
        QVERIFY2(e.find("conv2d 'c1'") != std::string::npos && e.find("kernel") != std::string::npos, e.c_str());
        // A residual add whose shapes differ, and one with nothing saved.
        e = error_message([&] {
            parse_model_config(config(R"({"type": "residual_save"}, {"type": "conv2d", "name": "c1", "in_channels": 1, "out_channels": 2, "kernel": 1},
                {"type": "residual_add"}, {"type": "global_avgpool"}, {"type": "flatten"})"), "cfg");
        });
        QVERIFY2(e.find("adds (1, 8, 8) to (2, 8, 8)") != std::string::npos && e.find("projection") != std::string::npos, e.c_str());
        e = error_message([&] { parse_model_config(config(R"({"type": "residual_add"}, {"type": "global_avgpool"}, {"type": "flatten"})"), "cfg"); });
        QVERIFY2(e.find("nothing saved before it") != std::string::npos, e.c_str());
        // Pooling after flattening; groups that do not divide.
        e = error_message([&] { parse_model_config(config(R"({"type": "flatten"}, {"type": "maxpool2d", "kernel": 2}, {"type": "linear", "name": "h", "in": 16, "out": 2})"), "cfg"); });
        QVERIFY2(e.find("pooling needs (C, H, W) activations") != std::string::npos, e.c_str());
        e = error_message([&] { parse_model_config(config(R"({"type": "conv2d", "name": "g", "in_channels": 1, "out_channels": 3, "kernel": 1, "groups": 2})"), "cfg"); });
        QVERIFY2(e.find("'groups' = 2 must divide") != std::string::npos, e.c_str());
        // A well-formed net: the last shape gives the classes.
        const Model ok = parse_model_config(config(R"({"type": "conv2d", "name": "c1", "in_channels": 1, "out_channels": 4, "kernel": 3, "padding": 1},
            {"type": "batchnorm2d", "name": "bn", "channels": 4}, {"type": "relu"}, {"type": "residual_save"},
            {"type": "conv2d", "name": "dw", "in_channels": 4, "out_channels": 4, "kernel": 3, "padding": 1, "groups": 4},
            {"type": "residual_add"}, {"type": "avgpool2d", "kernel": 2}, {"type": "global_avgpool"}, {"type": "flatten"},
            {"type": "linear", "name": "h", "in": 4, "out": 2})"), "cfg");
        QCOMPARE(activation_shapes(ok, "ok").back(), (ActivationShape{2, 1, 1, true}));
    }

    void channelPruningShrinksBothConvolutions() {
        // conv a (1 -> 6) -> relu -> max pool -> conv b (6 -> 3): neurons:0.5 removes 3 of a's
        // filters and b's matching input channels; the result equals the unpruned net with those
        // filters (and biases) zeroed, since relu(0) = 0 and b then adds nothing from them.
        Model m = parse_model_config(R"({"format": "sparsescope/classifier-v1", "input": {"shape": [1, 8, 8]}, "labels": ["a", "b"],
            "layers": [{"type": "conv2d", "name": "a", "in_channels": 1, "out_channels": 6, "kernel": 3, "padding": 1}, {"type": "relu"},
                       {"type": "maxpool2d", "kernel": 2}, {"type": "conv2d", "name": "b", "in_channels": 6, "out_channels": 3, "kernel": 3},
                       {"type": "global_avgpool"}, {"type": "flatten"}, {"type": "linear", "name": "h", "in": 3, "out": 2}]})", "cfg");
        test_support::fill_normal(m, 9);
        std::mt19937 rng(9 + 1);
        std::normal_distribution<float> nd;
        const CompressedModel c = compress(m, plan_from_flags("neurons:0.5", "none", 0));
        Model pruned = c.model;
        restore_dense_weights(pruned);
        const auto& a0 = std::get<Conv2dLayer>(m.layers[0]);
        const auto& a1 = std::get<Conv2dLayer>(pruned.layers[0]);
        const auto& b1 = std::get<Conv2dLayer>(pruned.layers[3]);
        QCOMPARE(a1.shape.out_channels, 3);
        QCOMPARE(a1.w.out, 3);
        QCOMPARE(b1.shape.in_channels, 3);
        QCOMPARE(b1.w.in, 27);
        QCOMPARE(b1.w.tensor_shape, (std::vector<int64_t>{3, 3, 3, 3}));
        QCOMPARE(activation_shapes(pruned, "pruned").back(), (ActivationShape{2, 1, 1, true}));
        // Which filters stayed: each kept row of a is one of the original rows, in order.
        Model masked = m;
        auto& am = std::get<Conv2dLayer>(masked.layers[0]);
        std::vector<float> w = am.w.weight.to_vector(), b = am.w.bias.to_vector();
        const std::vector<float> kept = a1.w.weight.to_vector();
        int next = 0, removed = 0;
        for (int ch = 0; ch < 6; ++ch) {
            const bool stays = next < 3 && std::equal(kept.begin() + next * 9, kept.begin() + next * 9 + 9, a0.w.weight.data() + ch * 9);
            if (stays) {
                ++next;
                continue;
            }
            std::fill(w.begin() + ch * 9, w.begin() + ch * 9 + 9, 0.0f);
            b[size_t(ch)] = 0.0f;
            ++removed;
        }
        QCOMPARE(next, 3);
        QCOMPARE(removed, 3);
        am.w.weight = WeightData(std::move(w));
        am.w.bias = WeightData(std::move(b));
        std::vector<float> x(2 * 64), y1(4), y2(4);
        for (float& v : x) v = nd(rng);
        ForwardWorkspace ws;
        forward(pruned, x.data(), 2, y1.data(), {}, ws, nullptr);
        forward(masked, x.data(), 2, y2.data(), {}, ws, nullptr);
        for (int i = 0; i < 4; ++i) QVERIFY2(std::fabs(y1[size_t(i)] - y2[size_t(i)]) < 1e-5f, qPrintable(QString("%1 vs %2").arg(y1[size_t(i)]).arg(y2[size_t(i)])));
        // A residual join fixes its channels: the demo ResNet keeps its block outputs, prunes inside blocks.
        const Model demo = load_model(SPARSESCOPE_RESOURCE_DIR "/models/fashion-resnet");
        const Model slim = compress(demo, plan_from_flags("neurons:0.5", "none", 0)).model;
        int halved = 0;
        for (size_t i = 0; i < slim.layers.size(); ++i)
            if (const auto* conv = std::get_if<Conv2dLayer>(&slim.layers[i])) {
                const auto& before = std::get<Conv2dLayer>(demo.layers[i]);
                if (conv->shape.out_channels * 2 == before.shape.out_channels) ++halved;
                else QCOMPARE(conv->shape.out_channels, before.shape.out_channels);
            }
        QCOMPARE(halved, 3); // each block's conv1
    }

    void convLayerRunsEveryKernelAlike() {
        // The same convolution through the dense, sparse (CSR) and integer kernels the plan picks,
        // against conv2d_reference on the values each compressed matrix holds.
        Model m = parse_model_config(R"({"format": "sparsescope/classifier-v1", "input": {"shape": [3, 9, 9]}, "labels": ["a", "b"],
            "layers": [{"type": "conv2d", "name": "c", "in_channels": 3, "out_channels": 8, "kernel": 3, "stride": 2, "padding": 1},
                       {"type": "global_avgpool"}, {"type": "flatten"}, {"type": "linear", "name": "h", "in": 8, "out": 2}]})", "cfg");
        test_support::fill_normal(m, 5);
        std::mt19937 rng(5 + 1);
        std::normal_distribution<float> nd;
        const int n = 3;
        std::vector<float> x(size_t(n) * 3 * 81);
        for (float& v : x) v = nd(rng);
        set_kernel_selection(KernelSelection::Static); // the sparse and integer kernels whenever they can run, not timed choices
        std::set<std::string> ran;
        for (const char* prune : {"none", "magnitude:0.8", "nm:2:4"})
            for (const char* quant : {"none", "int8", "int4:g32"}) {
                const CompressedModel c = compress(m, plan_from_flags(prune, quant, 0));
                const Conv2dLayer& conv = std::get<Conv2dLayer>(c.model.layers[0]);
                const std::vector<float> w = dense_weights(conv.w);
                std::vector<float> want(size_t(n) * 8 * 25), got(want.size());
                conv2d_reference(conv.shape, w.data(), conv.w.bias.data(), x.data(), n, 9, 9, want.data());
                ConvScratch scratch;
                conv2d_layer_forward(conv, {3, 9, 9, false}, x.data(), n, got.data(), scratch, nullptr);
                ran.insert(kernel_name(conv.w, n * 25));
                for (size_t i = 0; i < want.size(); ++i)
                    QVERIFY2(std::fabs(got[i] - want[i]) < 1e-4f * (1.0f + std::fabs(want[i])),
                             qPrintable(QString("%1 %2 [%3]: %4 vs %5 (%6)").arg(prune, quant).arg(i).arg(got[i]).arg(want[i])
                                            .arg(QString::fromStdString(kernel_name(conv.w, int(n * 25))))));
            }
        set_kernel_selection(KernelSelection::Measured);
        QVERIFY2(ran.size() >= 4, qPrintable(QString::number(ran.size()))); // sgemm, csr-panel, q8-tiles, q4-tiles at least
    }
};

QTEST_APPLESS_MAIN(TestConv)
#include "test_conv.moc"
