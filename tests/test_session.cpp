// test_session.cpp - session files: round trip, versioning, refusal of foreign files.
#include "error.h"
#include "run_delta.h"
#include "session_store.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QtTest>

#include <sqlite3.h>

#include <cmath>

using namespace ss;

namespace {
RunRecord sample_run(int64_t id, double acc) {
    RunRecord r;
    r.id = id;
    r.created_at = "2026-11-28T12:00:00Z";
    r.model_name = "fashion-moe";
    r.model_path = "/models/fashion-moe";
    r.dataset_path = "/data (t10k)";
    r.plan = plan_from_flags("magnitude:0.5", "int8", 3);
    EvalResult& e = r.result;
    e.samples = 10000;
    e.accuracy = acc;
    e.per_class_accuracy = {0.5, std::nan(""), 0.25};
    e.per_class_count = {10, 0, 4};
    e.moe_layers = {"moe", "moe2"};
    e.expert_share = {{0.25, 0.75}, {0.1, 0.2, 0.7}};
    e.latency_p50_ms = 0.123;
    e.latency_p95_ms = 0.456;
    e.throughput_sps = 12345.5;
    e.weight_bytes = 2359888;
    e.sparsity = 0.5;
    e.threads = 2;
    e.top_k = 3;
    e.flops_per_sample = 1.5e6;
    e.has_comparison = true;
    e.comparison.baseline_accuracy = acc + 0.01;
    e.comparison.accuracy_delta = -0.01;
    e.comparison.agreement = 0.97;
    e.comparison.mean_kl = 0.03;
    e.comparison.delta_ci_low = -0.02;
    e.comparison.delta_ci_high = 0.0;
    e.comparison.gained = 5;
    e.comparison.lost = 105;
    e.comparison.throughput_ratio = 2.5;
    e.comparison.latency_ratio = 1.1; // within the noise margin: not faster by latency
    e.comparison.faster_than_dense = true;
    e.kernels = "batch 1: 18 csr-rows; batch 256: 18 csr-panel";
    e.machine = "Intel(R) Xeon(R) Processor (family 6 model 207), 2 cores";
    r.note = "baseline for the \"int4\" comparison; 'quotes' kept";
    e.comparison.per_class_delta = {-0.1, std::nan(""), 0.05};
    return r;
}

void exec(const std::string& path, const char* sql) {
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    sqlite3_close(db);
}

QString error_of(const std::string& path) {
    try {
        load_session(path);
    } catch (const Error& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}
} // namespace

class TestSession : public QObject {
    Q_OBJECT
private slots:
    void runDeltaAgainstAChosenBaseline() {
        RunRecord base = sample_run(1, 0.80), run = sample_run(2, 0.75);
        run.result.per_class_accuracy = {0.4, 0.9, std::nan("")};
        run.result.comparison.throughput_ratio = 5.0; // base 2.5: twice as fast, measured beside dense
        run.result.comparison.latency_ratio = 0.55;   // base 1.1: half as fast at batch 1
        run.result.weight_bytes = base.result.weight_bytes / 4;
        RunDelta d = run_delta(run, base);
        QCOMPARE(d.accuracy_points, -5.0);
        QVERIFY(d.via_dense);
        QCOMPARE(d.throughput_ratio, 2.0);
        QCOMPARE(d.latency_ratio, 0.5);
        QCOMPARE(d.weight_ratio, 0.25);
        QCOMPARE(d.per_class_points.size(), size_t(3));
        QCOMPARE(d.per_class_points[0], 100.0 * (0.4 - 0.5)); // class 1 empty in base, class 2 in run: NaN
        QVERIFY(std::isnan(d.per_class_points[1]) && std::isnan(d.per_class_points[2]));
        // Without side-by-side ratios the runs' own timings are compared.
        run.result.has_comparison = false;
        run.result.throughput_sps = 3.0 * base.result.throughput_sps;
        run.result.latency_p50_ms = base.result.latency_p50_ms / 4;
        d = run_delta(run, base);
        QVERIFY(!d.via_dense);
        QCOMPARE(d.throughput_ratio, 3.0);
        QCOMPARE(d.latency_ratio, 4.0);
        QCOMPARE(run_delta(base, base).accuracy_points, 0.0);
    }

