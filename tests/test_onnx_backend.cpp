// test_onnx_backend.cpp - the ONNX project's own backend node tests (Debian's libonnx-testdata,
// /usr/share/libonnx-testdata/data/node): every test whose nodes all use an operator the importer
// supports is imported; an imported model must reproduce the expected output of every test data
// set (ONNX's own tolerance: rtol 1e-3, atol 1e-7), a refused one must say which node, input or
// output it refuses. No test here was written by this project: a silently wrong import shows up
// as a value mismatch.
#include "error.h"
#include "formats/onnx_import.h"
#include "model/forward.h"

#include <onnx/onnx_pb.h>

#include <QtTest>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <unistd.h>

using namespace ss;
namespace fs = std::filesystem;

namespace {

const fs::path kNodeTests = "/usr/share/libonnx-testdata/data/node";

// The operators onnx_import.cpp maps (its error message lists the same).
const std::set<std::string> kSupported = {"Gemm", "MatMul", "Add", "Relu", "LeakyRelu", "Gelu", "Sigmoid", "Tanh", "Softmax", "LogSoftmax",
                                          "Flatten", "Reshape", "Identity", "Dropout", "Constant", "Conv", "BatchNormalization", "MaxPool",
                                          "AveragePool", "GlobalAveragePool"};

// Node tests that must import and match (the conv-net operators in PyTorch's forms); the others
// with these operators may be refused, by name (asymmetric padding, ceil mode, 1-D and 3-D, ...).
const std::set<std::string> kMustMatch = {
    "test_conv_with_strides_padding", "test_conv_with_strides_no_padding", "test_conv_with_autopad_same",
    "test_batchnorm_example", "test_batchnorm_epsilon",
    "test_maxpool_2d_default", "test_maxpool_2d_pads", "test_maxpool_2d_strides", "test_maxpool_2d_dilations",
    "test_maxpool_2d_precomputed_pads", "test_maxpool_2d_precomputed_strides",
    "test_averagepool_2d_default", "test_averagepool_2d_pads", "test_averagepool_2d_pads_count_include_pad",
    "test_averagepool_2d_strides", "test_averagepool_2d_precomputed_pads", "test_averagepool_2d_precomputed_pads_count_include_pad",
    "test_averagepool_2d_precomputed_strides", "test_globalaveragepool", "test_globalaveragepool_precomputed"};

// The node test's model with graph inputs 1.. (a Conv's W and B, BatchNormalization's statistics)
// turned into initializers holding this data set's values, written to `out`: SparseScope imports
// weights, not run-time inputs. False when a data set lacks one of them.
bool freeze_extra_inputs(const onnx::ModelProto& model, const fs::path& set_dir, const fs::path& out) {
    onnx::ModelProto m = model;
    onnx::GraphProto* g = m.mutable_graph();
    std::vector<onnx::ValueInfoProto> kept;
    for (int k = 0; k < g->input_size(); ++k) {
        if (k == 0) {
            kept.push_back(g->input(k));
            continue;
        }
        onnx::TensorProto t;
        std::ifstream in(set_dir / ("input_" + std::to_string(k) + ".pb"), std::ios::binary);
        if (!in || !t.ParseFromIstream(&in)) return false;
        t.set_name(g->input(k).name());
        *g->add_initializer() = t;
    }
    g->clear_input();
    for (const auto& v : kept) *g->add_input() = v;
    std::ofstream o(out, std::ios::binary);
    return m.SerializeToOstream(&o);
}

template <class Proto> bool read_proto(const fs::path& p, Proto& out) {
    std::ifstream in(p, std::ios::binary);
    return in && out.ParseFromIstream(&in);
}

std::vector<float> floats_of(const onnx::TensorProto& t) {
    std::vector<float> v;
    if (t.data_type() != onnx::TensorProto::FLOAT) return v;
    if (!t.raw_data().empty()) {
        v.resize(t.raw_data().size() / 4);
        std::memcpy(v.data(), t.raw_data().data(), v.size() * 4);
    } else {
        v.assign(t.float_data().begin(), t.float_data().end());
    }
    return v;
}

struct Outcome {
    int matched = 0, refused = 0;
    QStringList failures, refusals;
};

} // namespace

