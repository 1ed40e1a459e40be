// test_onnx.cpp - ONNX import: graphs built here op by op, the errors for what is not supported,
// and PyTorch's own models (tests/data/torch, made by scripts/torch-reference.py) giving
// PyTorch's own accuracy.
#include "compress/compression.h"
#include "data/dataset.h"
#include "error.h"
#include "eval/evaluate.h"
#include "model/forward.h"
#include "formats/model_io.h"
#include "formats/onnx_import.h"
#include "test_support.h"

#include <onnx/onnx_pb.h>
#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <fstream>
#include <functional>

using namespace ss;

namespace {

// A tiny graph builder: a chain from input "x" (N, features).
struct GraphBuilder {
    onnx::ModelProto model;
    onnx::GraphProto* g;
    std::string cur = "x";
    int counter = 0;

    explicit GraphBuilder(std::vector<int64_t> input_dims) {
        model.set_ir_version(8);
        model.add_opset_import()->set_version(13);
        g = model.mutable_graph();
        g->set_name("built");
        auto* in = g->add_input();
        in->set_name("x");
        auto* t = in->mutable_type()->mutable_tensor_type();
        t->set_elem_type(onnx::TensorProto::FLOAT);
        t->mutable_shape()->add_dim()->set_dim_param("N");
        for (int64_t d : input_dims) t->mutable_shape()->add_dim()->set_dim_value(d);
    }
    std::string init(const std::string& name, std::vector<int64_t> dims, std::vector<float> values) {
        auto* t = g->add_initializer();
        t->set_name(name);
        t->set_data_type(onnx::TensorProto::FLOAT);
        for (int64_t d : dims) t->add_dims(d);
        for (float v : values) t->add_float_data(v);
        return name;
    }
    std::string init_i64(const std::string& name, std::vector<int64_t> values) {
        auto* t = g->add_initializer();
        t->set_name(name);
        t->set_data_type(onnx::TensorProto::INT64);
        t->add_dims(int64_t(values.size()));
        for (int64_t v : values) t->add_int64_data(v);
        return name;
    }
    onnx::NodeProto* node(const std::string& op, std::vector<std::string> extra_inputs = {}) {
        auto* n = g->add_node();
        n->set_op_type(op);
        n->set_name(op + std::to_string(counter));
        n->add_input(cur);
        for (const auto& i : extra_inputs) n->add_input(i);
        cur = op + "_out" + std::to_string(counter++);
        n->add_output(cur);
        return n;
    }
    static void attr(onnx::NodeProto* n, const char* name, float f) {
        auto* a = n->add_attribute();
        a->set_name(name);
        a->set_type(onnx::AttributeProto::FLOAT);
        a->set_f(f);
    }
    static void attr(onnx::NodeProto* n, const char* name, int64_t i) {
        auto* a = n->add_attribute();
        a->set_name(name);
        a->set_type(onnx::AttributeProto::INT);
        a->set_i(i);
    }
    std::string save(const QTemporaryDir& dir, const char* file = "m.onnx") {
        auto* out = g->add_output();
        out->set_name(cur);
        const std::string path = dir.filePath(file).toStdString();
        std::ofstream f(path, std::ios::binary);
        model.SerializeToOstream(&f);
        return path;
    }
};

QString error_of(const std::function<void()>& f) { return QString::fromStdString(test_support::error_message(f)); }

std::vector<float> run(const Model& m, const std::vector<float>& x) {
    std::vector<float> y(size_t(m.num_classes()) * (x.size() / size_t(m.input_features())));
    ForwardWorkspace ws;
    forward(m, x.data(), int(x.size() / size_t(m.input_features())), y.data(), {}, ws, nullptr);
    return y;
}

} // namespace

