// bench_session.cpp - a session of 10,000 runs: open and plot (issue 7's goal: under one second).
//
//   BM_session_read_10k: SessionDb::open (read-only) + runs(): the storage alone.
//   BM_session_open_plot_10k: MainWindow::openSession (read-write open, every run into the table
//     model, the accuracy-latency plot with its Pareto frontier, the metric plot, columns sized)
//     and one synchronous replot of the plot in view: what a user waits for after File > Open.
// The session is built once in the temporary folder: 10,000 runs like a sweep's (10 classes,
// 8 experts, 5 layers, 200 latency samples, class x expert counts and co-activation each).
#include "accuracy_latency_plot.h"
#include "main_window.h"
#include "run_list_model.h"
#include "session/session_db.h"
#include "session/session_store.h"

#include <benchmark/benchmark.h>
#include <qcustomplot.h>

#include <QApplication>

#include <cmath>
#include <filesystem>

namespace {

ss::RunRecord sweep_run(int i) {
    ss::RunRecord r;
    r.created_at = "2026-11-28T12:00:00Z";
    r.model_name = "fashion-moe";
    r.model_path = "/models/fashion-moe";
    r.model_sha256 = std::string(64, 'a');
    r.dataset_path = "/data/fashion-mnist (t10k)";
    r.dataset_sha256 = std::string(64, 'b');
    r.app_version = "0.1.0";
    const char* quants[] = {"none", "int8", "int4:g32", "int3:g32", "int2:g32"};
    r.plan = ss::plan_from_flags("magnitude:" + std::to_string((i % 95) / 100.0), quants[i % 5], 1 + i % 3);
    r.grid_key = r.plan.to_json() + "|" + std::to_string(i);
    ss::EvalResult& e = r.result;
    e.samples = 10000;
    e.accuracy = 0.9 - 0.3 * double(i % 95) / 95.0 + 0.001 * (i % 7);
    e.latency_p50_ms = 0.05 + 0.0001 * (i % 300);
    e.latency_p95_ms = e.latency_p50_ms * 1.4;
    e.throughput_sps = 40000 + i % 20000;
    e.weight_bytes = 9235496 / (1 + i % 5);
    e.sparsity = double(i % 95) / 100.0;
    e.threads = 2;
    e.top_k = 1 + i % 3;
    e.flops_per_sample = 1.46e6;
    e.kernels = "batch 1: 18 csr-rows; batch 256: 18 csr-panel";
    e.machine = "Intel(R) Xeon(R) Processor (family 6 model 207), 2 cores, avx512-vnni";
    e.has_comparison = true;
    e.comparison.baseline_accuracy = 0.897;
    e.comparison.accuracy_delta = e.accuracy - 0.897;
    e.comparison.agreement = 0.95;
    e.comparison.throughput_ratio = 1.0 + double(i % 30) / 10.0;
    e.comparison.latency_ratio = 1.2;
    e.comparison.faster_than_dense = true;
    for (int c = 0; c < 10; ++c) {
        e.per_class_accuracy.push_back(0.8 + 0.01 * c);
        e.per_class_count.push_back(1000);
        e.comparison.per_class_delta.push_back(-0.01 * c);
    }
    e.moe_layers = {"moe"};
    e.expert_share = {std::vector<double>(8, 0.125)};
    e.expert_stats.resize(1);
    for (int k = 0; k < 80; ++k) e.expert_stats[0].class_expert.push_back(250 + k);
    for (int k = 0; k < 64; ++k) e.expert_stats[0].coactivation.push_back(k % 9 == 0 ? 0 : 100 + k);
    for (int k = 0; k < 200; ++k) e.latency_samples_ms.push_back(float(e.latency_p50_ms) * (0.9f + 0.001f * float(k)));
    const char* names[] = {"stem", "gelu", "moe", "gelu", "head"};
    for (const char* n : names) {
        ss::LayerCost c;
        c.name = n;
        c.kind = std::string(n) == "gelu" ? "activation" : std::string(n) == "moe" ? "moe" : "linear";
        c.batch1_us = 10.0;
        c.resident_bytes = c.kind == "activation" ? 0 : 200000;
        c.weights = c.kind == "activation" ? 0 : 100000;
        c.zero_weights = int64_t(double(c.weights) * e.sparsity);
        c.precision = c.kind == "activation" ? "" : quants[i % 5];
        c.kernels = c.kind == "activation" ? "" : "csr-rows / csr-panel";
        e.layers.push_back(c);
    }
    return r;
}

const std::string& session_10k() {
    static const std::string path = [] {
        const std::string p = (std::filesystem::temp_directory_path() / "sparsescope-bench-10k.sparsescope").string();
        std::vector<ss::RunRecord> runs;
        for (int i = 0; i < 10000; ++i) runs.push_back(sweep_run(i));
        for (const char* side : {"", "-wal", "-shm"}) std::filesystem::remove(p + side);
        ss::save_session(p, runs);
        return p;
    }();
    return path;
}

void BM_session_read_10k(benchmark::State& state) {
    const std::string& path = session_10k();
    for (auto _ : state) {
        auto runs = ss::SessionDb::open(path, ss::SessionAccess::ReadOnly)->runs();
        benchmark::DoNotOptimize(runs.data());
        if (runs.size() != 10000) state.SkipWithError("wrong run count");
    }
    state.counters["file_MB"] = double(std::filesystem::file_size(path)) / 1e6;
}
BENCHMARK(BM_session_read_10k)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_session_open_plot_10k(benchmark::State& state) {
    const std::string& path = session_10k();
    ssui::MainWindow w;
    w.resize(1400, 900);
    for (auto _ : state) {
        QString err;
        if (!w.openSession(QString::fromStdString(path), &err)) state.SkipWithError(qPrintable(err));
        w.accuracyPlot()->plot()->replot(QCustomPlot::rpImmediateRefresh);
        QApplication::processEvents();
        if (w.accuracyPlot()->pointCount() != 10000) state.SkipWithError("not every run plotted");
    }
}
BENCHMARK(BM_session_open_plot_10k)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace

int main(int argc, char** argv) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("SparseScopeBench")); // keep the user's recent files apart
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
