// test_sweep_cli.cpp - sweeps and sessions through the real sparsescope-cli in child processes: a
// sweep killed with SIGKILL keeps every finished run in a sound file and resumes; shards merge into
// what one unsharded sweep gives; two sweeps into one session share its grid; the sessions
// commands read without modifying.
#include "formats/model_io.h"
#include "session/session_db.h"
#include "test_support.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <cmath>
#include <csignal>
#include <map>
#include <set>

using namespace ss;

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPARSESCOPE_ASAN 1 // clang's spelling of GCC's __SANITIZE_ADDRESS__
#endif
#endif

namespace {
const QString kCli = QStringLiteral(SPARSESCOPE_CLI);
const QString kModel = QStringLiteral(SPARSESCOPE_RESOURCE_DIR "/models/fashion-moe");

struct Result {
    int code = -1;
    QString out, err;
};

Result cli(const QStringList& args, int timeout_ms = 120000) {
    QProcess p;
    p.start(kCli, args);
    Result r;
    if (!p.waitForFinished(timeout_ms)) {
        p.kill();
        p.waitForFinished();
        r.err = QStringLiteral("timed out");
        return r;
    }
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

QStringList sweep_args(const QString& session, const QString& sparsities, const QString& quants, int limit) {
    return {QStringLiteral("sweep"), kModel, QStringLiteral("--session"), session, QStringLiteral("--sparsity"), sparsities,
            QStringLiteral("--quant"), quants, QStringLiteral("--limit"), QString::number(limit), QStringLiteral("--latency-samples"),
            QStringLiteral("20")};
}

std::map<std::string, RunRecord> by_grid_key(const std::string& path) {
    std::map<std::string, RunRecord> m;
    for (auto& r : SessionDb::open(path, SessionAccess::ReadOnly)->runs()) m.emplace(r.grid_key, std::move(r));
    return m;
}
} // namespace

class TestSweepCli : public QObject {
    Q_OBJECT
private slots:
    void killNineMidSweepLosesOnlyTheRunInProgress() {
        QTemporaryDir dir;
        const QString session = dir.filePath(QStringLiteral("s.sparsescope"));
        const std::string path = session.toStdString();
        const QStringList args = sweep_args(session, QStringLiteral("0,0.3,0.5,0.7,0.8,0.9"), QStringLiteral("none,int8"), 2000);
        QProcess p;
        p.start(kCli, args);
        QVERIFY(p.waitForStarted());
        // Wait for two committed runs (read while the sweep writes: WAL readers do not block it),
        // then kill -9 in the middle of the third.
        int64_t seen = 0;
        QElapsedTimer clock;
        clock.start();
        while (seen < 2 && clock.elapsed() < 60000 && p.state() == QProcess::Running) {
            QTest::qWait(15);
            if (!QFile::exists(session)) continue;
            try {
                seen = SessionDb::open(path, SessionAccess::ReadOnly)->run_count();
            } catch (const Error&) { // created but its first migration not yet committed
            }
        }
        QVERIFY2(p.state() == QProcess::Running, "the sweep finished before it could be killed; make the grid larger");
        ::kill(pid_t(p.processId()), SIGKILL);
        QVERIFY(p.waitForFinished(10000));
        QCOMPARE(p.exitStatus(), QProcess::CrashExit);

        std::vector<RunRecord> kept;
        {
            auto db = SessionDb::open(path, SessionAccess::ReadOnly);
            QCOMPARE(db->integrity_check(), std::string("ok"));
            kept = db->runs();
        }
        QVERIFY2(kept.size() >= 2 && kept.size() < 12, qPrintable(QString::number(kept.size())));
        for (const RunRecord& r : kept) { // every kept run is whole
            QCOMPARE(r.result.per_class_accuracy.size(), size_t(10));
            QCOMPARE(r.result.samples, 2000);
            QVERIFY(!r.result.layers.empty());
            QCOMPARE(r.result.latency_samples_ms.size(), size_t(20));
            QCOMPARE(r.result.expert_share.size(), size_t(1));
            QVERIFY(!r.grid_key.empty());
        }

        // The rerun skips what was kept and finishes the grid.
        const Result again = cli(args);
        QVERIFY2(again.code == 0, qPrintable(again.err));
        QVERIFY2(again.err.contains(QStringLiteral("%1 already in").arg(kept.size())), qPrintable(again.err));
        auto db = SessionDb::open(path, SessionAccess::ReadWrite);
        QCOMPARE(db->integrity_check(), std::string("ok"));
        QCOMPARE(db->journal_mode(), std::string("wal"));
        const auto all = db->runs();
        QCOMPARE(all.size(), size_t(12));
        std::set<std::string> keys;
        for (const auto& r : all) keys.insert(r.grid_key);
        QCOMPARE(keys.size(), size_t(12));
        for (size_t i = 0; i < kept.size(); ++i) QCOMPARE(all[i].created_at, kept[i].created_at); // untouched
    }