class TestOnnx : public QObject {
    Q_OBJECT
private slots:
    void everySupportedOp() {
        // x (N, 1, 2, 2) -> Flatten -> Gemm(transB 0, alpha 2, beta 0.5) -> Relu -> Reshape [-1, 3]
        // -> MatMul + Add -> LeakyRelu(0.1) -> Identity -> Dropout -> Sigmoid -> Tanh -> Gelu -> Softmax
        QTemporaryDir dir;
        GraphBuilder b({1, 2, 2});
        b.node("Flatten");
        auto* gemm = b.node("Gemm", {b.init("g.weight", {4, 3}, {1, 0, -1, 0, 1, 0, 1, 1, 1, -1, 0, 2}), b.init("g.bias", {3}, {1, -1, 0.5f})});
        GraphBuilder::attr(gemm, "alpha", 2.0f);
        GraphBuilder::attr(gemm, "beta", 0.5f);
        b.node("Relu");
        b.node("Reshape", {b.init_i64("shape", {-1, 3})});
        b.node("MatMul", {b.init("mm", {3, 2}, {1, -1, 0.5f, 2, -1, 1})});
        b.node("Add", {b.init("mm_bias", {2}, {0.25f, -0.25f})});
        GraphBuilder::attr(b.node("LeakyRelu"), "alpha", 0.1f);
        b.node("Identity");
        b.node("Dropout");
        b.node("Sigmoid");
        b.node("Tanh");
        b.node("Gelu");
        b.node("Softmax");
        const std::string path = b.save(dir);
        const Model m = load_model(path);
        QCOMPARE(m.input_features(), 4);
        QCOMPARE(m.num_classes(), 2);
        QCOMPARE(m.input.scale, 1.0 / 255.0);

        // Reference, computed here in double.
        const std::vector<float> x = {1, 2, -3, 4, 0.5f, -1, 2, 0};
        const std::vector<float> y = run(m, x);
        for (int r = 0; r < 2; ++r) {
            const float* xr = &x[size_t(r) * 4];
            const double W[4][3] = {{1, 0, -1}, {0, 1, 0}, {1, 1, 1}, {-1, 0, 2}};
            const double c[3] = {1, -1, 0.5};
            double h[3];
            for (int j = 0; j < 3; ++j) {
                double s = 0;
                for (int i = 0; i < 4; ++i) s += xr[i] * W[i][j];
                h[j] = std::max(0.0, 2 * s + 0.5 * c[j]);
            }
            const double M[3][2] = {{1, -1}, {0.5, 2}, {-1, 1}};
            const double mb[2] = {0.25, -0.25};
            for (int k = 0; k < 2; ++k) {
                double s = mb[k];
                for (int j = 0; j < 3; ++j) s += h[j] * M[j][k];
                s = s >= 0 ? s : 0.1 * s;
                s = std::tanh(1 / (1 + std::exp(-s)));
                s = 0.5 * s * (1 + std::erf(s / std::sqrt(2.0)));
                QVERIFY2(std::fabs(y[size_t(r) * 2 + k] - s) < 1e-6, qPrintable(QString("row %1 col %2: %3 vs %4").arg(r).arg(k).arg(y[size_t(r) * 2 + k]).arg(s)));
            }
        }
    }

    void dropoutWithTrainingModeConstant() {
        // torch.onnx.export writes Dropout(x, ratio, training_mode) with training_mode an unnamed
        // BOOL Constant: false is inference (the identity), true is refused by name (issue 13).
        QTemporaryDir dir;
        for (const bool training : {false, true}) {
            GraphBuilder b({2});
            b.node("Gemm", {b.init("w", {2, 2}, {1, 2, 3, 4}), b.init("c", {2}, {0.5f, -0.5f})});
            GraphBuilder::attr(b.g->mutable_node(0), "transB", int64_t(1));
            auto* k = b.g->add_node();
            k->set_op_type("Constant");
            k->set_name("mode");
            k->add_output("training_mode");
            auto* a = k->add_attribute();
            a->set_name("value");
            a->set_type(onnx::AttributeProto::TENSOR);
            a->mutable_t()->set_data_type(onnx::TensorProto::BOOL);
            a->mutable_t()->set_raw_data(std::string(1, training ? '\1' : '\0'));
            b.node("Dropout", {b.init("ratio", {}, {0.1f}), "training_mode"});
            const std::string path = b.save(dir, training ? "train.onnx" : "infer.onnx");
            if (training) {
                const QString err = error_of([&] { load_model(path); });
                QVERIFY2(err.contains("node 'Dropout1' (op 'Dropout'): training_mode is true"), qPrintable(err));
            } else {
                const Model m = load_model(path);
                const std::vector<float> y = run(m, {1.0f, 1.0f});
                QCOMPARE(y, (std::vector<float>{3.5f, 6.5f}));
            }
        }
    }

