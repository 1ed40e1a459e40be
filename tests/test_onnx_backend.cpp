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

using namespace ss;
namespace fs = std::filesystem;

namespace {

const fs::path kNodeTests = "/usr/share/libonnx-testdata/data/node";

// The operators onnx_import.cpp maps (its error message lists the same).
const std::set<std::string> kSupported = {"Gemm", "MatMul", "Add", "Relu", "LeakyRelu", "Gelu", "Sigmoid", "Tanh", "Softmax", "LogSoftmax",
                                          "Flatten", "Reshape", "Identity", "Dropout", "Constant"};

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
            try {
                m = import_onnx((dir / "model.onnx").string(), identity);
            } catch (const Error& e) {
                // A refusal must say what it refuses: a node (by name or index, with its op), an
                // input, an output or the graph's shape.
                const std::string what = e.what();
                const bool names_it = what.find("node '") != std::string::npos || what.find("input '") != std::string::npos ||
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
        }
        qInfo("%d node tests use only supported operators: %d imported and matched the expected outputs, %d refused", considered,
              o.matched - int(o.failures.size()), o.refused);
        for (const QString& r : o.refusals) qInfo("  refused %s", qPrintable(r));
        QVERIFY2(o.failures.isEmpty(), qPrintable(o.failures.join('\n')));
        QVERIFY(considered > 40);
        QVERIFY(o.matched >= 5); // relu, leaky relu, sigmoid, tanh at least
    }
};

QTEST_GUILESS_MAIN(TestOnnxBackend)
#include "test_onnx_backend.moc"