    // Two sweeps started at once into one new session share the grid: every point is run once.
    void twoSweepsIntoOneSessionShareTheGrid() {
        QTemporaryDir dir;
        const QString session = dir.filePath(QStringLiteral("shared.sparsescope"));
        const QStringList args = sweep_args(session, QStringLiteral("0,0.3,0.5,0.7"), QStringLiteral("none,int8"), 1000);
        QProcess a, b;
        a.start(kCli, args);
        b.start(kCli, args);
        QVERIFY(a.waitForFinished(180000) && b.waitForFinished(180000));
        const QString ea = QString::fromUtf8(a.readAllStandardError()), eb = QString::fromUtf8(b.readAllStandardError());
        QVERIFY2(a.exitCode() == 0 && b.exitCode() == 0, qPrintable(ea + eb));
        const QRegularExpression points(QStringLiteral("sweep: (\\d+) grid points"));
        const int total = points.match(ea).captured(1).toInt();
        QVERIFY2(total == 8, qPrintable(ea)); // 4 sparsities x 2 quantizations
        auto db = SessionDb::open(session.toStdString(), SessionAccess::ReadOnly);
        const auto runs = db->runs();
        std::set<std::string> keys;
        for (const auto& r : runs) keys.insert(r.grid_key);
        QCOMPARE(runs.size(), size_t(total));
        QCOMPARE(keys.size(), size_t(total));
        QCOMPARE(db->grid_claim_count(), int64_t(0));
    }

    // The same for a language model: on a cache hit the BF16 demo is loaded deferred, quantized
    // matrix by matrix from the mapping and never held dense; the comparison is the one measured
    // side by side (KL from 16-bit log-probabilities: equal to the printed digits here).
    void languageModelEvalWithCachedBaselinePeaksBelowDense() {
        QTemporaryDir dir;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("XDG_CACHE_HOME"), dir.filePath(QStringLiteral("cache")));
        const QString demo = QStringLiteral(SPARSESCOPE_RESOURCE_DIR "/models/kjv-moe");
        auto run = [&](bool cached) {
            QProcess p;
            p.setProcessEnvironment(env);
            QStringList args{QStringLiteral("eval"), demo, QStringLiteral("--data"), demo + QStringLiteral("/kjv-heldout.txt"), QStringLiteral("--quant"),
                             QStringLiteral("int4:g32"), QStringLiteral("--ctx"), QStringLiteral("128"), QStringLiteral("--chunks"), QStringLiteral("4"),
                             QStringLiteral("--gen-tokens"), QStringLiteral("8")};
            if (cached) args << QStringLiteral("--cached-baseline");
            p.start(kCli, args);
            p.waitForFinished(120000);
            const QString out = QString::fromUtf8(p.readAllStandardOutput()) + QString::fromUtf8(p.readAllStandardError());
            if (p.exitCode() != 0) qWarning("%s", qPrintable(out));
            return out;
        };
        auto match = [](const QString& out, const QString& re) { return QRegularExpression(re, QRegularExpression::MultilineOption).match(out).captured(1); };
        const QString side = run(false), first = run(true), second = run(true);
        QVERIFY2(first.contains(QStringLiteral("dense baseline measured now and cached")), qPrintable(first));
        QVERIFY2(second.contains(QStringLiteral("the dense model was not run or held")), qPrintable(second));
        for (const QString& re : {QStringLiteral("^(perplexity .*)$"), QStringLiteral("^vs dense +(perplexity [0-9.]+ \\(ratio [0-9.]+\\))"),
                                  QStringLiteral("KL mean ([0-9.]+)"), QStringLiteral("(same top token [0-9.]+ %)")}) {
            QVERIFY2(!match(side, re).isEmpty(), qPrintable(re));
            QCOMPARE(match(second, re), match(side, re));
            QCOMPARE(match(first, re), match(side, re));
        }
        const qint64 side_peak = match(side, QStringLiteral("peak resident (\\d+) bytes")).toLongLong();
        const qint64 cached_peak = match(second, QStringLiteral("peak resident (\\d+) bytes")).toLongLong();
        qInfo("peak resident: int4:g32 beside the dense model %lld bytes, with the cached baseline %lld bytes", side_peak, cached_peak);
#if defined(__SANITIZE_ADDRESS__) || defined(SPARSESCOPE_ASAN)
        qInfo("built with AddressSanitizer: the peak comparison is left to the plain build");
#else
        // The dense fp32 demo alone is 36 MB (twice its BF16 file).
        QVERIFY2(cached_peak + 25000000 < side_peak, qPrintable(QStringLiteral("%1 vs %2").arg(cached_peak).arg(side_peak)));
#endif
    }