    void errorsNameNodeAndOp() {
        QTemporaryDir dir;
        {
            GraphBuilder b({4});
            b.node("Gemm", {b.init("w", {2, 4}, std::vector<float>(8, 1)), b.init("c", {2}, {0, 0})});
            GraphBuilder::attr(b.g->mutable_node(0), "transB", int64_t(1));
            b.node("LRN");
            const QString err = error_of([&] { load_model(b.save(dir, "lrn.onnx")); });
            QVERIFY2(err.contains("node 'LRN1' (op 'LRN'): unsupported op"), qPrintable(err));
        }
        {
            // A convolution where the chain is already flat: the node and the rule.
            GraphBuilder b({4});
            b.node("Gemm", {b.init("w", {2, 4}, std::vector<float>(8, 1)), b.init("c", {2}, {0, 0})});
            GraphBuilder::attr(b.g->mutable_node(0), "transB", int64_t(1));
            b.node("Conv", {b.init("k", {1, 1, 1, 1}, {1})});
            const QString err = error_of([&] { load_model(b.save(dir, "conv.onnx")); });
            QVERIFY2(err.contains("node 'Conv1' (op 'Conv'): needs (N, C, H, W) input"), qPrintable(err));
        }
        {
            GraphBuilder b({4});
            auto* in = b.g->add_input(); // B as a second graph input: a weight known only at run time
            in->set_name("w_runtime");
            b.node("MatMul", {"w_runtime"});
            const QString err = error_of([&] { load_model(b.save(dir, "dyn.onnx")); });
            QVERIFY2(err.contains("graph has 2 inputs"), qPrintable(err));
        }
        {
            GraphBuilder b({4});
            b.node("MatMul", {"x"}); // x @ x: the weight is the activation itself
            const QString err = error_of([&] { load_model(b.save(dir, "self.onnx")); });
            QVERIFY2(err.contains("weight 'x' is not an initializer or Constant"), qPrintable(err));
        }
        {
            GraphBuilder b({2});
            b.node("Relu");
            const std::string relu_out = b.cur;
            b.node("Sigmoid");
            auto* add = b.g->add_node(); // Sigmoid(relu) + relu: a residual branch
            add->set_op_type("Add");
            add->set_name("skip");
            add->add_input(b.cur);
            add->add_input(relu_out);
            add->add_output("sum");
            b.cur = "sum";
            // A residual branch: imported as save, sigmoid, add - and computed as such.
            const Model m = load_model(b.save(dir, "branch.onnx"));
            QCOMPARE(int(m.layers.size()), 4);
            QVERIFY(std::holds_alternative<ResidualLayer>(m.layers[1]) && !std::get<ResidualLayer>(m.layers[1]).add);
            QVERIFY(std::holds_alternative<ResidualLayer>(m.layers[3]) && std::get<ResidualLayer>(m.layers[3]).add);
            Model plain = m;
            plain.input.scale = 1.0;
            const std::vector<float> x = {-1.0f, 2.0f};
            std::vector<float> y(2);
            ForwardWorkspace ws;
            forward(plain, x.data(), 1, y.data(), {}, ws, nullptr);
            QCOMPARE(y[0], 0.5f);                                          // relu(-1) = 0: sigmoid(0) + 0
            QVERIFY(std::fabs(y[1] - (2.0f + 1.0f / (1.0f + std::exp(-2.0f)))) < 1e-6f);
        }
        {
            // Two paths that both transform the value before they meet: no shortcut to keep.
            GraphBuilder b({2});
            b.node("Relu");
            const std::string relu_out = b.cur;
            b.node("Sigmoid");
            const std::string sig = b.cur;
            auto* tanh = b.g->add_node();
            tanh->set_op_type("Tanh");
            tanh->set_name("other");
            tanh->add_input(relu_out);
            tanh->add_output("t");
            auto* add = b.g->add_node();
            add->set_op_type("Add");
            add->set_name("join");
            add->add_input(sig);
            add->add_input("t");
            add->add_output("sum");
            b.cur = "sum";
            const QString err = error_of([&] { load_model(b.save(dir, "two-paths.onnx")); });
            QVERIFY2(err.contains("branches, but neither path is a residual shortcut"), qPrintable(err));
        }
        {
            GraphBuilder b({2});
            b.node("Softmax");
            b.node("Relu");
            const QString err = error_of([&] { load_model(b.save(dir, "softmax.onnx")); });
            QVERIFY2(err.contains("(op 'Softmax'): Softmax is only supported as the last node"), qPrintable(err));
        }
        { // softmax across the batch (axis 0) changes which class wins in a row: not droppable
            GraphBuilder b({2});
            b.node("Gemm", {b.init("w", {2, 2}, {1, 0, 0, 1})});
            GraphBuilder::attr(b.node("Softmax"), "axis", int64_t(0));
            const QString err = error_of([&] { load_model(b.save(dir, "softmax-axis0.onnx")); });
            QVERIFY2(err.contains("(op 'Softmax'): it normalizes over axis 0, not over the classes"), qPrintable(err));
        }
        {
            QTemporaryDir d2;
            const std::string path = d2.filePath("junk.onnx").toStdString();
            std::ofstream(path) << "definitely not protobuf \xff\xff\xff";
            const QString err = error_of([&] { load_model(path); });
            QVERIFY2(err.contains("not a valid ONNX model"), qPrintable(err));
        }
    }