class TestOnnxBackend : public QObject {
    Q_OBJECT
private slots:
    void nodeTestsOfSupportedOperators() {
        if (!fs::is_directory(kNodeTests)) QSKIP("libonnx-testdata is not installed (scripts/install-deps installs it)");
        Outcome o;
        int considered = 0;
        std::set<std::string> matched_names;
        std::vector<fs::path> dirs;
        for (const auto& e : fs::directory_iterator(kNodeTests)) dirs.push_back(e.path());
        std::sort(dirs.begin(), dirs.end());
        for (const fs::path& dir : dirs) {
            onnx::ModelProto model;
            if (!read_proto(dir / "model.onnx", model)) continue;
            bool supported = model.graph().node_size() > 0;
            for (const auto& n : model.graph().node()) supported = supported && kSupported.count(n.op_type());
            if (!supported) continue;
            ++considered;
            const QString name = QString::fromStdString(dir.filename().string());
            InputSpec identity; // the node tests feed the graph's input as it is
            Model m;
            fs::path model_path = dir / "model.onnx";
            const fs::path frozen = fs::temp_directory_path() / ("ss-node-" + std::to_string(::getpid()) + ".onnx");
            if (model.graph().input_size() > 1) { // weights given as inputs: frozen from the first data set
                if (!freeze_extra_inputs(model, dir / "test_data_set_0", frozen)) {
                    o.failures << name + ": its extra inputs could not be frozen";
                    continue;
                }
                model_path = frozen;
            }
            try {
                m = import_onnx(model_path.string(), identity);
            } catch (const Error& e) {
                // A refusal must say what it refuses: a node (by name or index, with its op), an
                // input, an output or the graph's shape.
                const std::string what = e.what();
                const bool names_it = what.find("node '") != std::string::npos || what.find("input '") != std::string::npos ||
                                      what.find("tensor '") != std::string::npos ||
                                      what.find("graph has") != std::string::npos || what.find("the graph output") != std::string::npos ||
                                      what.find("the graph has no layers") != std::string::npos;
                if (!names_it) o.failures << name + ": refused without naming the node: " + QString::fromStdString(what);
                ++o.refused;
                o.refusals << name + ": " + QString::fromStdString(what.substr(what.find(": ") + 2));
                continue;
            }
            int sets = 0;
            for (int s = 0; fs::exists(dir / ("test_data_set_" + std::to_string(s))); ++s, ++sets) {
                const fs::path d = dir / ("test_data_set_" + std::to_string(s));
                onnx::TensorProto in, out;
                if (!read_proto(d / "input_0.pb", in) || !read_proto(d / "output_0.pb", out)) {
                    o.failures << name + ": unreadable test data";
                    break;
                }
                const std::vector<float> x = floats_of(in), want = floats_of(out);
                const int n = in.dims_size() > 0 ? int(in.dims(0)) : 0;
                if (n <= 0 || x.size() != size_t(n) * size_t(m.input_features())) {
                    o.failures << name + QStringLiteral(": imported with %1 features, but the test feeds %2 values for %3 rows")
                                             .arg(m.input_features()).arg(x.size()).arg(n);
                    break;
                }
                std::vector<float> y(size_t(n) * m.num_classes());
                ForwardWorkspace ws;
                forward(m, x.data(), n, y.data(), {}, ws, nullptr);
                if (y.size() != want.size()) {
                    o.failures << name + QStringLiteral(": %1 outputs, expected %2").arg(y.size()).arg(want.size());
                    break;
                }
                for (size_t i = 0; i < y.size(); ++i)
                    if (!(std::fabs(double(y[i]) - want[i]) <= 1e-7 + 1e-3 * std::fabs(double(want[i])))) {
                        o.failures << name + QStringLiteral(": output %1 is %2, expected %3").arg(i).arg(y[i]).arg(want[i]);
                        break;
                    }
            }
            if (sets == 0) o.failures << name + ": no test data";
            ++o.matched;
            matched_names.insert(dir.filename().string());
        }
        qInfo("%d node tests use only supported operators: %d imported and matched the expected outputs, %d refused", considered,
              o.matched - int(o.failures.size()), o.refused);
        for (const QString& r : o.refusals) qInfo("  refused %s", qPrintable(r));
        QVERIFY2(o.failures.isEmpty(), qPrintable(o.failures.join('\n')));
        for (const std::string& t : kMustMatch)
            if (fs::is_directory(kNodeTests / t)) QVERIFY2(matched_names.count(t), qPrintable(QString::fromStdString(t) + " was not imported"));
        QVERIFY(considered > 40);
        QVERIFY(o.matched >= 5); // relu, leaky relu, sigmoid, tanh at least
    }
};

QTEST_GUILESS_MAIN(TestOnnxBackend)
#include "test_onnx_backend.moc"