    // eval --cached-baseline: once the dense baseline is cached, a compressed evaluation neither
    // runs nor keeps the dense model, and its peak resident memory falls below the dense
    // evaluation's (a 784-3072-3072-10 MLP, 47.5 MB of F32: large enough to show it).
    void compressedEvalWithCachedBaselinePeaksBelowDense() {
        QTemporaryDir dir;
        Model m;
        m.name = "wide";
        m.input.shape = {28, 28};
        m.input.scale = 1.0 / 255.0;
        for (int c = 0; c < 10; ++c) m.labels.push_back(std::to_string(c));
        const int dims[] = {784, 3072, 3072, 10};
        uint32_t state = 12345;
        for (int i = 0; i < 3; ++i) {
            LinearWeights l = make_linear("fc" + std::to_string(i), dims[i], dims[i + 1], true);
            std::vector<float> w(size_t(dims[i]) * dims[i + 1]);
            for (float& v : w) { // uniform in +-sqrt(3 / in): unit variance through each layer
                state = state * 1664525u + 1013904223u;
                v = (float(state >> 8) / float(1 << 24) * 2.0f - 1.0f) * std::sqrt(3.0f / float(dims[i]));
            }
            l.weight = WeightData(std::move(w));
            l.bias = WeightData(std::vector<float>(size_t(dims[i + 1]), 0.0f));
            m.layers.emplace_back(std::move(l));
            if (i < 2) m.layers.emplace_back(ActivationLayer{});
        }
        const QString model = dir.filePath(QStringLiteral("wide"));
        save_model_dir(m, model.toStdString());
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("XDG_CACHE_HOME"), dir.filePath(QStringLiteral("cache")));
        auto run = [&](const QStringList& extra) {
            QProcess p;
            p.setProcessEnvironment(env);
            p.start(kCli, QStringList{QStringLiteral("eval"), model, QStringLiteral("--limit"), QStringLiteral("300")} + extra);
            p.waitForFinished(120000);
            const QString out = QString::fromUtf8(p.readAllStandardOutput()) + QString::fromUtf8(p.readAllStandardError());
            if (p.exitCode() != 0) qWarning("%s", qPrintable(out));
            return out;
        };
        auto peak = [](const QString& out) {
            return QRegularExpression(QStringLiteral("process peak resident (\\d+) bytes")).match(out).captured(1).toLongLong();
        };
        auto line = [](const QString& out, const QString& key) {
            return QRegularExpression(QStringLiteral("^") + key + QStringLiteral(".*$"), QRegularExpression::MultilineOption).match(out).captured(0);
        };
        const QString dense = run({});
        const QStringList int8 = {QStringLiteral("--quant"), QStringLiteral("int8"), QStringLiteral("--cached-baseline")};
        const QString first = run(int8), second = run(int8);
        QVERIFY2(first.contains(QStringLiteral("dense baseline measured now and cached")), qPrintable(first));
        QVERIFY2(second.contains(QStringLiteral("from the baseline cache")), qPrintable(second));
        // The same comparison with dense, whether the baseline was just measured or read back.
        QCOMPARE(line(second, QStringLiteral("accuracy")), line(first, QStringLiteral("accuracy")));
        QCOMPARE(line(second, QStringLiteral("agreement")), line(first, QStringLiteral("agreement")));
        const qint64 dense_peak = peak(dense), int8_peak = peak(second);
        qInfo("peak resident: dense %lld bytes, int8 with the cached baseline %lld bytes", dense_peak, int8_peak);
        QVERIFY(dense_peak > 47000000);
#if defined(__SANITIZE_ADDRESS__) || defined(SPARSESCOPE_ASAN)
        // AddressSanitizer keeps freed memory in quarantine: resident sizes say nothing there.
        qInfo("built with AddressSanitizer: the peak comparison is left to the plain build");
#else
        QVERIFY2(int8_peak < dense_peak, qPrintable(QStringLiteral("%1 vs %2").arg(int8_peak).arg(dense_peak)));
#endif