    void pytorchModelsMatchPytorchAccuracy_data() {
        QTest::addColumn<QString>("file");
        QTest::newRow("torch.onnx.export") << "mlp.onnx";
        QTest::newRow("safetensors layout") << "mlp.safetensors";
    }
    void pytorchModelsMatchPytorchAccuracy() {
        QFETCH(QString, file);
        std::ifstream in(SPARSESCOPE_TEST_DATA "/torch/expected.json");
        const nlohmann::json expected = nlohmann::json::parse(in);
        const Model m = load_model(std::string(SPARSESCOPE_TEST_DATA "/torch/") + file.toStdString());
        const Dataset d = load_dataset(kDefaultDatasetDir);
        EvalOptions opt;
        opt.latency_samples = 0;
        opt.latency_warmup = 0;
        const EvalResult r = evaluate(compress(m, {}), d, opt);
        QCOMPARE(int(std::lround(r.accuracy * r.samples)), expected["correct"].get<int>());
        // Logits of the first samples agree with PyTorch's to float precision.
        std::vector<float> x(size_t(8) * 784);
        preprocess_input(m.input, d.sample(0), x.size(), x.data());
        const std::vector<float> y = run(m, x);
        for (size_t i = 0; i < 8; ++i)
            for (size_t k = 0; k < 10; ++k) {
                const double want = expected["first_logits"][i][k].get<double>();
                QVERIFY2(std::fabs(y[i * 10 + k] - want) < 1e-4 * std::max(1.0, std::fabs(want)),
                         qPrintable(QString("sample %1 class %2: %3 vs %4").arg(i).arg(k).arg(y[i * 10 + k]).arg(want)));
            }
    }
};

QTEST_GUILESS_MAIN(TestOnnx)
#include "test_onnx.moc"