    void roundTrip() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("s.sparsescope").toStdString();
        save_session(path, {sample_run(1, 0.9), sample_run(2, 0.8)});
        const auto runs = load_session(path);
        QCOMPARE(runs.size(), size_t(2));
        const RunRecord& r = runs[1];
        QCOMPARE(r.id, int64_t(2));
        QCOMPARE(r.result.accuracy, 0.8);
        QCOMPARE(r.plan.prune.method, PruneMethod::Magnitude);
        QCOMPARE(r.plan.prune.sparsity, 0.5);
        QCOMPARE(r.plan.quant.label(), std::string("int8"));
        QCOMPARE(r.plan.top_k, 3);
        QCOMPARE(r.result.top_k, 3);
        QCOMPARE(r.result.latency_p95_ms, 0.456);
        QCOMPARE(r.result.weight_bytes, int64_t(2359888));
        QCOMPARE(r.result.per_class_count, (std::vector<int>{10, 0, 4}));
        QCOMPARE(r.result.per_class_accuracy[0], 0.5);
        QVERIFY(std::isnan(r.result.per_class_accuracy[1]));
        QCOMPARE(r.result.moe_layers, (std::vector<std::string>{"moe", "moe2"}));
        QCOMPARE(r.result.expert_share[1], (std::vector<double>{0.1, 0.2, 0.7}));
        QCOMPARE(r.created_at, std::string("2026-11-28T12:00:00Z"));
        QVERIFY(r.result.has_comparison);
        QCOMPARE(r.result.comparison.agreement, 0.97);
        QCOMPARE(r.result.comparison.lost, 105);
        QCOMPARE(r.result.comparison.throughput_ratio, 2.5);
        QCOMPARE(r.result.comparison.latency_ratio, 1.1);
        QVERIFY(r.result.comparison.faster_than_dense); // recomputed from the ratios: 2.5 beats the margin
        QCOMPARE(r.result.kernels, std::string("batch 1: 18 csr-rows; batch 256: 18 csr-panel"));
        QCOMPARE(r.result.machine, std::string("Intel(R) Xeon(R) Processor (family 6 model 207), 2 cores"));
        QCOMPARE(r.note, std::string("baseline for the \"int4\" comparison; 'quotes' kept"));
        QCOMPARE(r.result.comparison.delta_ci_low, -0.02);
        QCOMPARE(r.result.comparison.per_class_delta[0], -0.1);
        QVERIFY(std::isnan(r.result.comparison.per_class_delta[1]));
        QCOMPARE(r.result.flops_per_sample, 1.5e6);
        // The whole plan survives, overrides included.
        RunRecord p = sample_run(3, 0.5);
        p.plan = parse_compression_plan(R"({"prune": "wanda:0.3", "quant": "int4:g64:asym", "layers": {"head": {"quant": "fp16"}}})", "p");
        const std::string path2 = dir.filePath("plan.sparsescope").toStdString();
        save_session(path2, {p});
        QCOMPARE(load_session(path2)[0].plan.to_json(), p.plan.to_json());
        QCOMPARE(r.dataset_path, std::string("/data (t10k)"));
    }

