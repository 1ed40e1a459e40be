// test_session.cpp - session files: round trip, versioning, refusal of foreign files.
#include "error.h"
#include "eval/model_card.h"
#include "eval/run_delta.h"
#include "eval/ood_scores.h"
#include "eval/robustness.h"
#include "eval/slices.h"
#include "eval/confidence_calibration.h"
#include "session/session_db.h"
#include "session/session_migrations.h"
#include "session/session_store.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QtTest>

#include <sqlite3.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <set>

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

int pragma(const std::string& path, const char* sql) {
    sqlite3* db = nullptr;
    sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* s = nullptr;
    int v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
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

    void modelCardStatesWhatWasMeasured() {
        RunRecord r = sample_run(7, 0.8125);
        r.model_name = "fashion|moe"; // a '|' must not break the Markdown tables
        ModelCardOptions o;
        o.labels = {"T-shirt", "Trouser", "Pullover"};
        o.session_path = "lab.sparsescope";
        const std::string md = model_card_markdown(r, o);
        auto has = [&](const std::string& s) { return md.find(s) != std::string::npos; };
        QVERIFY(has("# Model card: fashion|moe, prune magnitude:0.50, quant int8, top-3"));
        QVERIFY(has("| Name | fashion\\|moe |"));
        QVERIFY(has("(session `lab.sparsescope`, run 7)"));
        QVERIFY(has("| Top-1 accuracy | 81.25 % |"));
        QVERIFY(has("| Change | -1.00 points (95 % interval -2.00 to +0.00; 5 samples gained, 105 lost) |"));
        QVERIFY(has(r.plan.to_json()));
        // Class 0 lost 10 points (a regression); class 1 has no samples; class 2 gained.
        QVERIFY(has("| T-shirt | 10 | 50.00 % | -10.00 |"));
        QVERIFY(has("| Trouser | 0 | — | — |"));
        QVERIFY(has("**Classes that lost more than 1.0 points:** T-shirt (-10.00 points)."));
        QVERIFY(has("throughput ×2.50, batch-1 latency ×1.10: **faster**"));
        QVERIFY(has("`moe2`, share of routed slots per expert: 10.0 %, 20.0 %, 70.0 %."));
        QVERIFY(has("## Notes\n\nbaseline for the \"int4\" comparison"));
        // Not faster, and without a dense comparison: said so.
        r.result.comparison.faster_than_dense = false;
        QVERIFY(model_card_markdown(r).find("**not faster**") != std::string::npos);
        r.result.has_comparison = false;
        const std::string bare = model_card_markdown(r);
        QVERIFY(bare.find("This run has no comparison with the uncompressed model.") != std::string::npos);
        QVERIFY(bare.find("| class 0 | 10 | 50.00 % | — |") != std::string::npos); // no labels given
    }

    // The sections beyond accuracy and the model-index front matter, from a run that has them.
    void modelCardBeyondAccuracy() {
        RunRecord r = sample_run(3, 0.8125);
        r.dataset_path = "/data/fashion-mnist (t10k)";
        r.dataset_card = R"({"dataset": {"samples": 3, "class_counts": [1, 1, 1]},
                             "provenance": {"name": "Fashion-MNIST", "license": "MIT", "origin": "/x/copyright"},
                             "leakage": {"exact_pairs": 0, "near_pairs": 22, "samples_affected": 16}})";
        Comparison& c = r.result.comparison;
        c.class_lost = {30, 0, 1};
        c.class_gained = {2, 0, 1};
        c.class_p = {1e-6, std::nan(""), 1.0};
        c.class_p_holm = {2e-6, std::nan(""), 1.0};
        c.flipped = {{17, 0, 0, 2, 0.9f, 0.1f}};
        c.calibration = calibration({0.95f, 0.55f, 0.55f, 0.25f}, {1, 1, 0, 0});
        c.dense_calibration = calibration({0.95f, 0.95f, 0.55f, 0.25f}, {1, 0, 1, 0});
        RobustnessOptions o;
        o.corruptions = {Corruption::Contrast, Corruption::Shift};
        o.severities = {2, 4};
        const std::vector<double> dense_acc{0.9, 0.8, 0.7, 0.5};
        r.result.robustness = robustness_from_accuracies(o, 2000, {0.8, 0.6, 0.7, 0.5}, &dense_acc);
        r.result.has_robustness = true;
        r.result.ood.set = "glyphs";
        r.result.ood.in_count = 3;
        r.result.ood.out_count = 2;
        r.result.ood.msp = ood_separation({0.9f, 0.8f, 0.4f}, {0.5f, 0.1f});
        r.result.has_ood = true;
        ModelCardOptions mo;
        mo.labels = {"T-shirt", "Trouser", "Pullover"};
        const std::string md = model_card_markdown(r, mo);
        auto has = [&](const std::string& s) { return md.find(s) != std::string::npos; };
        // Front matter first, then the title.
        QVERIFY(md.rfind("---\nlibrary_name: sparsescope\n", 0) == 0);
        QVERIFY(has("model-index:\n- name: \"fashion-moe (prune magnitude:0.50, quant int8, top-3)\"\n"));
        QVERIFY(has("    dataset:\n      name: \"Fashion-MNIST\"\n      type: \"fashion_mnist\"\n      split: test\n"));
        QVERIFY(has("    - type: accuracy\n      value: 81.25\n      name: \"Top-1 accuracy (%)\"\n      verified: false\n"));
        QVERIFY(has("    - type: mce\n      value: " + QString::number(r.result.robustness.mce, 'f', 3).toStdString()));
        QVERIFY(has("    - type: auroc\n      value: 0.833\n")); // 5 of 6 pairs ordered
        QVERIFY(has("---\n\n# Model card: "));
        // Regressions: McNemar per class, Holm-flagged.
        QVERIFY(has("1 samples flipped: 1 right under the uncompressed model and wrong now, 0 the reverse."));
        QVERIFY(has("| T-shirt | 30 | 2 | 1e-06 | 2e-06 | **regression** |"));
        QVERIFY(has("| Pullover | 1 | 1 | 1 | 1 |  |"));
        QVERIFY(has("| 17 | T-shirt | T-shirt | Pullover | 0.900 → 0.100 |"));
        // Calibration of both (ECE by hand in test_robustness: 0.41 for these five; here four samples).
        QVERIFY(has("| ECE | " + QString::asprintf("%.2f %%", 100.0 * c.calibration.ece).toStdString() + " | "));
        // Robustness: compressed / dense per cell, CE, mCE.
        QVERIFY(has("| contrast | 80.0 / 90.0 | 60.0 / 80.0 |"));
        QVERIFY(has("Accuracy on the first 2000 evaluation samples"));
        QVERIFY(has("**mCE "));
        QVERIFY(has("| Max softmax, compressed | 0.833 |"));
        QVERIFY(has("| Licence | MIT |"));
        QVERIFY(has("| Collection | not stated |"));
        QVERIFY(has("| Leakage against the training data | 0 exact and 22 near-duplicate pairs"));
        // Without the front matter when asked.
        mo.model_index = false;
        QVERIFY(model_card_markdown(r, mo).rfind("# Model card: ", 0) == 0);
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
        QCOMPARE(sqlite3_column_int(s, 0), session_schema_version());
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

    void migrationFilesAreNumberedInOrder() {
        const auto& all = session_migrations();
        QCOMPARE(int(all.size()), session_schema_version());
        QVERIFY(all.size() >= 6);
        for (size_t i = 0; i < all.size(); ++i) {
            char prefix[16];
            std::snprintf(prefix, sizeof prefix, "%04d_", int(i) + 1);
            QVERIFY2(std::string(all[i].file).rfind(prefix, 0) == 0, all[i].file);
        }
    }

    void everyEarlierSchemaOpensAndMigrates_data() {
        QTest::addColumn<int>("version");
        for (int v = 1; v <= 10; ++v) QTest::newRow(qPrintable(QStringLiteral("v%1").arg(v))) << v;
    }
    void everyEarlierSchemaOpensAndMigrates() {
        // Fixtures written with each version's own DDL (tests/fixtures/make_session_fixtures.py).
        QFETCH(int, version);
        const std::string fixture = std::string(SPARSESCOPE_FIXTURES) + "/session-v" + std::to_string(version) + ".sparsescope";
        QTemporaryDir dir;
        const std::string path = dir.filePath("old.sparsescope").toStdString();
        const auto original = test_support::read_bytes(fixture);
        test_support::write_bytes(path, original);

        // Read-only: migrated in memory, the file untouched.
        std::vector<RunRecord> runs;
        {
            auto db = SessionDb::open(path, SessionAccess::ReadOnly);
            QCOMPARE(db->found_version(), version);
            runs = db->runs();
        }
        QCOMPARE(test_support::read_bytes(path), original);
        QCOMPARE(runs.size(), size_t(2));
        const RunRecord& r = runs[1];
        QCOMPARE(r.id, int64_t(2));
        QCOMPARE(r.result.accuracy, 0.8627);
        QCOMPARE(r.plan.prune.method, PruneMethod::Magnitude);
        QCOMPARE(r.plan.prune.sparsity, 0.7);
        QCOMPARE(r.plan.quant.label(), std::string("int8"));
        QCOMPARE(r.plan.top_k, 1);
        QCOMPARE(r.result.per_class_accuracy.size(), size_t(10));
        QVERIFY(std::isnan(r.result.per_class_accuracy[9]));
        QCOMPARE(r.result.expert_share.front().size(), size_t(8));
        QCOMPARE(r.result.expert_stats.size(), size_t(1)); // summaries recomputed from the shares
        QVERIFY(r.result.expert_stats[0].entropy_bits > 2.9 && r.result.expert_stats[0].entropy_bits < 3.0);
        QCOMPARE(r.model_name, std::string("fashion-moe"));
        std::string hash;
        for (int i = 0; i < 4; ++i) hash += "2745d3e0a451fa53";
        QCOMPARE(r.dataset_sha256, version >= 2 ? hash : std::string());
        QCOMPARE(r.result.has_comparison, version >= 3);
        if (version >= 3) QCOMPARE(r.result.comparison.lost, 463);
        QCOMPARE(r.result.comparison.throughput_ratio, version >= 4 ? 1.44 : 0.0);
        QCOMPARE(r.note, version >= 5 ? std::string("70 % costs 3.4 points") : std::string());
        QCOMPARE(r.tags, version >= 6 ? (std::vector<std::string>{"sweep", "int8"}) : std::vector<std::string>{});
        // Schema 9: none hidden or deleted; how busy the machine was is not known for old runs.
        QVERIFY(!r.hidden && !r.deleted());
        QVERIFY(std::isnan(r.result.others_cpus));
        QCOMPARE(r.dataset_card, std::string()); // schema 11: no card before
        // Schema 7: every earlier run is a classification run, its metrics filled from the columns.
        QCOMPARE(r.result.task, EvalTask::Classification);
        QCOMPARE(r.result.metrics.at("accuracy"), 0.8627);
        QCOMPARE(r.result.metrics.count("agreement"), size_t(version >= 3 ? 1 : 0));
        if (version >= 3) {
            QCOMPARE(r.result.metrics.at("agreement"), 0.913);
            QCOMPARE(r.result.metrics.at("mean_kl"), 0.21);
            QVERIFY(std::fabs(r.result.metrics.at("accuracy_delta") - (0.8627 - 0.8970)) < 1e-12);
        }

        // Read-write: a backup of the file as it was, then every later migration in place.
        {
            auto db = SessionDb::open(path, SessionAccess::ReadWrite);
            QCOMPARE(db->found_version(), version);
            QCOMPARE(db->backup_path(), path + ".v" + std::to_string(version) + ".bak");
            QCOMPARE(db->journal_mode(), std::string("wal"));
            QCOMPARE(db->integrity_check(), std::string("ok"));
            const auto migrated = db->runs();
            QCOMPARE(migrated.size(), runs.size());
            for (size_t i = 0; i < runs.size(); ++i) QCOMPARE(migrated[i].plan.to_json(), runs[i].plan.to_json());
            // New runs go in beside the old ones.
            RunRecord n = sample_run(0, 0.5);
            n.model_sha256 = std::string(64, 'a'); // the same model file, now with its hash
            n.dataset_card = R"({"provenance":{"license":"MIT"}})";
            QCOMPARE(db->add_run(n), int64_t(3));
            // The card belongs to the dataset: every run on it reads the newest one.
            const auto now = db->runs();
            QCOMPARE(now.back().dataset_card, n.dataset_card);
            QCOMPARE(now.front().dataset_card, now.front().dataset_path == n.dataset_path && now.front().dataset_sha256 == n.dataset_sha256
                                                   ? n.dataset_card : std::string());
        }
        QCOMPARE(pragma(path, "PRAGMA user_version"), session_schema_version());
        QCOMPARE(pragma(path, "SELECT count(*) FROM models"), 2); // the old runs' model, and the new one with its hash
        const auto bak = test_support::read_bytes(path + ".v" + std::to_string(version) + ".bak");
        QCOMPARE(pragma(path + ".v" + std::to_string(version) + ".bak", "PRAGMA user_version"), version);
        QVERIFY(bak.size() >= original.size() / 2);
        QCOMPARE(load_session(path).size(), size_t(3));
    }

    // Sweeps before schema 8 could store a grid point twice (two sweeps into one file): the
    // migration keeps the earliest run as the point and the later copy as a plain run.
    void migrationKeepsOneRunPerGridPoint() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("dup.sparsescope").toStdString();
        test_support::write_bytes(path, test_support::read_bytes(std::string(SPARSESCOPE_FIXTURES) + "/session-v7.sparsescope"));
        exec(path, "CREATE TEMP TABLE t AS SELECT * FROM runs WHERE id = 2; UPDATE t SET id = 3; INSERT INTO runs SELECT * FROM t;"
                   "INSERT INTO run_metric SELECT 3, name, value FROM run_metric WHERE run_id = 2");
        QCOMPARE(pragma(path, "SELECT count(DISTINCT grid_key) FROM runs"), 2);
        QCOMPARE(pragma(path, "SELECT count(*) FROM runs"), 3);
        auto db = SessionDb::open(path, SessionAccess::ReadWrite);
        const auto runs = db->runs();
        QCOMPARE(runs.size(), size_t(3));
        QCOMPARE(runs[1].grid_key, std::string("fixture-grid-point-2"));
        QCOMPARE(runs[2].grid_key, std::string());
        QCOMPARE(runs[2].result.accuracy, runs[1].result.accuracy); // nothing else changed
        QCOMPARE(db->grid_keys(), (std::set<std::string>{"fixture-grid-point-1", "fixture-grid-point-2"}));
        RunRecord again = sample_run(0, 0.5);
        again.grid_key = "fixture-grid-point-1";
        QVERIFY_THROWS_EXCEPTION(Error, db->add_run(again)); // the key is unique now
        QCOMPARE(db->run_count(), int64_t(3));
    }

    // Two sweeps into one file: a point claimed by a running process is Taken for the other; a
    // claim of a process that has ended lapses; storing the run drops the claim and makes it Done.
    void gridClaimsShareTheGridBetweenProcesses() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("c.sparsescope").toStdString();
        SessionDb::open(path); // created
        int to_child[2], from_child[2];
        QVERIFY(pipe(to_child) == 0 && pipe(from_child) == 0);
        const pid_t child = fork();
        if (child == 0) { // claims "p1", says so, waits for the word to exit
            int code = 0;
            try {
                auto db = SessionDb::open(path);
                code = db->claim_grid_point("p1").state == GridClaim::State::Claimed ? 0 : 2;
            } catch (...) {
                code = 3;
            }
            char c = char(code);
            if (write(from_child[1], &c, 1) != 1) _exit(4);
            if (read(to_child[0], &c, 1) != 1) _exit(5);
            _exit(code);
        }
        char c = 0;
        QCOMPARE(read(from_child[0], &c, 1), ssize_t(1));
        QCOMPARE(int(c), 0);
        auto db = SessionDb::open(path);
        const GridClaim taken = db->claim_grid_point("p1");
        QCOMPARE(taken.state, GridClaim::State::Taken);
        QVERIFY2(taken.holder.find("process " + std::to_string(child)) == 0, taken.holder.c_str());
        QCOMPARE(db->claim_grid_point("p2").state, GridClaim::State::Claimed); // other points are free
        QCOMPARE(write(to_child[1], &c, 1), ssize_t(1));
        int status = 0;
        QCOMPARE(waitpid(child, &status, 0), child);
        QVERIFY(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        QCOMPARE(db->claim_grid_point("p1").state, GridClaim::State::Claimed); // its process has ended
        QCOMPARE(db->grid_claim_count(), int64_t(2));
        RunRecord r = sample_run(0, 0.5);
        r.grid_key = "p1";
        const int64_t id = db->add_run(r);
        QCOMPARE(db->grid_claim_count(), int64_t(1)); // stored with the run
        const GridClaim done = db->claim_grid_point("p1");
        QCOMPARE(done.state, GridClaim::State::Done);
        QCOMPARE(done.holder, "run " + std::to_string(id));
        db->release_grid_claim("p2");
        QCOMPARE(db->grid_claim_count(), int64_t(0));
        for (int fd : {to_child[0], to_child[1], from_child[0], from_child[1]}) close(fd);
    }

    // Two processes creating the same new session at the same moment both get it (one creates it,
    // the other opens the whole file the first one linked into place); never "is empty".
    void creatingOneNewSessionTwiceAtOnceWorks() {
        QTemporaryDir dir;
        for (int round = 0; round < 40; ++round) {
            const std::string path = dir.filePath(QStringLiteral("new%1.sparsescope").arg(round)).toStdString();
            const pid_t child = fork();
            auto open_it = [&] {
                try {
                    auto db = SessionDb::open(path);
                    return db->runs().empty() && db->journal_mode() == "wal" ? 0 : 2;
                } catch (const std::exception& e) {
                    std::fprintf(stderr, "%s\n", e.what());
                    return 3;
                }
            };
            if (child == 0) _exit(open_it());
            const int mine = open_it();
            int status = 0;
            QCOMPARE(waitpid(child, &status, 0), child);
            QCOMPARE(mine, 0);
            QVERIFY(WIFEXITED(status));
            QCOMPARE(WEXITSTATUS(status), 0);
            QCOMPARE(pragma(path, "PRAGMA user_version"), session_schema_version());
        }
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files).filter(QStringLiteral("creating")).size(), 0); // no temporary left behind
    }

    void notebookFieldsRoundTrip() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("n.sparsescope").toStdString();
        RunRecord r = sample_run(0, 0.875);
        r.model_sha256 = std::string(64, 'b');
        r.app_version = "0.1.0";
        r.tags = {"sweep-a", "int8"};
        r.grid_key = "{\"prune\":\"none\"}|model|data|10000";
        r.result.latency_samples_ms = {0.051f, 0.049f, 0.12f};
        r.result.task = EvalTask::LanguageModeling;
        r.result.metrics = {{"perplexity", 12.5}, {"kld_p99", 0.75}, {"undefined", std::nan("")}};
        LayerCost l;
        l.name = "moe";
        l.kind = "moe";
        l.batch1_us = 42.5;
        l.resident_bytes = 123456;
        l.weights = 1000;
        l.zero_weights = 700;
        l.precision = "mixed";
        l.kernels = "17 q8-dot / 17 q8-tiles";
        r.result.layers = {l};
        r.result.expert_stats.resize(2);
        r.result.expert_stats[0].class_expert = {5, 0, 7, 9, 0, 1}; // 3 classes x 2 experts
        r.result.expert_stats[1].class_expert = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        r.result.expert_stats[0].coactivation = {0, 4, 4, 0};
        r.result.expert_stats[1].coactivation = {1, 2}; // not (experts, experts): not stored
        int64_t id = 0;
        {
            auto db = SessionDb::open(path);
            QCOMPARE(db->found_version(), 0);
            QCOMPARE(db->journal_mode(), std::string("wal"));
            id = db->add_run(r);
            QCOMPARE(id, int64_t(1));
            QVERIFY_THROWS_EXCEPTION(Error, db->add_run(r)); // a grid point is stored once
            RunRecord other = r;
            other.grid_key.clear();
            QCOMPARE(db->add_run(other), int64_t(2));
            RunRecord taken = other; // an id another writer has used meanwhile: the next free one
            taken.id = 1;
            QCOMPARE(db->add_run(taken), int64_t(3));
            db->delete_run(3);
            db->set_note(1, "kept");
            db->set_tags(2, {"x"});
            db->set_meta("baseline_run", "2");
            db->delete_run(2);
            QCOMPARE(db->run_count(), int64_t(1));
            QCOMPARE(db->grid_keys(), (std::set<std::string>{r.grid_key}));
        }
        auto db = SessionDb::open(path, SessionAccess::ReadOnly);
        QCOMPARE(db->meta("baseline_run").value_or(""), std::string("2"));
        QVERIFY(!db->meta("missing"));
        QVERIFY_THROWS_EXCEPTION(Error, db->add_run(r));
        const RunRecord b = db->runs().at(0);
        QCOMPARE(b.model_sha256, r.model_sha256);
        QCOMPARE(b.app_version, std::string("0.1.0"));
        QCOMPARE(b.tags, r.tags);
        QCOMPARE(b.grid_key, r.grid_key);
        QCOMPARE(b.note, std::string("kept"));
        QCOMPARE(b.result.latency_samples_ms, r.result.latency_samples_ms);
        QCOMPARE(b.result.layers.size(), size_t(1));
        QCOMPARE(b.result.layers[0].name, std::string("moe"));
        QCOMPARE(b.result.layers[0].batch1_us, 42.5);
        QCOMPARE(b.result.layers[0].resident_bytes, int64_t(123456));
        QCOMPARE(b.result.layers[0].zero_weights, int64_t(700));
        QCOMPARE(b.result.layers[0].precision, std::string("mixed"));
        QCOMPARE(b.result.layers[0].kernels, std::string("17 q8-dot / 17 q8-tiles"));
        QCOMPARE(b.result.expert_stats.size(), size_t(2));
        QCOMPARE(b.result.expert_stats[0].class_expert, (std::vector<int64_t>{5, 0, 7, 9, 0, 1}));
        QCOMPARE(b.result.expert_stats[1].class_expert, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
        QCOMPARE(b.result.expert_stats[0].dead, std::vector<int>{}); // shares 0.25 / 0.75
        QCOMPARE(b.result.expert_stats[0].coactivation, (std::vector<int64_t>{0, 4, 4, 0}));
        QVERIFY(b.result.expert_stats[1].coactivation.empty());
        QCOMPARE(b.result.task, EvalTask::LanguageModeling);
        QCOMPARE(b.result.metrics.size(), size_t(3));
        QCOMPARE(b.result.metrics.at("perplexity"), 12.5);
        QCOMPARE(b.result.metrics.at("kld_p99"), 0.75);
        QVERIFY(std::isnan(b.result.metrics.at("undefined"))); // stored as NULL
        QCOMPARE(db->integrity_check(), std::string("ok"));
    }

    // Hidden and deleted runs: both states round-trip; a deleted run is left out of runs() unless
    // asked for, comes back when restored, and leaves the file only on a purge - with its model,
    // its per-run rows and its bytes.
    void hiddenAndDeletedRunsStayUntilPurged() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("v.sparsescope").toStdString();
        RunRecord a = sample_run(0, 0.875), b = sample_run(0, 0.75), c = sample_run(0, 0.5);
        b.model_name = "purged-model-name";
        b.model_path = "/models/only-in-the-deleted-run";
        b.note = "a note only the deleted run holds";
        a.result.others_cpus = 1.25;
        {
            auto db = SessionDb::open(path);
            QCOMPARE(db->add_run(a), int64_t(1));
            QCOMPARE(db->add_run(b), int64_t(2));
            QCOMPARE(db->add_run(c), int64_t(3));
            db->set_meta("baseline_run", "2");
            db->set_hidden(3, true);
            db->set_deleted(2, true);
            QVERIFY_THROWS_EXCEPTION(Error, db->set_hidden(9, true)); // no run 9
            QVERIFY_THROWS_EXCEPTION(Error, db->set_deleted(9, true));
            QCOMPARE(db->run_count(), int64_t(2));
            QCOMPARE(db->deleted_count(), int64_t(1));
        }
        {
            auto db = SessionDb::open(path, SessionAccess::ReadOnly);
            const auto shown = db->runs();
            QCOMPARE(shown.size(), size_t(2)); // 1 and 3: the deleted run is skipped
            QCOMPARE(shown[0].id, int64_t(1));
            QCOMPARE(shown[0].result.others_cpus, 1.25);
            QVERIFY(!shown[0].hidden);
            QVERIFY(shown[1].hidden);
            const auto all = db->runs(nullptr, DeletedRuns::Include);
            QCOMPARE(all.size(), size_t(3));
            QVERIFY(all[1].deleted());
            QCOMPARE(all[1].deleted_at.size(), size_t(20)); // "2026-11-30T12:00:00Z"
            QCOMPARE(all[1].result.per_class_accuracy.size(), size_t(3)); // its rows are all there
            QCOMPARE(load_session(path).size(), size_t(2));
        }
        {
            auto db = SessionDb::open(path);
            db->set_deleted(2, false); // restored
            QCOMPARE(db->runs().size(), size_t(3));
            db->set_deleted(2, true);
            db->set_hidden(3, false);
            QCOMPARE(db->purge_deleted(), int64_t(1));
            QCOMPARE(db->purge_deleted(), int64_t(0));
            QCOMPARE(db->deleted_count(), int64_t(0));
            QCOMPARE(db->meta("baseline_run").value_or(""), std::string("0")); // the purged baseline: back to dense
            QCOMPARE(db->integrity_check(), std::string("ok"));
            QVERIFY_THROWS_EXCEPTION(Error, db->set_deleted(2, false)); // gone for good
            const auto runs = db->runs(nullptr, DeletedRuns::Include);
            QCOMPARE(runs.size(), size_t(2));
            QVERIFY(!runs[1].hidden);
        }
        QCOMPARE(pragma(path, "SELECT count(*) FROM run_class_accuracy WHERE run_id = 2"), 0);
        QCOMPARE(pragma(path, "SELECT count(*) FROM models WHERE name = 'purged-model-name'"), 0);
        // No copy of the purged run's text is left anywhere in the file or its log.
        for (const char* side : {"", "-wal"}) {
            if (!QFile::exists(QString::fromStdString(path + side))) continue;
            const auto bytes = test_support::read_bytes(path + side);
            const std::string text(bytes.begin(), bytes.end());
            QVERIFY2(text.find("only-in-the-deleted-run") == std::string::npos, side);
            QVERIFY2(text.find("a note only the deleted run holds") == std::string::npos, side);
        }
    }

    // Schema 10: per-class McNemar, flipped samples, reliability bins and corruption accuracies
    // come back as written; ECE and mCE are derived again from what is stored.
    void beyondAccuracyRoundTrips() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("b.sparsescope").toStdString();
        RunRecord r = sample_run(0, 0.8);
        Comparison& c = r.result.comparison;
        c.class_lost = {3, 0, 1};
        c.class_gained = {0, 0, 2};
        c.class_p = {0.25, std::nan(""), 1.0};
        c.class_p_holm = {0.5, std::nan(""), 1.0};
        c.flipped = {{17, 0, 0, 2, 0.9f, 0.1f}, {4, 2, 1, 2, 0.3f, 0.6f}};
        c.calibration = calibration({0.95f, 0.55f, 0.55f, 0.25f}, {1, 1, 0, 0});
        c.dense_calibration = calibration({0.95f, 0.95f, 0.55f, 0.25f}, {1, 0, 1, 0});
        RobustnessOptions o;
        o.corruptions = {Corruption::Contrast, Corruption::Shift};
        o.severities = {2, 4};
        const std::vector<double> dense_acc{0.9, 0.8, 0.7, 0.5};
        r.result.robustness = robustness_from_accuracies(o, 2000, {0.8, 0.6, 0.7, 0.5}, &dense_acc);
        r.result.has_robustness = true;
        r.result.ood.set = "glyphs";
        r.result.ood.msp = ood_separation({0.9f, 0.8f, 0.4f}, {0.5f, 0.1f});
        r.result.ood.energy = ood_separation({3.0f, 2.0f, 1.0f}, {2.5f, 0.5f});
        r.result.ood.dense_msp = ood_separation({0.9f, 0.8f, 0.7f}, {0.5f, 0.1f});
        r.result.ood.dense_energy = r.result.ood.energy;
        r.result.ood.has_dense = true;
        r.result.has_ood = true;
        r.result.slices = slice_regressions(c.flipped, {{"site A", {4, 17, 30}}, {"site B", {1}}});
        {
            auto db = SessionDb::open(path);
            db->add_run(r);
        }
        const RunRecord b = load_session(path).at(0);
        const Comparison& d = b.result.comparison;
        QCOMPARE(d.class_lost, c.class_lost);
        QCOMPARE(d.class_gained, c.class_gained);
        QCOMPARE(d.class_p[0], 0.25);
        QVERIFY(std::isnan(d.class_p[1]));
        QCOMPARE(d.class_p_holm[0], 0.5);
        QCOMPARE(d.flipped.size(), size_t(2));
        QCOMPARE(d.flipped[0].sample, 17); // the stored rank order
        QCOMPARE(d.flipped[1].pred, 2);
        QVERIFY(std::fabs(d.flipped[0].dense_p_true - 0.9f) < 1e-6f);
        QCOMPARE(d.calibration.bins.size(), size_t(15));
        QVERIFY(std::fabs(d.calibration.ece - c.calibration.ece) < 1e-12);
        QVERIFY(std::fabs(d.dense_calibration.ece - c.dense_calibration.ece) < 1e-12);
        QVERIFY(std::fabs(d.calibration.mce - c.calibration.mce) < 1e-12);
        QVERIFY(b.result.has_robustness);
        QCOMPARE(b.result.robustness.cells.size(), size_t(4));
        QCOMPARE(b.result.robustness.cells[3].corruption, Corruption::Shift);
        QCOMPARE(b.result.robustness.cells[1].severity, 4);
        QVERIFY(std::fabs(b.result.robustness.mce - r.result.robustness.mce) < 1e-12);
        QCOMPARE(b.result.robustness.ce.size(), size_t(2));
        QCOMPARE(b.result.robustness.samples, 2000); // of the run's samples, the first 2,000
        // OOD: the figures and the curves the plots draw.
        QVERIFY(b.result.has_ood && b.result.ood.has_dense);
        QCOMPARE(b.result.ood.set, std::string("glyphs"));
        QCOMPARE(b.result.ood.msp.auroc, r.result.ood.msp.auroc);
        QCOMPARE(b.result.ood.dense_msp.auroc, 1.0);
        QCOMPARE(b.result.ood.msp.roc_tpr, r.result.ood.msp.roc_tpr);
        QCOMPARE(b.result.ood.energy.out_hist, r.result.ood.energy.out_hist);
        QCOMPARE(b.result.ood.energy.hist_hi, 3.0);
        QCOMPARE(b.result.slices.size(), size_t(2));
        QCOMPARE(b.result.slices[0].name, std::string("site A"));
        QCOMPARE(b.result.slices[0].lost, 1); // sample 17
        QCOMPARE(b.result.slices[0].gained, 1); // sample 4
        QVERIFY(std::isnan(b.result.slices[1].p));
        // A run without them stays without them.
        RunRecord plain = sample_run(0, 0.5);
        {
            auto db = SessionDb::open(path);
            db->add_run(plain);
        }
        const RunRecord p2 = load_session(path).at(1);
        QVERIFY(!p2.result.has_robustness && p2.result.comparison.flipped.empty() && !p2.result.has_ood);
        QVERIFY(p2.result.comparison.class_lost.empty());
    }

    void unknownTaskIsRefusedByRun() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("t.sparsescope").toStdString();
        SessionDb::open(path)->add_run(sample_run(0, 0.5));
        exec(path, "UPDATE runs SET task = 'segmentation'");
        try {
            SessionDb::open(path, SessionAccess::ReadOnly)->runs();
            QFAIL("an unknown task was read");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find("run 1: task 'segmentation'") != std::string::npos, e.what());
        }
    }

    void refusesNewerDamagedReadOnlyAndLockedFilesUnchanged() {
        QTemporaryDir dir;
        // Newer schema: refused for writing too, and nothing is written (no backup, no WAL).
        const std::string future = dir.filePath("future.sparsescope").toStdString();
        save_session(future, {sample_run(1, 0.9)});
        exec(future, "PRAGMA user_version = 99");
        auto before = test_support::read_bytes(future);
        for (SessionAccess a : {SessionAccess::ReadOnly, SessionAccess::ReadWrite}) {
            try {
                SessionDb::open(future, a);
                QFAIL("opened a session from the future");
            } catch (const Error& e) {
                QVERIFY2(QString(e.what()).contains("newer than this SparseScope"), e.what());
            }
        }
        QCOMPARE(test_support::read_bytes(future), before);
        QVERIFY(!QFile::exists(QString::fromStdString(future + ".v99.bak")));

        // Damaged: a page of the runs table overwritten with garbage.
        const std::string damaged = dir.filePath("damaged.sparsescope").toStdString();
        std::vector<RunRecord> many;
        for (int i = 1; i <= 60; ++i) many.push_back(sample_run(i, 0.5));
        save_session(damaged, many);
        auto bytes = test_support::read_bytes(damaged);
        QVERIFY(bytes.size() > 5 * 4096);
        for (size_t i = 2 * 4096 + 100; i < 3 * 4096; ++i) bytes[i] = uint8_t(i * 7);
        test_support::write_bytes(damaged, bytes);
        for (SessionAccess a : {SessionAccess::ReadOnly, SessionAccess::ReadWrite}) {
            try {
                SessionDb::open(damaged, a)->runs();
                QFAIL("read a damaged session");
            } catch (const Error& e) {
                QVERIFY2(QString(e.what()).contains("damaged") || QString(e.what()).contains("malformed"), e.what());
            }
        }
        QCOMPARE(test_support::read_bytes(damaged), bytes);

        // Truncated to its header: an SQLite header, but not a session any more.
        const std::string cut = dir.filePath("cut.sparsescope").toStdString();
        test_support::write_bytes(cut, std::vector<uint8_t>(bytes.begin(), bytes.begin() + 100));
        const QString cut_err = error_of(cut);
        QVERIFY2(!cut_err.isEmpty(), "a truncated file opened");
        QCOMPARE(test_support::read_bytes(cut).size(), size_t(100));

        // Read-only file: refused for writing with a message that says so; reading works.
        const std::string ro = dir.filePath("ro.sparsescope").toStdString();
        save_session(ro, {sample_run(1, 0.9)});
        QFile::setPermissions(QString::fromStdString(ro), QFile::ReadOwner | QFile::ReadGroup | QFile::ReadOther);
        before = test_support::read_bytes(ro);
        try {
            SessionDb::open(ro, SessionAccess::ReadWrite);
            QFAIL("opened a read-only file for writing");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("read-only"), e.what());
        }
        QCOMPARE(SessionDb::open(ro, SessionAccess::ReadOnly)->runs().size(), size_t(1));
        QCOMPARE(test_support::read_bytes(ro), before);

        // Locked: another program holds a write transaction; adding a run waits, then says so.
        const std::string locked = dir.filePath("locked.sparsescope").toStdString();
        SessionDb::open(locked)->add_run(sample_run(0, 0.9));
        sqlite3* other = nullptr;
        sqlite3_open(locked.c_str(), &other);
        QCOMPARE(sqlite3_exec(other, "BEGIN IMMEDIATE; UPDATE runs SET note = 'other';", nullptr, nullptr, nullptr), SQLITE_OK);
        {
            auto db = SessionDb::open(locked);
            QCOMPARE(db->runs().size(), size_t(1)); // WAL: readers are not blocked
            try {
                db->add_run(sample_run(0, 0.8));
                QFAIL("wrote past another program's lock");
            } catch (const Error& e) {
                QVERIFY2(QString(e.what()).contains("locked by another program"), e.what());
            }
        }
        sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
        sqlite3_close(other);
        QCOMPARE(load_session(locked).size(), size_t(1));
    }

    void hostileValuesAreRefusedOrIgnoredNotTrusted() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("h.sparsescope").toStdString();
        RunRecord r = sample_run(1, 0.9);
        r.result.expert_stats.resize(2);
        r.result.expert_stats[0].class_expert = {1, 2, 3, 4, 5, 6};
        save_session(path, {r});
        // Counts whose stated size does not match the stored bytes (or overflows): ignored.
        exec(path, "UPDATE run_class_expert SET classes = 1099511627776, experts = 1099511627776");
        QVERIFY(load_session(path)[0].result.expert_stats[0].class_expert.empty());
        // A layer index far out of range: refused by name before anything is allocated for it.
        exec(path, "UPDATE run_expert_share SET layer_index = 1000000000 WHERE layer_index = 1");
        QString err = error_of(path);
        QVERIFY2(err.contains("run 1: run_expert_share layer_index 1000000000") && err.contains("without gaps"), qPrintable(err));
        exec(path, "UPDATE run_expert_share SET layer_index = -1 WHERE layer_index = 1000000000");
        QVERIFY2(error_of(path).contains("layer_index -1"), qPrintable(error_of(path)));
        // A plan that is not JSON: refused, naming the run and the column.
        save_session(path, {r});
        exec(path, "UPDATE runs SET plan_json = '{not json'");
        err = error_of(path);
        QVERIFY2(err.contains("run 1 plan_json") && err.contains("not valid JSON"), qPrintable(err));
    }

    void damagedRunsAreSkippedAndNamed() {
        // One bad row must not make every command fail (issue 13): asked to, runs() leaves the
        // damaged runs out and names them; an oversized latency blob is not loaded at all.
        QTemporaryDir dir;
        const std::string path = dir.filePath("d.sparsescope").toStdString();
        {
            auto db = SessionDb::open(path);
            for (int i = 0; i < 4; ++i) db->add_run(sample_run(0, 0.5 + 0.1 * i));
        }
        exec(path, "UPDATE runs SET plan_json = '{not json' WHERE id = 2");
        exec(path, "UPDATE run_expert_share SET layer_index = 7 WHERE run_id = 3 AND layer_index = 1");
        exec(path, "UPDATE runs SET latency_samples = zeroblob(8000000) WHERE id = 4");
        auto db = SessionDb::open(path, SessionAccess::ReadOnly);
        QVERIFY(error_of(path).contains("run 2 plan_json")); // strict by default
        std::vector<std::string> damaged;
        const auto runs = db->runs(&damaged);
        QCOMPARE(runs.size(), size_t(2));
        QCOMPARE(runs[0].id, int64_t(1));
        QCOMPARE(runs[1].id, int64_t(4));
        QVERIFY(runs[1].result.latency_samples_ms.empty());
        QCOMPARE(runs[1].result.latency_p50_ms, sample_run(0, 0.8).result.latency_p50_ms);
        QCOMPARE(damaged.size(), size_t(2));
        QVERIFY2(damaged[0].find("run 2 plan_json") != std::string::npos, damaged[0].c_str());
        QVERIFY2(damaged[1].find("run 3: run_expert_share layer_index 7") != std::string::npos, damaged[1].c_str());
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