        // A damaged cache file is not used: measured again and rewritten.
        const QDir cache(dir.filePath(QStringLiteral("cache/sparsescope/baselines")));
        const QStringList files = cache.entryList(QDir::Files);
        QCOMPARE(files.size(), 1);
        QFile f(cache.filePath(files[0]));
        QVERIFY(f.open(QIODevice::ReadWrite));
        QVERIFY(f.resize(f.size() - 7));
        f.close();
        const QString third = run(int8);
        QVERIFY2(third.contains(QStringLiteral("dense baseline measured now and cached")), qPrintable(third));
        QCOMPARE(line(third, QStringLiteral("accuracy")), line(first, QStringLiteral("accuracy")));
    }

    void shardsMergeIntoTheUnshardedSweep() {
        QTemporaryDir dir;
        const QString sp = QStringLiteral("0,0.5,0.9"), q = QStringLiteral("none,int8,int4:g32");
        const QString whole = dir.filePath(QStringLiteral("whole.db"));
        Result r = cli(sweep_args(whole, sp, q, 500));
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QStringList shards;
        for (int i = 0; i < 3; ++i) {
            shards << dir.filePath(QStringLiteral("shard%1.db").arg(i));
            r = cli(sweep_args(shards.back(), sp, q, 500) << QStringLiteral("--shard") << QStringLiteral("%1/3").arg(i));
            QVERIFY2(r.code == 0, qPrintable(r.err));
            QVERIFY2(r.err.contains(QStringLiteral("shard %1/3 takes 3").arg(i)), qPrintable(r.err));
        }
        std::vector<std::vector<uint8_t>> before;
        for (const QString& sh : shards) before.push_back(test_support::read_bytes(sh.toStdString()));
        const QString merged = dir.filePath(QStringLiteral("merged.db"));
        r = cli(QStringList{QStringLiteral("sessions"), QStringLiteral("merge"), merged} + shards);
        QVERIFY2(r.code == 0, qPrintable(r.err));
        for (int i = 0; i < 3; ++i) QCOMPARE(test_support::read_bytes(shards[i].toStdString()), before[size_t(i)]); // inputs are only read

        const auto a = by_grid_key(whole.toStdString()), b = by_grid_key(merged.toStdString());
        QCOMPARE(a.size(), size_t(9));
        QCOMPARE(b.size(), a.size());
        for (const auto& [key, ra] : a) {
            QVERIFY2(b.count(key), key.c_str());
            const RunRecord& rb = b.at(key);
            QCOMPARE(rb.plan.to_json(), ra.plan.to_json());
            QCOMPARE(rb.result.accuracy, ra.result.accuracy); // the kernels are deterministic
            QCOMPARE(rb.result.per_class_accuracy, ra.result.per_class_accuracy);
            QCOMPARE(rb.result.sparsity, ra.result.sparsity);
            QCOMPARE(rb.result.comparison.agreement, ra.result.comparison.agreement);
            QCOMPARE(rb.model_sha256, ra.model_sha256);
        }
        // Merging again adds nothing; the ids run 1..9.
        r = cli(QStringList{QStringLiteral("sessions"), QStringLiteral("merge"), merged} + shards);
        QVERIFY2(r.code == 0 && r.err.contains(QStringLiteral("now holds 9 runs")), qPrintable(r.err));
        for (int i = 0; i < 3; ++i) QCOMPARE(test_support::read_bytes(shards[i].toStdString()), before[size_t(i)]);
        const auto runs = SessionDb::open(merged.toStdString(), SessionAccess::ReadOnly)->runs();
        for (size_t i = 0; i < runs.size(); ++i) QCOMPARE(runs[i].id, int64_t(i + 1));
    }

    void sessionsCommandsReadWithoutWriting() {
        QTemporaryDir dir;
        const QString s = dir.filePath(QStringLiteral("s.db")), t = dir.filePath(QStringLiteral("t.db"));
        QCOMPARE(cli(sweep_args(s, QStringLiteral("0,0.7"), QStringLiteral("none"), 300)).code, 0);
        QCOMPARE(cli(sweep_args(t, QStringLiteral("0.7"), QStringLiteral("int8"), 400)).code, 0);
        const auto before = test_support::read_bytes(s.toStdString());

        Result r = cli({QStringLiteral("sessions"), QStringLiteral("list"), s});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out.count(QLatin1Char('\n')), 3); // header + 2 runs
        QVERIFY(r.out.contains(QStringLiteral("magnitude:0.70")));

        r = cli({QStringLiteral("sessions"), QStringLiteral("show"), s, QStringLiteral("--json")});
        QCOMPARE(r.code, 0);
        const auto info = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(info["runs"].get<int>(), 2);
        QCOMPARE(info["schema_version"].get<int>(), session_schema_version());

        r = cli({QStringLiteral("sessions"), QStringLiteral("export"), s});
        const auto runs = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(runs.size(), size_t(2));
        QCOMPARE(runs[1]["plan"]["prune"].get<std::string>(), std::string("magnitude:0.70"));
        QCOMPARE(runs[1]["latency_ms"]["samples"].size(), size_t(20));
        r = cli({QStringLiteral("sessions"), QStringLiteral("export"), s, QStringLiteral("--format"), QStringLiteral("csv")});
        QCOMPARE(r.out.count(QLatin1Char('\n')), 3);
        QVERIFY(r.out.startsWith(QStringLiteral("run,created_at,task,model,")));
        QVERIFY(r.out.contains(QStringLiteral(",classification,fashion-moe,")));

        // The model card of a run, with the model's class names.
        r = cli({QStringLiteral("sessions"), QStringLiteral("card"), s, QStringLiteral("2"), QStringLiteral("--model"), kModel});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY(r.out.startsWith(QStringLiteral("---\nlibrary_name: sparsescope\n")));
        QVERIFY(r.out.contains(QStringLiteral("\n---\n\n# Model card: fashion-moe, prune magnitude:0.70, quant none")));
        QVERIFY(r.out.contains(QStringLiteral("    - type: accuracy\n      value: ")));
        QVERIFY(r.out.contains(QStringLiteral("| Ankle boot | ")));
        QVERIFY(r.out.contains(QStringLiteral("300 samples")));
        // Per-layer times and the run's latency are different figures, each named as what it is.
        QVERIFY(r.out.contains(QStringLiteral("| Batch-1 time (mean) |")));
        QVERIFY(r.out.contains(QStringLiteral("The batch-1 latency above is the median (p50) of whole forwards")));

        // A diff across sessions: the plan and sample counts differ, and it says so.
        r = cli({QStringLiteral("sessions"), QStringLiteral("diff"), s + QStringLiteral(":2"), t + QStringLiteral(":1"), QStringLiteral("--json")});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const auto d = nlohmann::json::parse(r.out.toStdString());
        bool quant_differs = false, samples_warned = false;
        for (const auto& row : d["rows"])
            if (row["field"] == "quant") quant_differs = row["differs"].get<bool>() && row["b"] == "int8";
        for (const auto& w : d["warnings"]) samples_warned |= w.get<std::string>().find("numbers of samples") != std::string::npos;
        QVERIFY(quant_differs);
        QVERIFY(samples_warned);

        // Mistakes are named; a run that is not there too.
        r = cli({QStringLiteral("sessions"), QStringLiteral("diff"), s, QStringLiteral("1"), QStringLiteral("9")});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains(QStringLiteral("has no run 9")), qPrintable(r.err));
        r = cli({QStringLiteral("sessions"), QStringLiteral("list"), dir.filePath(QStringLiteral("missing.db"))});
        QCOMPARE(r.code, 1);
        QVERIFY(r.err.contains(QStringLiteral("no such file")));
        r = cli(sweep_args(s, QStringLiteral("0"), QStringLiteral("none"), 300) << QStringLiteral("--shard") << QStringLiteral("3/3"));
        QCOMPARE(r.code, 2);
        QVERIFY(r.err.contains(QStringLiteral("must be below N")));
        QCOMPARE(test_support::read_bytes(s.toStdString()), before);
        QVERIFY(!QFile::exists(s + QStringLiteral("-wal")));
    }
};

QTEST_GUILESS_MAIN(TestSweepCli)
#include "test_sweep_cli.moc"