    void saveReplacesAndSchemaIsVersioned() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("s.sparsescope").toStdString();
        save_session(path, {sample_run(1, 0.9), sample_run(2, 0.8)});
        save_session(path, {sample_run(1, 0.7)});
        QCOMPARE(load_session(path).size(), size_t(1));
        sqlite3* db = nullptr;
        QCOMPARE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
        sqlite3_stmt* s = nullptr;
        sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr);
        QCOMPARE(sqlite3_step(s), SQLITE_ROW);
        QCOMPARE(sqlite3_column_int(s, 0), kSessionSchemaVersion);
        sqlite3_finalize(s);
        sqlite3_close(db);
        QVERIFY(!QFile::exists(QString::fromStdString(path + ".saving")));
    }

    void refusesSessionFromTheFuture() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("future.sparsescope").toStdString();
        save_session(path, {sample_run(1, 0.9)});
        exec(path, "PRAGMA user_version = 99");
        const auto before = test_support::read_bytes(path);
        const QString err = error_of(path);
        QVERIFY2(err.contains("schema version 99 is newer"), qPrintable(err));
        QCOMPARE(test_support::read_bytes(path), before);
    }

    void refusesForeignFilesUnchanged() {
        QTemporaryDir dir;
        const std::string text = dir.filePath("notes.txt").toStdString();
        test_support::write_bytes(text, std::vector<uint8_t>(3000, 'x'));
        QString err = error_of(text);
        QVERIFY2(err.contains("not an SQLite database"), qPrintable(err));
        QCOMPARE(test_support::read_bytes(text), std::vector<uint8_t>(3000, 'x'));

        const std::string other = dir.filePath("other.db").toStdString();
        exec(other, "CREATE TABLE t(x); INSERT INTO t VALUES (1);");
        err = error_of(other);
        QVERIFY2(err.contains("not a SparseScope session"), qPrintable(err));

        err = error_of(dir.filePath("missing.sparsescope").toStdString());
        QVERIFY2(err.contains("no such file"), qPrintable(err));
    }

    void readsSchemaVersion1() {
        // A session written by schema 1 (before preprocessing was stored) still opens.
        QTemporaryDir dir;
        const std::string path = dir.filePath("v1.sparsescope").toStdString();
        exec(path, R"sql(
            CREATE TABLE runs (id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, model_name TEXT NOT NULL,
              model_path TEXT NOT NULL, dataset_path TEXT NOT NULL, prune_method TEXT NOT NULL,
              sparsity_target REAL NOT NULL, quant TEXT NOT NULL, top_k_override INTEGER NOT NULL, top_k INTEGER NOT NULL,
              threads INTEGER NOT NULL, samples INTEGER NOT NULL, accuracy REAL NOT NULL, latency_p50_ms REAL NOT NULL,
              latency_p95_ms REAL NOT NULL, throughput_sps REAL NOT NULL, weight_bytes INTEGER NOT NULL, sparsity REAL NOT NULL);
            CREATE TABLE run_class_accuracy (run_id INTEGER NOT NULL, class_index INTEGER NOT NULL, samples INTEGER NOT NULL,
              accuracy REAL, PRIMARY KEY (run_id, class_index));
            CREATE TABLE run_expert_share (run_id INTEGER NOT NULL, layer_index INTEGER NOT NULL, layer_name TEXT NOT NULL,
              expert INTEGER NOT NULL, share REAL NOT NULL, PRIMARY KEY (run_id, layer_index, expert));
            INSERT INTO runs VALUES (1, 't', 'm', '/m', '/d', 'magnitude', 0.5, 'int8', 0, 2, 1, 100, 0.75, 0.1, 0.2, 1000, 4096, 0.5);
            PRAGMA user_version = 1;
            PRAGMA application_id = 1397977905;)sql");
        const auto runs = load_session(path);
        QCOMPARE(runs.size(), size_t(1));
        QCOMPARE(runs[0].result.accuracy, 0.75);
        QVERIFY(std::isnan(runs[0].input.scale));
        QCOMPARE(runs[0].dataset_sha256, std::string());
    }

    void readsSchemaVersion3() {
        // A schema-3 file (before speed ratios, kernels and machine were stored): a current one with
        // the runs table rebuilt without those columns.
        QTemporaryDir dir;
        const std::string path = dir.filePath("v3.sparsescope").toStdString();
        save_session(path, {sample_run(1, 0.9)});
        exec(path, "CREATE TABLE r3 AS SELECT id, created_at, model_name, model_path, dataset_path, prune_method, sparsity_target, quant, "
                   "top_k_override, top_k, threads, samples, accuracy, latency_p50_ms, latency_p95_ms, throughput_sps, weight_bytes, "
                   "sparsity, input_scale, input_mean, input_std, dataset_sha256, plan_json, flops_per_sample, baseline_accuracy, "
                   "agreement, mean_kl, delta_ci_low, delta_ci_high, gained, lost FROM runs; DROP TABLE runs; "
                   "ALTER TABLE r3 RENAME TO runs; PRAGMA user_version = 3;");
        // (schema 4 is schema 5 without `note`: that path is checked below)
        const auto runs = load_session(path);
        QCOMPARE(runs.size(), size_t(1));
        const EvalResult& e = runs[0].result;
        QVERIFY(e.has_comparison);
        QCOMPARE(e.comparison.agreement, 0.97);
        QCOMPARE(e.comparison.throughput_ratio, 0.0); // not measured then
        QVERIFY(!e.comparison.faster_than_dense);
        QCOMPARE(e.kernels, std::string());
        QCOMPARE(e.machine, std::string());
    }

    void readsSchemaVersion4() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("v4.sparsescope").toStdString();
        save_session(path, {sample_run(1, 0.9)});
        exec(path, "CREATE TABLE r4 AS SELECT id, created_at, model_name, model_path, dataset_path, prune_method, sparsity_target, quant, "
                   "top_k_override, top_k, threads, samples, accuracy, latency_p50_ms, latency_p95_ms, throughput_sps, weight_bytes, "
                   "sparsity, input_scale, input_mean, input_std, dataset_sha256, plan_json, flops_per_sample, baseline_accuracy, "
                   "agreement, mean_kl, delta_ci_low, delta_ci_high, gained, lost, throughput_ratio, latency_ratio, kernels, machine "
                   "FROM runs; DROP TABLE runs; ALTER TABLE r4 RENAME TO runs; PRAGMA user_version = 4;");
        const auto runs = load_session(path);
        QCOMPARE(runs.size(), size_t(1));
        QCOMPARE(runs[0].result.comparison.throughput_ratio, 2.5);
        QCOMPARE(runs[0].note, std::string());
    }

    void preprocessingRoundTrips() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("p.sparsescope").toStdString();
        RunRecord r = sample_run(1, 0.5);
        r.input.scale = 1.0 / 255.0;
        r.input.mean = 0.286;
        r.input.std = 0.353;
        r.dataset_sha256 = "abc123";
        save_session(path, {r});
        const RunRecord back = load_session(path)[0];
        QCOMPARE(back.input.scale, 1.0 / 255.0);
        QCOMPARE(back.input.mean, 0.286);
        QCOMPARE(back.input.std, 0.353);
        QCOMPARE(back.dataset_sha256, std::string("abc123"));
    }

    void failedSaveKeepsOldFile() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("s.sparsescope").toStdString();
        save_session(path, {sample_run(1, 0.9)});
        const auto before = test_support::read_bytes(path);
        QVERIFY_THROWS_EXCEPTION(Error, save_session(dir.filePath("no/such/dir/s.sparsescope").toStdString(), {sample_run(1, 0.1)}));
        QCOMPARE(test_support::read_bytes(path), before);
    }
};

QTEST_GUILESS_MAIN(TestSession)
#include "test_session.moc"
