// test_gui.cpp - the main window: evaluate off the GUI thread, plot, table, session, export.
#include "accuracy_latency_plot.h"
#include "app_settings.h"
#include "compression_panel.h"
#include "evaluation_runner.h"
#include "expert_share_chart.h"
#include "input_panel.h"
#include "formats/model_io.h"
#include "class_delta_chart.h"
#include "class_expert_heatmap.h"
#include "layer_cost_chart.h"
#include "metric_plot.h"
#include "main_window.h"
#include "eval/run_delta.h"
#include "layer_tree.h"
#include "run_list_model.h"
#include "run_diff_dialog.h"
#include "session/session_store.h"
#include "session/session_db.h"
#include "sweep_dialog.h"
#include "recovery_dialog.h"
#include "eval/run_evaluation.h"
#include "override_dialog.h"
#include "compress/compression.h"
#include "test_support.h"

#include <qcustomplot.h>

#include <QAbstractItemModelTester>
#include <QFile>
#include <QSettings>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QGuiApplication>
#include <QTemporaryDir>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QStatusBar>
#include <QLabel>
#include <QTableView>
#include <QToolTip>
#include <QTreeWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QStandardPaths>
#include <QtTest>
#include "formats/model_config.h"
#include <QListWidget>
#include "dataset_card_dialog.h"
#include "flipped_gallery.h"
#include "ood_chart.h"
#include "reliability_diagram.h"
#include "robustness_chart.h"

using namespace ssui;

namespace {
std::shared_ptr<const ss::Dataset> synthetic_dataset(int n) {
    auto d = std::make_shared<ss::Dataset>();
    d->source_path = "synthetic";
    d->sha256 = std::string(64, 'a');
    d->count = n;
    d->features = 4;
    d->num_classes = 2;
    for (int i = 0; i < n * 4; ++i) d->raw.push_back(float((i * 37) % 11) - 5.0f);
    for (int i = 0; i < n; ++i) d->labels.push_back(i % 2);
    return d;
}

// An IDX split of n 2 x 2 "images" (the tiny model's 4 inputs) in dir: PREFIX-images-idx3-ubyte, PREFIX-labels-idx1-ubyte.
void write_idx_split(const QString& dir, const QString& prefix, int n) {
    auto be32 = [](std::vector<uint8_t>& b, uint32_t v) {
        for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(v >> s));
    };
    std::vector<uint8_t> images, labels;
    be32(images, 0x803);
    be32(images, uint32_t(n));
    be32(images, 2);
    be32(images, 2);
    be32(labels, 0x801);
    be32(labels, uint32_t(n));
    for (int i = 0; i < n; ++i) {
        const int label = (i * 7 + i / 3) % 2;
        for (int k = 0; k < 4; ++k) images.push_back(uint8_t((label ? 40 : 0) + ((i * 31 + k * 17) % 200)));
        labels.push_back(uint8_t(label));
    }
    test_support::write_bytes((dir + "/" + prefix + "-images-idx3-ubyte").toStdString(), images);
    test_support::write_bytes((dir + "/" + prefix + "-labels-idx1-ubyte").toStdString(), labels);
}
} // namespace

class TestGui : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        // Settings of this test stay apart from a user's, and start empty.
        QCoreApplication::setOrganizationName(QStringLiteral("SparseScopeTest"));
        QSettings().clear();
        // Untitled autosave sessions go to a test-only data folder, emptied here.
        QStandardPaths::setTestModeEnabled(true);
        QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).removeRecursively();
    }

    void sweepRunsTheGridAndKeepsPartialResults() {
        MainWindow w;
        w.setLatencySamples(5);
        w.setModel(std::make_shared<const ss::Model>(test_support::tiny_moe_model()));
        w.setDataset(synthetic_dataset(64));
        SweepDialog dialog;
        dialog.sparsitiesEdit()->setText(QStringLiteral("0, 0.5"));
        dialog.quantsEdit()->setText(QStringLiteral("none, int8"));
        QString err;
        const auto plans = dialog.plans(&err);
        QCOMPARE(plans.size(), size_t(4));
        dialog.sparsitiesEdit()->setText(QStringLiteral("0, 2"));
        QVERIFY(dialog.plans(&err).empty());
        QVERIFY(err.contains("[0, 1)"));

        QSignalSpy finished(w.runner(), &EvaluationRunner::finished);
        QVERIFY2(w.runSweep(plans, &err), qPrintable(err));
        QVERIFY(w.sweepRunning());
        QVERIFY(!w.runSweep(plans, &err)); // one sweep at a time
        QTRY_VERIFY_WITH_TIMEOUT(!w.sweepRunning(), 30000);
        QCOMPARE(w.runs()->rowCount(), 4);
        QCOMPARE(w.runs()->run(3).plan.prune.label(), std::string("magnitude:0.50"));
        QCOMPARE(w.runs()->run(3).plan.quant.label(), std::string("int8"));
        // Canceled after its first run: that run is kept, the rest are not started.
        QVERIFY(w.runSweep(plans, &err));
        QVERIFY(finished.wait(20000));
        w.runner()->cancel();
        QTRY_VERIFY_WITH_TIMEOUT(!w.sweepRunning(), 20000);
        QVERIFY(w.runs()->rowCount() >= 5 && w.runs()->rowCount() < 8);
    }

    void recoverAccuracyAddsTheRecoveredRunBesideItsOneShotRun() {
        QTemporaryDir dir;
        write_idx_split(dir.path(), QStringLiteral("train"), 256);
        write_idx_split(dir.path(), QStringLiteral("t10k"), 64);
        MainWindow w;
        w.setLatencySamples(5);
        auto model = std::make_shared<const ss::Model>(test_support::tiny_moe_model(3));
        w.setModel(model);
        QString err;
        QVERIFY2(w.loadDataset(dir.path(), &err), qPrintable(err));
        // Nothing selected, the dense model, or a language-model-free error: clear refusals.
        QVERIFY(!w.recoverAccuracy(0, &err));
        QVERIFY(err.contains("Select the run"));
        ss::RunRequest req;
        ss::Model dense = *model;
        req.dense = &dense;
        const ss::Dataset test = ss::load_dataset(dir.path().toStdString());
        req.data = &test;
        req.options.latency_samples = 5;
        req.options.latency_warmup = 1;
        w.runs()->addRun(ss::run_evaluation(req)); // the dense run
        QVERIFY(!w.recoverAccuracy(0, &err));
        QVERIFY(err.contains("nothing to recover"));
        req.plan = ss::plan_from_flags("magnitude:0.6", "int8", 0);
        w.runs()->addRun(ss::run_evaluation(req)); // the one-shot run
        RecoveryDialog* dialog = w.recoverAccuracy(1, &err);
        QVERIFY2(dialog, qPrintable(err));
        QVERIFY(dialog->isVisible());
        QVERIFY(dialog->gradualBox()->isEnabled()); // magnitude has a sparsity to reach
        QVERIFY(!dialog->saveButton()->isEnabled());
        dialog->epochsBox()->setValue(2);
        dialog->learningRateBox()->setValue(0.01);
        dialog->distillBox()->setChecked(true);
        QSignalSpy recovered(dialog, &RecoveryDialog::recovered);
        QSignalSpy epochs(dialog, &RecoveryDialog::epochDone);
        dialog->startButton()->click();
        QVERIFY(dialog->isRunning());
        QCOMPARE(dialog->startButton()->text(), QStringLiteral("Cancel"));
        QTRY_COMPARE_WITH_TIMEOUT(recovered.count(), 1, 60000);
        QCOMPARE(epochs.count(), 3); // the start and two epochs, drawn as they came
        QCOMPARE(dialog->curvePlot()->graph(0)->dataCount(), 3);
        QCOMPARE(dialog->curvePlot()->graph(1)->dataCount(), 2); // no loss before the first step
        QVERIFY(dialog->saveButton()->isEnabled());
        QVERIFY(dialog->gradualBox()->isEnabled()); // usable again for the next try
        QCOMPARE(dialog->startButton()->text(), QStringLiteral("Start"));
        QCOMPARE(w.runs()->rowCount(), 3);
        const ss::RunRecord& r = w.runs()->run(2);
        QVERIFY(r.recovery.present());
        QVERIFY(QString::fromStdString(r.recovery.method).contains("distilled T=2"));
        QCOMPARE(r.recovery.curve.size(), size_t(3));
        QCOMPARE(r.plan.to_json(), req.plan.to_json());
        QCOMPARE(r.tags, std::vector<std::string>{"recovered"});
        QVERIFY(std::fabs(r.result.sparsity - 0.6) < 0.05);
        QVERIFY(r.result.has_comparison);
        QCOMPARE(w.accuracyPlot()->recoveryArrowCount(), 1); // one-shot -> recovered
        QCOMPARE(w.runs()->data(w.runs()->index(2, RunListModel::Prune)).toString(), QStringLiteral("magnitude:0.60, fine-tuned"));
        QCOMPARE(w.runs()->data(w.runs()->index(1, RunListModel::Prune)).toString(), QStringLiteral("magnitude:0.60"));
        QVERIFY(AccuracyLatencyPlot::describe(r).contains("recovered by fine-tuning"));
        // The recovered run's weights are the dialog's to save, not the session's.
        QVERIFY(!w.exportRunModel(2, dir.filePath("x.safetensors"), &err));
        QVERIFY(err.contains("fine-tuned"));
        QVERIFY(!w.recoverAccuracy(2, &err));
        QVERIFY(err.contains("already a recovered run"));
        const QString saved = dir.filePath("recovered.safetensors");
        QVERIFY2(dialog->saveModel(saved, &err), qPrintable(err));
        const ss::Model back = ss::load_model(saved.toStdString());
        QCOMPARE(back.layers.size(), model->layers.size());
        dialog->close();
    }

    void paretoFrontKeepsOnlyUndominatedRuns() {
        std::vector<ss::RunRecord> runs(5);
        const double lat[] = {1.0, 2.0, 3.0, 0.5, 2.0}, acc[] = {0.8, 0.9, 0.85, 0.5, 0.95};
        for (int i = 0; i < 5; ++i) {
            runs[size_t(i)].result.latency_p50_ms = lat[i];
            runs[size_t(i)].result.accuracy = acc[i];
        }
        // By latency: 0.5/0.50 (row 3), 1/0.80 (row 0), then at 2 ms the more accurate 0.95 (row 4);
        // 2/0.90 and 3/0.85 are beaten by a run that is no slower and more accurate.
        QCOMPARE(AccuracyLatencyPlot::paretoFront(runs), (std::vector<int>{3, 0, 4}));
    }

    void liveModeReplacesItsRow() {
        MainWindow w;
        w.setLatencySamples(5);
        w.setModel(std::make_shared<const ss::Model>(test_support::tiny_moe_model()));
        w.setDataset(synthetic_dataset(64));
        QSignalSpy live(&w, &MainWindow::liveUpdated);
        w.compressionPanel()->liveCheck()->setChecked(true);
        w.compressionPanel()->sparsitySlider()->setValue(30);
        QVERIFY(live.wait(20000));
        QCOMPARE(w.runs()->rowCount(), 1);
        QCOMPARE(w.liveRow(), 0);
        QVERIFY(w.lastLiveMs() > 0.0);
        // Quick moves: one live row, showing the last setting.
        for (int v : {40, 50, 60}) w.compressionPanel()->sparsitySlider()->setValue(v);
        QVERIFY(live.wait(20000));
        QTRY_COMPARE_WITH_TIMEOUT(w.runs()->run(0).plan.prune.sparsity, 0.6, 20000);
        QCOMPARE(w.runs()->rowCount(), 1);
        // Evaluate turns the preview into a kept run, in its row: one run of these settings, not
        // two (it was the preview and the same evaluation again). The next change starts a new live row.
        QSignalSpy finished(w.runner(), &EvaluationRunner::finished);
        QTest::mouseClick(w.compressionPanel()->evaluateButton(), Qt::LeftButton);
        QVERIFY(finished.wait(20000));
        QCOMPARE(w.runs()->rowCount(), 1);
        QCOMPARE(w.liveRow(), -1);
        QCOMPARE(w.runs()->run(0).plan.prune.sparsity, 0.6);
        QVERIFY(w.session() && w.session()->runs().size() == 1); // saved once
        w.compressionPanel()->sparsitySlider()->setValue(70);
        QVERIFY(live.wait(20000));
        QCOMPARE(w.runs()->rowCount(), 2);
        QCOMPARE(w.liveRow(), 1);
        QVERIFY(w.session()->runs().size() == 1); // a preview is not saved
    }

    // The first screen says what to do until there is a run; Help lists the versions and shortcuts.
    void firstRunHintAndHelp() {
        MainWindow w;
        w.setLatencySamples(5);
        w.setModel(std::make_shared<const ss::Model>(test_support::tiny_moe_model()));
        w.setDataset(synthetic_dataset(64));
        w.show();
        auto* hint = w.findChild<QLabel*>(QStringLiteral("emptyState"));
        QVERIFY(hint);
        QVERIFY(hint->isVisible());
        QVERIFY(hint->text().contains(QStringLiteral("Evaluate</b> (F5)")));
        QSignalSpy finished(w.runner(), &EvaluationRunner::finished);
        w.evaluate();
        QVERIFY(finished.wait(20000));
        QVERIFY(!hint->isVisible());
        const QString about = w.aboutText();
        for (const char* part : {"SparseScope 0.", "OpenBLAS 0.", "SQLite 3.", "Qt 6.", "machine: "})
            QVERIFY2(about.contains(QLatin1String(part)), part);
        const auto keys = w.shortcuts();
        auto has = [&](const QString& action, const QString& key) {
            return std::any_of(keys.begin(), keys.end(), [&](const auto& k) { return k.first == action && k.second == key; });
        };
        QVERIFY(has(QStringLiteral("Run ▸ Evaluate"), QStringLiteral("F5")));
        QVERIFY(has(QStringLiteral("Help ▸ Documentation"), QKeySequence(QKeySequence::HelpContents).toString(QKeySequence::NativeText)));
        QVERIFY(w.findChild<QAction*>(QStringLiteral("helpAbout")));
        // Two runs with one quantization: Quant still shows (hidden, it read as a choice ignored);
        // Top-k, shared by both, hides until the user asks for it.
        w.evaluate();
        QVERIFY(finished.wait(20000));
        QVERIFY(!w.runTable()->isColumnHidden(RunListModel::Quant));
        QVERIFY(w.runTable()->isColumnHidden(RunListModel::TopK));
        w.setColumnShown(RunListModel::TopK, true);
        w.setColumnShown(RunListModel::Agreement, false);
        QVERIFY(!w.runTable()->isColumnHidden(RunListModel::TopK));
        QVERIFY(w.runTable()->isColumnHidden(RunListModel::Agreement));
    }

    void openPathByKind() {
        MainWindow w;
        QString err;
        // A model opens in the background; the window says when it is there.
        QSignalSpy opened(&w, &MainWindow::modelOpened);
        QVERIFY2(w.openPath(QStringLiteral(SPARSESCOPE_RESOURCE_DIR "/models/fashion-moe"), &err), qPrintable(err));
        QVERIFY(w.modelLoading());
        QVERIFY(opened.wait(20000));
        QCOMPARE(opened.first().at(0).toBool(), true);
        QVERIFY(!w.modelLoading());
        QVERIFY(w.compressionPanel()->topKSpin()->isEnabled()); // the MoE demo's controls
        QTemporaryDir dir;
        const QString junk = dir.filePath(QStringLiteral("notes.txt"));
        QFile f(junk);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("hello");
        f.close();
        QVERIFY(!w.openPath(junk, &err)); // not a dataset either: the loader says why
        QVERIFY(!err.isEmpty());
        // By content: a session named like a model opens as a session; binary junk is named as such.
        const QString renamed = dir.filePath(QStringLiteral("weights.safetensors"));
        QVERIFY(QFile::copy(QStringLiteral(SPARSESCOPE_FIXTURES "/session-v7.sparsescope"), renamed));
        QFile::setPermissions(renamed, QFile::ReadOwner | QFile::WriteOwner);
        QVERIFY2(w.openPath(renamed, &err), qPrintable(err));
        QCOMPARE(w.sessionPath(), renamed);
        const QString binary = dir.filePath(QStringLiteral("blob"));
        QFile b(binary);
        QVERIFY(b.open(QIODevice::WriteOnly));
        b.write(QByteArray("\x01\xff\0\x13\x37\x99\0\0\x42", 9));
        b.close();
        QVERIFY(!w.openPath(binary, &err));
        QVERIFY2(err.contains(QStringLiteral("a file of no format SparseScope reads")), qPrintable(err));
        w.copyChart(MainWindow::Chart::AccuracyLatency);
        QVERIFY(!QGuiApplication::clipboard()->pixmap().isNull());
    }

    void overridesBecomeThePlansLayers() {
        const ss::Model m = test_support::tiny_moe_model();
        OverrideDialog dialog(m, {});
        QTableWidget* t = dialog.table();
        int expert_row = -1, stem_row = -1;
        for (int r = 0; r < t->rowCount(); ++r) {
            if (t->item(r, 0)->text() == QStringLiteral("moe.experts.1")) expert_row = r;
            if (t->item(r, 0)->text() == QStringLiteral("stem")) stem_row = r;
        }
        QVERIFY(expert_row >= 0 && stem_row >= 0);
        QCOMPARE(t->rowCount(), 6); // stem, moe, 3 experts, head
        t->item(expert_row, 3)->setText(QStringLiteral("int4:g32"));
        t->item(stem_row, 2)->setText(QStringLiteral("magnitude-layer:0.5"));
        std::map<std::string, ss::LayerOverride> o;
        QString err;
        QVERIFY2(dialog.overrides(&o, &err), qPrintable(err));
        QCOMPARE(o.size(), size_t(2));
        QCOMPARE(o.at("moe.experts.1").quant->label(), std::string("int4:g32"));
        t->item(stem_row, 2)->setText(QStringLiteral("magnitude:0.5")); // global: not per layer
        QVERIFY(!dialog.overrides(&o, &err));
        QVERIFY2(err.contains(QStringLiteral("stem")) && err.contains(QStringLiteral("magnitude-layer")), qPrintable(err));
        t->item(stem_row, 2)->setText(QStringLiteral("int9"));
        t->item(stem_row, 2)->setText(QString());
        t->item(stem_row, 3)->setText(QStringLiteral("int9"));
        QVERIFY(!dialog.overrides(&o, &err));
        QVERIFY(err.contains(QStringLiteral("int9")));
        // In the window, the overrides are part of every evaluated plan.
        MainWindow w;
        w.setLatencySamples(5);
        w.setModel(std::make_shared<const ss::Model>(m));
        w.setDataset(synthetic_dataset(64));
        std::map<std::string, ss::LayerOverride> keep;
        keep["moe.experts.1"].quant = ss::parse_quant_spec("int8");
        w.compressionPanel()->setOverrides(keep);
        QSignalSpy finished(w.runner(), &EvaluationRunner::finished);
        QTest::mouseClick(w.compressionPanel()->evaluateButton(), Qt::LeftButton);
        QVERIFY(finished.wait(20000));
        QCOMPARE(w.runs()->run(0).plan.layers.at("moe.experts.1").quant->label(), std::string("int8"));
        // The Baseline button clears every setting, overrides included, back to the dense model.
        CompressionPanel* p = w.compressionPanel();
        p->pruneMethodCombo()->setCurrentIndex(1);
        p->sparsitySlider()->setValue(70);
        p->quantCombo()->setCurrentIndex(p->quantCombo()->findData(QStringLiteral("int4:g32")));
        p->topKSpin()->setValue(1);
        QVERIFY(!p->plan().is_identity());
        QTest::mouseClick(p->baselineButton(), Qt::LeftButton);
        const ss::CompressionPlan plan = p->plan();
        QVERIFY(plan.prune.method == ss::PruneMethod::None && plan.quant.scheme == ss::QuantScheme::None);
        QVERIFY(plan.layers.empty() && plan.drop_experts == 0);
        QCOMPARE(plan.top_k, 2); // the model's own
    }

    void plotsFollowADarkPalette() {
        MainWindow w;
        QPalette dark;
        dark.setColor(QPalette::Base, QColor(30, 30, 30));
        dark.setColor(QPalette::Text, QColor(230, 230, 230));
        dark.setColor(QPalette::Window, QColor(40, 40, 40));
        dark.setColor(QPalette::WindowText, QColor(230, 230, 230));
        w.setPalette(dark);
        for (auto chart : {MainWindow::Chart::AccuracyLatency, MainWindow::Chart::ClassExpert, MainWindow::Chart::Layers}) {
            QCustomPlot* p = w.chartPlot(chart);
            QCOMPARE(p->axisRect()->backgroundBrush().color(), QColor(30, 30, 30));
            QCOMPARE(p->xAxis->tickLabelColor(), QColor(230, 230, 230));
        }
    }

    void rememberedRecentFiles() {
        using R = AppSettings::Recent;
        for (int i = 0; i < AppSettings::kMaxRecent + 3; ++i) AppSettings::addRecent(R::Model, QStringLiteral("/m%1").arg(i));
        AppSettings::addRecent(R::Model, QStringLiteral("/m5")); // again: moves to the front, no duplicate
        const QStringList models = AppSettings::recent(R::Model);
        QCOMPARE(models.size(), AppSettings::kMaxRecent);
        QCOMPARE(models.front(), QStringLiteral("/m5"));
        QCOMPARE(models.count(QStringLiteral("/m5")), 1);
        QVERIFY(!models.contains(QStringLiteral("/m0")));
        QVERIFY(!AppSettings::recent(R::Session).contains(QStringLiteral("/m5"))); // kinds are kept apart
        // The window restores the detail tab it was closed with.
        {
            MainWindow w;
            w.detailTabs()->setCurrentIndex(2);
            w.close();
        }
        MainWindow again;
        QCOMPARE(again.detailTabs()->currentIndex(), 2);
        again.detailTabs()->setCurrentIndex(0);
        again.close();
    }

    void evaluatesAndShowsRuns() {
        MainWindow w;
        w.setLatencySamples(5);
        new QAbstractItemModelTester(w.runs(), QAbstractItemModelTester::FailureReportingMode::QtTest, &w);
        QVERIFY(!w.compressionPanel()->evaluateButton()->isEnabled()); // nothing loaded yet
        w.setModel(std::make_shared<const ss::Model>(test_support::tiny_moe_model()));
        w.setDataset(synthetic_dataset(64));
        QVERIFY(w.compressionPanel()->evaluateButton()->isEnabled());
        QCOMPARE(w.compressionPanel()->topKSpin()->maximum(), 3);
        QCOMPARE(w.compressionPanel()->topKSpin()->value(), 2);

        QSignalSpy finished(w.runner(), &EvaluationRunner::finished);
        QTest::mouseClick(w.compressionPanel()->evaluateButton(), Qt::LeftButton);
        QVERIFY(finished.wait(20000));
        QCOMPARE(w.runs()->rowCount(), 1);
        QCOMPARE(w.accuracyPlot()->pointCount(), 1);
        QCOMPARE(w.expertChart()->barCount(), 3);

        // Second run: 50 % sparsity, int8, top-1.
        w.compressionPanel()->sparsitySlider()->setValue(50);
        w.compressionPanel()->quantCombo()->setCurrentIndex(w.compressionPanel()->quantCombo()->findData(QStringLiteral("int8")));
        w.compressionPanel()->topKSpin()->setValue(1);
        QTest::mouseClick(w.compressionPanel()->evaluateButton(), Qt::LeftButton);
        QVERIFY(finished.wait(20000));
        QCOMPARE(finished.count(), 2);
        QCOMPARE(w.runs()->rowCount(), 2);
        const ss::RunRecord& r = w.runs()->run(1);
        QCOMPARE(r.plan.quant.label(), std::string("int8"));
        QCOMPARE(r.plan.prune.label(), std::string("magnitude:0.50"));
        QCOMPARE(r.result.top_k, 1);
        QVERIFY(std::fabs(r.result.sparsity - 0.5) < 0.01);
        QCOMPARE(w.runs()->index(1, RunListModel::Quant).data().toString(), QStringLiteral("int8"));
        QCOMPARE(w.accuracyPlot()->pointCount(), 2);
        QCOMPARE(w.runsView()->mapToSource(w.runTable()->currentIndex()).row(), 1);
        // The layer tree: the model's layers, the MoE layer opening to router + 3 experts, and the
        // selected run's sparsity, bits and kernels per layer.
        QTreeWidgetItem* moe_item = w.layerTree()->layerItem(QStringLiteral("moe"));
        QVERIFY(moe_item);
        QCOMPARE(moe_item->childCount(), 4);
        QTreeWidgetItem* stem_item = w.layerTree()->layerItem(QStringLiteral("stem"));
        QVERIFY(stem_item);
        QCOMPARE(stem_item->text(LayerTree::Precision), QStringLiteral("int8"));
        QVERIFY2(stem_item->text(LayerTree::Sparsity).endsWith(QStringLiteral(" %")), qPrintable(stem_item->text(LayerTree::Sparsity)));
        QVERIFY(stem_item->text(LayerTree::Kernels).contains(QStringLiteral(" / ")));
        // The MoE layer's int8 experts and fp32 router ran different kernels: counted. In the dense run
        // one kernel ran every matrix: named without its count (the tooltip keeps "7 sgemv / 7 sgemm").
        QVERIFY2(moe_item->text(LayerTree::Kernels).contains(QRegularExpression(QStringLiteral("^\\d+ q8-dot, \\d+ sgemv / "))),
                 qPrintable(moe_item->text(LayerTree::Kernels)));
        QCOMPARE(w.runs()->run(0).plan.quant.label(), std::string("none")); // fp32, unpruned
        w.layerTree()->setRun(&w.runs()->run(0));
        QCOMPARE(moe_item->text(LayerTree::Kernels), QStringLiteral("sgemv / sgemm"));
        QVERIFY2(moe_item->toolTip(0).contains(QStringLiteral("kernels 7 sgemv / 7 sgemm")), qPrintable(moe_item->toolTip(0))); // 3 experts x 2 + router
        w.layerTree()->setRun(&w.runs()->run(1));
        // The status bar names the selected run's threads and kernel plan.
        QVERIFY2(w.kernelStatus()->text().startsWith(QStringLiteral("Run 2: %1 threads · batch 1: ").arg(r.result.threads)),
                 qPrintable(w.kernelStatus()->text()));
        new QAbstractItemModelTester(w.runsView(), QAbstractItemModelTester::FailureReportingMode::QtTest, &w);
        // Sorting by accuracy and filtering keep the selection on the same run.
        w.runTable()->sortByColumn(RunListModel::Accuracy, Qt::DescendingOrder);
        QCOMPARE(w.runsView()->mapToSource(w.runTable()->currentIndex()).row(), 1);
        QTest::keyClicks(w.runFilter(), QStringLiteral("int8"));
        QCOMPARE(w.runsView()->rowCount(), 1);
        QCOMPARE(w.runsView()->mapToSource(w.runsView()->index(0, 0)).row(), 1);
        w.runFilter()->clear();
        QCOMPARE(w.runsView()->rowCount(), 2);
        // The two runs differ in pruning, quantization and top-k: those columns show; samples do not differ.
        QVERIFY(!w.runTable()->isColumnHidden(RunListModel::Quant));
        QVERIFY(w.runTable()->isColumnHidden(RunListModel::Samples));
        // Selecting both runs compares them: both ringed, per-class bars side by side.
        w.runTable()->selectAll();
        QCOMPARE(w.selectedRuns(), (std::vector<int>{0, 1}));
        QCOMPARE(w.classDeltaChart()->comparedRuns(), 2);
        QCOMPARE(w.layerChart()->stackedRuns(), 2); // batch-1 time per layer, stacked per run
        QCOMPARE(w.layerChart()->stackedSegments(), int(w.runs()->run(0).result.layers.size()));
        w.selectRun(1);
        QCOMPARE(w.layerChart()->stackedRuns(), 0);
        QCOMPARE(w.selectedRuns(), (std::vector<int>{1}));
        QCOMPARE(w.classDeltaChart()->comparedRuns(), 0);
        // Run 1 as the baseline (Edit > Use Run as Baseline on the selected run): the "vs run" column appears, the
        // baseline is marked in the plot and the per-class chart compares with it.
        QVERIFY(w.runTable()->isColumnHidden(RunListModel::VsBaseline));
        w.selectRun(0);
        QAction* as_base = w.findChild<QAction*>(QStringLiteral("useRunAsBaseline"));
        QVERIFY(as_base && as_base->shortcut() == QKeySequence(Qt::CTRL | Qt::Key_B));
        as_base->trigger();
        QCOMPARE(w.runs()->baselineRun(), w.runs()->run(0).id);
        QVERIFY(!w.runTable()->isColumnHidden(RunListModel::VsBaseline));
        QCOMPARE(w.runs()->index(0, RunListModel::VsBaseline).data().toString(), QStringLiteral("baseline"));
        const ss::RunDelta d = ss::run_delta(w.runs()->run(1), w.runs()->run(0));
        QVERIFY(d.via_dense);
        QVERIFY2(w.runs()->index(1, RunListModel::VsBaseline).data().toString().startsWith(
                     QStringLiteral("%1%2, ×").arg(d.accuracy_points >= 0 ? "+" : "").arg(d.accuracy_points, 0, 'f', 2)),
                 qPrintable(w.runs()->index(1, RunListModel::VsBaseline).data().toString()));
        QCOMPARE(w.accuracyPlot()->baselineRun(), 0);
        w.selectRun(1);
        QCOMPARE(w.classDeltaChart()->deltas().size(), d.per_class_points.size());
        for (size_t c = 0; c < d.per_class_points.size(); ++c)
            QVERIFY(std::isnan(d.per_class_points[c]) ? std::isnan(w.classDeltaChart()->deltas()[c])
                                                      : w.classDeltaChart()->deltas()[c] == d.per_class_points[c]);
        w.findChild<QAction*>(QStringLiteral("useDenseAsBaseline"))->trigger(); // back to the dense model
        QVERIFY(w.runTable()->isColumnHidden(RunListModel::VsBaseline));
        QCOMPARE(w.accuracyPlot()->baselineRun(), -1);
        QCOMPARE(w.classDeltaChart()->deltas().front(), 100.0 * w.runs()->run(1).result.comparison.per_class_delta.front());
        // A note typed into the table is kept with the run (and so with the session).
        const QModelIndex note = w.runsView()->index(0, RunListModel::Note);
        QVERIFY(w.runsView()->flags(note) & Qt::ItemIsEditable);
        QVERIFY(w.runsView()->setData(note, QStringLiteral("first try")));
        QCOMPARE(w.runs()->run(w.runsView()->mapToSource(note).row()).note, std::string("first try"));

        // Detail charts of the selected run: each class's row of the class x expert map sums to
        // 100 %; the per-class chart has one bar per class, red beyond the threshold.
        for (int c = 0; c < 2; ++c) {
            double sum = 0.0;
            for (int x = 0; x < 3; ++x) sum += w.classExpertHeatmap()->cell(c, x);
            QVERIFY2(std::fabs(sum - 100.0) < 1e-9, qPrintable(QString::number(sum)));
        }
        QVERIFY(std::isnan(w.classExpertHeatmap()->cell(0, 3)));
        const auto& delta = r.result.comparison.per_class_delta;
        int expected_regressions = 0;
        for (double d : delta) expected_regressions += !std::isnan(d) && 100.0 * d < -1.0;
        QCOMPARE(w.classDeltaChart()->regressionCount(), expected_regressions);
        w.classDeltaChart()->setThreshold(1000.0);
        // One bar pair per top-level layer of the tiny model (stem, act, moe, head), times summing
        // to about the batch-1 latency.
        QCOMPARE(w.layerChart()->layerCount(), int(r.result.layers.size()));
        QCOMPARE(r.result.layers.size(), size_t(4));
        QCOMPARE(r.result.layers[2].kind, std::string("moe"));
        QCOMPARE(w.classDeltaChart()->regressionCount(), 0);
        // Pareto frontier: both runs are on it unless one is at least as slow and at most as
        // accurate as the other.
        const auto& r0 = w.runs()->run(0).result;
        const auto& r1 = r.result;
        const bool one_dominated = (r1.latency_p50_ms >= r0.latency_p50_ms && r1.accuracy <= r0.accuracy) ||
                                   (r0.latency_p50_ms >= r1.latency_p50_ms && r0.accuracy <= r1.accuracy);
        QCOMPARE(w.accuracyPlot()->frontierCount(), one_dominated ? 1 : 2);
        // Hovering a point finds its run; its tooltip names the plan.
        QCustomPlot* ap = w.accuracyPlot()->plot();
        ap->replot();
        const QPointF at(ap->xAxis->coordToPixel(r1.latency_p50_ms), ap->yAxis->coordToPixel(100.0 * r1.accuracy));
        const int hit = w.accuracyPlot()->runAt(at);
        QVERIFY(hit >= 0);
        QVERIFY(AccuracyLatencyPlot::describe(w.runs()->run(hit)).contains(QStringLiteral("Run ")));
        QCOMPARE(w.accuracyPlot()->runAt(QPointF(-1000, -1000)), -1);
        // Hovering a heat-map cell explains it (the text the tooltip shows).
        QCustomPlot* hp = w.classExpertHeatmap()->plot();
        hp->replot();
        const QPointF cell(hp->xAxis->coordToPixel(0), hp->yAxis->coordToPixel(1));
        const QString cell_tip = w.classExpertHeatmap()->describeAt(cell);
        QVERIFY2(cell_tip.contains(QStringLiteral("→ expert 0:")) && cell_tip.contains(QString::number(w.classExpertHeatmap()->cell(1, 0), 'f', 1)),
                 qPrintable(cell_tip));
        QVERIFY(w.classExpertHeatmap()->describeAt(QPointF(-500, -500)).isEmpty());
        // Any metric against any other: accuracy vs sparsity by default, both runs drawn; runs
        // without the metric (here: none lacks agreement) are left out.
        QCOMPARE(w.metricPlot()->pointCount(), 2);
        w.metricPlot()->setAxes(MetricPlot::WeightMB, MetricPlot::Agreement);
        QCOMPARE(w.metricPlot()->pointCount(), 2);
        QCOMPARE(MetricPlot::value(r, MetricPlot::Agreement), 100.0 * r.result.comparison.agreement);
        ss::RunRecord bare = r;
        bare.result.has_comparison = false;
        QVERIFY(std::isnan(MetricPlot::value(bare, MetricPlot::MeanKl)));

        // Session round trip through the window.
        QTemporaryDir dir;
        QString err;
        const QString session = dir.filePath("s.sparsescope");
        QVERIFY2(w.saveSession(session, &err), qPrintable(err));
        MainWindow w2;
        QVERIFY2(w2.openSession(session, &err), qPrintable(err));
        QCOMPARE(w2.runs()->rowCount(), 2);
        QCOMPARE(w2.runs()->run(1).result.accuracy, r.result.accuracy);
        // The kernels and the machine of each run come back with the session and show in its tooltip.
        QCOMPARE(w2.runs()->run(1).result.kernels, r.result.kernels);
        const QString tip = w2.runs()->index(1, RunListModel::Speed).data(Qt::ToolTipRole).toString();
        QVERIFY2(tip.contains(QStringLiteral("kernels: batch 1: ")) && tip.contains(QStringLiteral("machine: ")), qPrintable(tip));
        QCOMPARE(w2.accuracyPlot()->pointCount(), 2);

        // Charts export as PNG and PDF; other suffixes are refused with a message.
        QVERIFY2(w.exportChart(dir.filePath("c.png"), &err), qPrintable(err));
        QVERIFY2(w.exportChart(dir.filePath("c.pdf"), &err), qPrintable(err));
        QVERIFY(QFileInfo(dir.filePath("c.png")).size() > 1000);
        QVERIFY(QFileInfo(dir.filePath("c.pdf")).size() > 1000);
        QVERIFY(!w.exportChart(dir.filePath("c.bmpx"), &err));
        QVERIFY(err.contains("unsupported"));
        // A missing folder is named as the reason, for each format.
        for (const char* name : {"missing/c.png", "missing/c.pdf", "missing/c.svg"}) {
            QVERIFY(!w.exportChart(dir.filePath(name), &err));
            QVERIFY2(err.contains("does not exist") && err.contains(dir.filePath("missing")), qPrintable(err));
        }
        // Every chart as PNG, PDF and SVG.
        using Chart = MainWindow::Chart;
        for (Chart chart : {Chart::AccuracyLatency, Chart::ExpertShare, Chart::ClassExpert, Chart::ClassDelta, Chart::Layers, Chart::Metrics})
            for (const char* suffix : {"png", "pdf", "svg"}) {
                const QString path = dir.filePath(QStringLiteral("chart%1.%2").arg(int(chart)).arg(QLatin1String(suffix)));
                QVERIFY2(w.exportChart(path, &err, chart, 800, 500), qPrintable(err));
                QVERIFY2(QFileInfo(path).size() > 1000, qPrintable(path));
            }
        // The runs table as CSV (numbers a spreadsheet reads: the columns of `sessions export
        // --format csv`, in the table's order) and JSON (every field).
        QVERIFY2(w.exportRuns(dir.filePath(QStringLiteral("runs.csv")), &err), qPrintable(err));
        QFile csv(dir.filePath(QStringLiteral("runs.csv")));
        QVERIFY(csv.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = csv.readAll().split('\n');
        QCOMPARE(lines.size(), 4); // header, 2 runs, final newline
        QVERIFY(lines[0].startsWith("run,created_at,task,model,"));
        QVERIFY(lines[1].contains(",int8,") != lines[2].contains(",int8,")); // one row each, in the table's order
        auto cells = [](const QByteArray& line) { // RFC 4180: commas inside quotes stay in the cell
            QList<QByteArray> out{{}};
            bool quoted = false;
            for (char ch : line) {
                if (ch == '"') quoted = !quoted;
                else if (ch == ',' && !quoted) out.push_back({});
                else out.back() += ch;
            }
            return out;
        };
        const QList<QByteArray> head = cells(lines[0]), row = cells(lines[1]);
        QCOMPARE(row.size(), head.size()); // one cell per column: no interval or unit packed into one
        for (const char* column : {"accuracy", "accuracy_delta_ci_low", "latency_p50_ms", "throughput_sps", "weight_bytes", "sparsity"}) {
            const int at = int(head.indexOf(QByteArray(column)));
            QVERIFY2(at >= 0, column);
            bool number = false;
            row[at].toDouble(&number);
            QVERIFY2(number, qPrintable(QStringLiteral("%1 = '%2' is not a plain number").arg(QLatin1String(column), QString::fromUtf8(row[at]))));
        }
        QVERIFY(!lines[1].contains('%'));
        QVERIFY2(w.exportRuns(dir.filePath(QStringLiteral("runs.json")), &err), qPrintable(err));
        QFile json(dir.filePath(QStringLiteral("runs.json")));
        QVERIFY(json.open(QIODevice::ReadOnly));
        const QJsonDocument doc = QJsonDocument::fromJson(json.readAll());
        QVERIFY(doc.isArray());
        QCOMPARE(doc.array().size(), 2);
        QVERIFY(doc.array()[1].toObject().contains(QStringLiteral("per_class_accuracy")));
        QVERIFY(!w.exportRuns(dir.filePath(QStringLiteral("runs.xls")), &err));
        QFile svg(dir.filePath(QStringLiteral("chart2.svg")));
        QVERIFY(svg.open(QIODevice::ReadOnly));
        QVERIFY(svg.readAll().contains("<svg"));
        QVERIFY(!QImage(dir.filePath(QStringLiteral("chart3.png"))).isNull());
    }

    void sessionsAutosaveCompareAndDiff() {
        QTemporaryDir dir;
        MainWindow w;
        w.setLatencySamples(5);
        w.setModel(std::make_shared<const ss::Model>(test_support::tiny_moe_model()));
        w.setDataset(synthetic_dataset(64));
        QVERIFY(!w.session()); // nothing written before the first run
        QSignalSpy finished(w.runner(), &EvaluationRunner::finished);
        QTest::mouseClick(w.compressionPanel()->evaluateButton(), Qt::LeftButton);
        QVERIFY(finished.wait(20000));
        w.compressionPanel()->quantCombo()->setCurrentIndex(w.compressionPanel()->quantCombo()->findData(QStringLiteral("int8")));
        QTest::mouseClick(w.compressionPanel()->evaluateButton(), Qt::LeftButton);
        QVERIFY(finished.wait(20000));
        // Each run was committed to an untitled session the moment it finished.
        QVERIFY(w.session() && w.sessionIsUntitled());
        const QString untitled = w.sessionPath();
        QCOMPARE(ss::SessionDb::open(untitled.toStdString(), ss::SessionAccess::ReadOnly)->runs().size(), size_t(2));
        QVERIFY(AppSettings::recent(AppSettings::Recent::Session).contains(untitled)); // found again after a crash
        QVERIFY(!w.windowTitle().startsWith(QLatin1Char('*')));
        // A note and the chosen baseline go to the file too.
        QVERIFY(w.runs()->setData(w.runs()->index(1, RunListModel::Note), QStringLiteral("int8 try")));
        w.useRunAsBaseline(0);
        QVERIFY(w.runTable()->isColumnHidden(RunListModel::Tags)); // until a run has tags
        w.runTable()->selectAll();
        QVERIFY(w.tagSelectedRuns(QStringLiteral(" first pass,int8 ,, ")));
        QVERIFY(!w.runTable()->isColumnHidden(RunListModel::Tags));
        QCOMPARE(w.runs()->index(1, RunListModel::Tags).data().toString(), QStringLiteral("first pass, int8"));
        {
            auto db = ss::SessionDb::open(untitled.toStdString(), ss::SessionAccess::ReadOnly);
            QCOMPARE(db->runs()[0].tags, (std::vector<std::string>{"first pass", "int8"}));
            QCOMPARE(db->runs()[1].note, std::string("int8 try"));
            QCOMPARE(db->meta("baseline_run").value_or(""), std::string("1"));
        }
        // Save As moves the session (the untitled file goes); later runs land in the new file.
        const QString saved = dir.filePath(QStringLiteral("mine.sparsescope"));
        QString err;
        QVERIFY2(w.saveSession(saved, &err), qPrintable(err));
        QCOMPARE(QFileInfo(w.sessionPath()).absoluteFilePath(), QFileInfo(saved).absoluteFilePath());
        QVERIFY(!w.sessionIsUntitled());
        QVERIFY(!QFile::exists(untitled));
        QTest::mouseClick(w.compressionPanel()->evaluateButton(), Qt::LeftButton);
        QVERIFY(finished.wait(20000));
        QCOMPARE(ss::SessionDb::open(saved.toStdString(), ss::SessionAccess::ReadOnly)->run_count(), int64_t(3));
        QVERIFY(w.windowTitle().startsWith(QStringLiteral("mine.sparsescope")));

        // A run's model card, with the loaded model's class names.
        const QString card = dir.filePath(QStringLiteral("card.md"));
        QVERIFY2(w.exportModelCard(1, card, &err), qPrintable(err));
        const auto card_bytes = test_support::read_bytes(card.toStdString());
        const std::string md(card_bytes.begin(), card_bytes.end());
        QVERIFY(md.rfind("---\nlibrary_name: sparsescope\n", 0) == 0); // the model-index front matter
        QVERIFY(md.find("---\n\n# Model card: ") != std::string::npos);
        QVERIFY(md.find("(session `" + saved.toStdString() + "`, run 2)") != std::string::npos);
        QVERIFY(md.find("| " + w.runs()->run(1).model_name) != std::string::npos);
        QVERIFY(!w.exportModelCard(1, dir.filePath(QStringLiteral("missing/card.md")), &err));
        QVERIFY(err.contains(QStringLiteral("missing")));

        // Reopened: the runs, the note and the baseline come back.
        MainWindow w2;
        QVERIFY2(w2.openSession(saved, &err), qPrintable(err));
        QCOMPARE(w2.runs()->rowCount(), 3);
        QCOMPARE(w2.runs()->run(1).note, std::string("int8 try"));
        QCOMPARE(w2.runs()->baselineRow(), 0);

        // Another session beside it: a run on other data. Its runs join the table and the plot,
        // grouped by session, and comparing across the two warns about the datasets.
        ss::RunRecord other = w.runs()->run(1);
        other.id = 1;
        other.dataset_sha256 = std::string(64, 'f');
        other.note.clear();
        const QString other_path = dir.filePath(QStringLiteral("other.sparsescope"));
        ss::save_session(other_path.toStdString(), {other});
        QVERIFY2(w2.addComparisonSession(other_path, &err), qPrintable(err));
        QCOMPARE(w2.runs()->rowCount(), 4);
        QCOMPARE(w2.runs()->sourceOf(3), 1);
        QVERIFY(!w2.runTable()->isColumnHidden(RunListModel::Source));
        QCOMPARE(w2.runs()->index(3, RunListModel::Source).data().toString(), QStringLiteral("other"));
        QVERIFY(!(w2.runs()->flags(w2.runs()->index(3, RunListModel::Note)) & Qt::ItemIsEditable)); // not ours to edit
        QCOMPARE(w2.accuracyPlot()->pointCount(), 4);
        bool grouped = false; // one series per session (and precision)
        for (int g = 0; g < w2.accuracyPlot()->plot()->graphCount(); ++g)
            grouped |= w2.accuracyPlot()->plot()->graph(g)->name() == QStringLiteral("other, int8") &&
                       w2.accuracyPlot()->plot()->graph(g)->dataCount() == 1;
        QVERIFY(grouped);
        QItemSelectionModel* sel = w2.runTable()->selectionModel();
        sel->clearSelection();
        for (int row : {1, 3})
            sel->select(w2.runsView()->mapFromSource(w2.runs()->index(row, 0)), QItemSelectionModel::Select | QItemSelectionModel::Rows);
        QVERIFY(!w2.comparisonWarning()->isHidden());
        QVERIFY2(w2.comparisonWarning()->text().contains(QStringLiteral("different datasets")), qPrintable(w2.comparisonWarning()->text()));
        // The comparison run is not written into this session.
        QCOMPARE(ss::SessionDb::open(saved.toStdString(), ss::SessionAccess::ReadOnly)->run_count(), int64_t(3));

        // Diff of the two selected runs.
        QAction* diff = w2.findChild<QAction*>(QStringLiteral("diffRuns"));
        QVERIFY(diff);
        diff->trigger();
        auto* dialog = w2.findChild<RunDiffDialog*>(QStringLiteral("runDiffDialog"));
        QVERIFY(dialog);
        QVERIFY(!dialog->warnings()->isHidden());
        const int all = dialog->visibleRows();
        QVERIFY(all > 20);
        dialog->onlyDifferences()->setChecked(true);
        QVERIFY(dialog->visibleRows() < all && dialog->visibleRows() >= 2); // dataset hash and note differ
        bool sha_row = false;
        for (int i = 0; i < dialog->table()->rowCount(); ++i)
            sha_row |= !dialog->table()->isRowHidden(i) && dialog->table()->item(i, 1)->text() == QStringLiteral("dataset sha256");
        QVERIFY(sha_row);
        for (int i = 0; i < dialog->table()->rowCount(); ++i) // run number and time name the runs: never a difference
            if (dialog->table()->item(i, 1)->text() == QStringLiteral("created") || dialog->table()->item(i, 1)->text() == QStringLiteral("run"))
                QVERIFY(dialog->table()->isRowHidden(i));
        dialog->close();

        // A read-only session opens read-only; new runs stay in memory, marked unsaved.
        const QString ro = dir.filePath(QStringLiteral("ro.sparsescope"));
        QVERIFY(QFile::copy(saved, ro)); // a plain file copy while the session is open holds every finished run
        QFile::setPermissions(ro, QFile::ReadOwner | QFile::ReadGroup | QFile::ReadOther);
        const auto ro_bytes = test_support::read_bytes(ro.toStdString());
        MainWindow w3;
        w3.setLatencySamples(5);
        QVERIFY2(w3.openSession(ro, &err), qPrintable(err));
        QVERIFY2(w3.windowTitle().contains(QStringLiteral("read-only")), qPrintable(w3.windowTitle()));
        w3.setModel(std::make_shared<const ss::Model>(test_support::tiny_moe_model()));
        w3.setDataset(synthetic_dataset(64));
        QSignalSpy finished3(w3.runner(), &EvaluationRunner::finished);
        QTest::mouseClick(w3.compressionPanel()->evaluateButton(), Qt::LeftButton);
        QVERIFY(finished3.wait(20000));
        QVERIFY2(w3.runs()->rowCount() == 4, qPrintable(w3.statusBar()->currentMessage() + QString::number(w3.runs()->rowCount())));
        QVERIFY(w3.windowTitle().startsWith(QLatin1Char('*')));
        QCOMPARE(test_support::read_bytes(ro.toStdString()), ro_bytes);
        // Save As rescues them.
        const QString rescued = dir.filePath(QStringLiteral("rescued.sparsescope"));
        QVERIFY2(w3.saveSession(rescued, &err), qPrintable(err));
        QCOMPARE(ss::SessionDb::open(rescued.toStdString(), ss::SessionAccess::ReadOnly)->run_count(), int64_t(4));
        QVERIFY(!w3.windowTitle().startsWith(QLatin1Char('*')));

        // A session of an older schema is updated on open, its original kept beside it.
        const QString old = dir.filePath(QStringLiteral("old.sparsescope"));
        QVERIFY(QFile::copy(QStringLiteral(SPARSESCOPE_FIXTURES "/session-v3.sparsescope"), old));
        QFile::setPermissions(old, QFile::ReadOwner | QFile::WriteOwner);
        MainWindow w4;
        QVERIFY2(w4.openSession(old, &err), qPrintable(err));
        QCOMPARE(w4.runs()->rowCount(), 2);
        QVERIFY(QFile::exists(old + QStringLiteral(".v3.bak")));
        QVERIFY2(w4.statusBar()->currentMessage().contains(QStringLiteral("older SparseScope")), qPrintable(w4.statusBar()->currentMessage()));
        // New Session empties the table; nothing is written until a run finishes.
        QVERIFY(w4.newSession());
        QCOMPARE(w4.runs()->rowCount(), 0);
        QVERIFY(!w4.session());
    }

    // Runs the user hides and deletes: out of the table and the plots, undoable, written to the
    // session at once; deleted runs come back on reopening only as restorable ones, and leave
    // the file on a purge.
    void runsAreHiddenDeletedUndoneAndPurged() {
        QTemporaryDir dir;
        MainWindow w;
        w.setLatencySamples(5);
        w.setModel(std::make_shared<const ss::Model>(test_support::tiny_moe_model()));
        w.setDataset(synthetic_dataset(64));
        QSignalSpy finished(w.runner(), &EvaluationRunner::finished);
        CompressionPanel* p = w.compressionPanel();
        for (const char* quant : {"none", "int8", "int4:g32"}) {
            p->quantCombo()->setCurrentIndex(p->quantCombo()->findData(QString::fromLatin1(quant)));
            QTest::mouseClick(p->evaluateButton(), Qt::LeftButton);
            QVERIFY(finished.wait(20000));
        }
        const QString path = dir.filePath(QStringLiteral("h.sparsescope"));
        QString err;
        QVERIFY2(w.saveSession(path, &err), qPrintable(err));
        auto stored = [&] { return ss::SessionDb::open(path.toStdString(), ss::SessionAccess::ReadOnly)->runs(nullptr, ss::DeletedRuns::Include); };
        QCOMPARE(w.runsView()->rowCount(), 3);
        QCOMPARE(w.accuracyPlot()->pointCount(), 3);

        // Hide run 2: gone from the table and the plot, kept in the file with its flag.
        QVERIFY2(w.hideRuns({1}, true, &err), qPrintable(err));
        QCOMPARE(w.runsView()->rowCount(), 2);
        QCOMPARE(w.accuracyPlot()->pointCount(), 2);
        QVERIFY(stored()[1].hidden);
        QVERIFY(!w.hideRuns({1}, true, &err)); // already hidden
        w.setShowHiddenRuns(true); // View > Show Hidden Runs: back, in grey italics
        QCOMPARE(w.runsView()->rowCount(), 3);
        QCOMPARE(w.accuracyPlot()->pointCount(), 3);
        QVERIFY(w.runs()->index(1, RunListModel::Id).data(Qt::FontRole).value<QFont>().italic());
        QVERIFY(w.findChild<QAction*>(QStringLiteral("showHiddenRuns"))->isChecked());
        w.setShowHiddenRuns(false);
        QCOMPARE(w.runsView()->rowCount(), 2);
        w.undoStack()->undo(); // unhidden
        QCOMPARE(w.runsView()->rowCount(), 3);
        QVERIFY(!stored()[1].hidden);
        w.undoStack()->redo();
        QVERIFY(stored()[1].hidden);

        // Delete run 3 (the chosen baseline): gone, restorable, still in the file until a purge.
        w.useRunAsBaseline(2);
        QVERIFY2(w.deleteRuns({2}, &err), qPrintable(err));
        QCOMPARE(w.runsView()->rowCount(), 1);
        QCOMPARE(w.accuracyPlot()->pointCount(), 1);
        QCOMPARE(w.runs()->baselineRow(), -1); // a deleted run is no baseline
        QCOMPARE(w.runs()->rowCount(), 3);
        {
            auto db = ss::SessionDb::open(path.toStdString(), ss::SessionAccess::ReadOnly);
            QCOMPARE(db->run_count(), int64_t(2));
            QCOMPARE(db->deleted_count(), int64_t(1));
        }
        QCOMPARE(w.undoStack()->undoText(), QStringLiteral("Delete run(s) 3"));
        w.undoStack()->undo();
        QCOMPARE(w.runsView()->rowCount(), 2);
        QCOMPARE(w.runs()->baselineRow(), 2); // and the baseline again
        QCOMPARE(ss::SessionDb::open(path.toStdString(), ss::SessionAccess::ReadOnly)->deleted_count(), int64_t(0));
        w.undoStack()->redo();
        QVERIFY(!w.deleteRuns({2}, &err)); // deleted already

        // Reopened: the hidden run hidden, the deleted one restorable.
        MainWindow w2;
        QVERIFY2(w2.openSession(path, &err), qPrintable(err));
        QCOMPARE(w2.runs()->rowCount(), 3);
        QCOMPARE(w2.runsView()->rowCount(), 1);
        QVERIFY2(w2.openedSummary().contains(QStringLiteral("(2 runs)")), qPrintable(w2.openedSummary()));
        QVERIFY2(w2.restoreDeletedRuns(&err), qPrintable(err));
        QCOMPARE(w2.runsView()->rowCount(), 2);
        QVERIFY(!w2.restoreDeletedRuns(&err));
        w2.undoStack()->undo(); // deleted again
        QCOMPARE(w2.runsView()->rowCount(), 1);
        // Purged: out of the model and the file; undo has nothing left to name.
        QCOMPARE(w2.purgeDeletedRuns(&err), 1);
        QCOMPARE(w2.runs()->rowCount(), 2);
        QCOMPARE(w2.undoStack()->count(), 0);
        QCOMPARE(stored().size(), size_t(2));
        QCOMPARE(ss::SessionDb::open(path.toStdString(), ss::SessionAccess::ReadOnly)->deleted_count(), int64_t(0));
        // Runs of another session shown to compare are not deleted from here.
        ss::RunRecord other = w2.runs()->run(0);
        const QString other_path = dir.filePath(QStringLiteral("o.sparsescope"));
        ss::save_session(other_path.toStdString(), {other});
        QVERIFY2(w2.addComparisonSession(other_path, &err), qPrintable(err));
        QVERIFY(!w2.deleteRuns({2}, &err));
        QVERIFY2(err.contains(QStringLiteral("another session")), qPrintable(err));
    }

    // A run's settings loaded back into the controls give its plan again; its model exported
    // equals the model exported from those controls; another model's run is refused.
    void runSettingsLoadBackAndExport() {
        QTemporaryDir dir;
        MainWindow w;
        w.setLatencySamples(5);
        const ss::Model m = test_support::tiny_moe_model();
        w.setModel(std::make_shared<const ss::Model>(m));
        w.setDataset(synthetic_dataset(64));
        CompressionPanel* p = w.compressionPanel();
        QSignalSpy finished(w.runner(), &EvaluationRunner::finished);
        // Run 1: controls only, with an override; run 2: a plan the controls cannot say.
        p->pruneMethodCombo()->setCurrentIndex(p->pruneMethodCombo()->findData(QStringLiteral("magnitude:%:block4")));
        p->sparsitySlider()->setValue(40);
        p->quantCombo()->setCurrentIndex(p->quantCombo()->findData(QStringLiteral("int4:g32")));
        p->topKSpin()->setValue(1);
        std::map<std::string, ss::LayerOverride> o;
        o["moe.experts.1"].quant = ss::parse_quant_spec("int8");
        p->setOverrides(o);
        QTest::mouseClick(p->evaluateButton(), Qt::LeftButton);
        QVERIFY(finished.wait(20000));
        QString err;
        const ss::CompressionPlan odd = ss::parse_compression_plan(
            R"({"prune":"magnitude:0.33","quant":"int3:g32","top_k":{"moe":1},"calibration_samples":64})", "test");
        p->resetToBaseline();
        p->setPlanFile(QStringLiteral("odd.json"), odd);
        QTest::mouseClick(p->evaluateButton(), Qt::LeftButton);
        QVERIFY(finished.wait(20000));
        const ss::RunRecord first = w.runs()->run(0), second = w.runs()->run(1);
        QCOMPARE(QString::fromStdString(second.plan.quant.label()), QStringLiteral("int3:g32"));

        p->resetToBaseline();
        p->threadsSpin()->setValue(1);
        QVERIFY2(w.loadRunSettings(0, &err), qPrintable(err));
        QCOMPARE(QString::fromStdString(p->plan().to_json()), QString::fromStdString(first.plan.to_json()));
        QCOMPARE(p->sparsitySlider()->value(), 40);
        QCOMPARE(p->quantCombo()->currentData().toString(), QStringLiteral("int4:g32"));
        QCOMPARE(p->overrides().size(), size_t(1));
        QCOMPARE(p->threads(), first.result.threads);
        QVERIFY2(w.loadRunSettings(1, &err), qPrintable(err));
        QCOMPARE(QString::fromStdString(p->plan().to_json()), QString::fromStdString(second.plan.to_json()));
        QVERIFY(p->overrides().empty()); // run 1's override is gone: settings are the run's, not added to

        // The run's model equals the one exported from its settings in the controls.
        const QString a = dir.filePath(QStringLiteral("run1.safetensors")), b = dir.filePath(QStringLiteral("controls.safetensors"));
        QVERIFY2(w.exportRunModel(0, a, &err), qPrintable(err));
        QVERIFY2(w.loadRunSettings(0, &err), qPrintable(err));
        QVERIFY2(w.exportModel(b, &err), qPrintable(err));
        QCOMPARE(test_support::read_bytes(a.toStdString()), test_support::read_bytes(b.toStdString()));
        QVERIFY(ss::load_model(a.toStdString()).name == m.name);
        ss::Model renamed = test_support::tiny_moe_model();
        renamed.name = "another-model";
        w.setModel(std::make_shared<const ss::Model>(renamed));
        QVERIFY(!w.exportRunModel(0, dir.filePath(QStringLiteral("x.safetensors")), &err));
        QVERIFY2(err.contains(QStringLiteral("open that model first")), qPrintable(err));
    }

    // The Noise column: p95/p50, and "busy" when other processes kept the machine busy.
    void noiseColumnFlagsBusyMachines() {
        RunListModel model;
        ss::RunRecord r;
        r.result.latency_p50_ms = 0.5;
        r.result.latency_p95_ms = 0.7;
        model.addRun(r);
        r.result.latency_p95_ms = 2.0;
        r.result.others_cpus = 1.24;
        model.addRun(r);
        QCOMPARE(model.index(0, RunListModel::Noise).data().toString(), QStringLiteral("×1.4"));
        QVERIFY(!model.index(0, RunListModel::Noise).data(Qt::ForegroundRole).isValid());
        QVERIFY(model.index(0, RunListModel::Noise).data(Qt::ToolTipRole).toString().contains(QStringLiteral("not recorded")));
        QCOMPARE(model.index(1, RunListModel::Noise).data().toString(), QStringLiteral("×4.0 · busy (1.2 CPUs)"));
        QVERIFY(model.index(1, RunListModel::Noise).data(Qt::ForegroundRole).isValid());
        QCOMPARE(model.index(1, RunListModel::Noise).data(RunListModel::SortRole).toDouble(), 4.0);
        // Faster by latency alone on a busy machine: withheld, the cell short, the tooltip whole.
        r.result.has_comparison = true;
        r.result.comparison.throughput_ratio = 1.05;
        r.result.comparison.latency_ratio = 1.40;
        r.result.comparison.faster_than_dense = true;
        r.result.latency_p95_ms = 0.7;
        model.addRun(r);
        QCOMPARE(model.index(2, RunListModel::Speed).data().toString(), QStringLiteral("inconclusive (×1.05 / ×1.40; busy machine)"));
        QVERIFY(model.index(2, RunListModel::Speed).data(Qt::ToolTipRole).toString().contains(QStringLiteral("kept 1.2 CPUs busy")));
    }

    // Robustness, calibration, OOD and flipped samples of a run, and the dataset card, in the window.
    void beyondAccuracyInTheWindow() {
        const char* cfg = R"({"format": "sparsescope/classifier-v1", "name": "img",
          "input": {"shape": [64], "scale": 0.00392156862745098, "mean": 0.0, "std": 1.0},
          "labels": ["dark", "light"],
          "layers": [{"type": "linear", "name": "fc1", "in": 64, "out": 16}, {"type": "relu"},
                     {"type": "linear", "name": "fc2", "in": 16, "out": 2}]})";
        ss::Model m = ss::parse_model_config(cfg, "img");
        ss::init_weights(m, 3);
        auto d = std::make_shared<ss::Dataset>();
        d->source_path = "images";
        d->sha256 = std::string(64, 'b');
        d->count = 120;
        d->features = 64;
        d->num_classes = 2;
        for (int i = 0; i < d->count; ++i) {
            for (int k = 0; k < 64; ++k) d->raw.push_back(float((i * 29 + k * (7 + i % 5)) % 256));
            d->labels.push_back(i % 2);
        }
        std::copy(d->raw.begin(), d->raw.begin() + 64, d->raw.begin() + 64 * 7); // sample 7 = sample 0, another label
        MainWindow w;
        w.setLatencySamples(5);
        w.setModel(std::make_shared<const ss::Model>(m));
        w.setDataset(d);
        QVERIFY(w.findChild<QLabel*>() != nullptr);
        w.compressionPanel()->sparsitySlider()->setValue(90);
        w.compressionPanel()->beyondAccuracyCheck()->setChecked(true);
        QSignalSpy finished(w.runner(), &EvaluationRunner::finished);
        QTest::mouseClick(w.compressionPanel()->evaluateButton(), Qt::LeftButton);
        QVERIFY(finished.wait(60000));
        const ss::RunRecord& r = w.runs()->run(0);
        QVERIFY(r.result.has_robustness && r.result.has_ood);
        QCOMPARE(r.result.robustness.cells.size(), size_t(12 * 3));
        QCOMPARE(r.result.ood.set, std::string("noise")); // no resource folder given: uniform noise
        w.selectRun(0);
        QCOMPARE(w.robustnessChart()->shownRuns(), 1);
        const std::vector<double> mean = w.robustnessChart()->shownAccuracy(0);
        QCOMPARE(mean.size(), size_t(3));
        double expect = 0.0; // severity 1, mean over the 12 corruptions
        for (int c = 0; c < 12; ++c) expect += 100.0 * r.result.robustness.cells[size_t(c * 3)].accuracy / 12.0;
        QVERIFY(std::fabs(mean[0] - expect) < 1e-9);
        QVERIFY(w.reliabilityDiagram()->title().contains(QStringLiteral("ECE")));
        QVERIFY(w.oodChart()->title().contains(QStringLiteral("noise")));
        int lost = 0;
        for (const auto& f : r.result.comparison.flipped) lost += f.lost() ? 1 : 0;
        QCOMPARE(w.flippedGallery()->list()->count(), std::min(lost, FlippedGallery::kMaxShown));
        if (lost > 0) QVERIFY(!w.flippedGallery()->list()->item(0)->icon().isNull()); // the same data: images drawn
        QVERIFY(w.flippedGallery()->summary()->text().contains(QStringLiteral("flipped %1 samples").arg(r.result.comparison.flipped.size())));
        // Every detail chart exports.
        QTemporaryDir dir;
        for (QWidget* tab : {static_cast<QWidget*>(w.robustnessChart()), static_cast<QWidget*>(w.reliabilityDiagram()), static_cast<QWidget*>(w.oodChart())}) {
            w.mainTabs()->setCurrentWidget(tab);
            MainWindow::Chart chart;
            QString name, err;
            QVERIFY(w.mainChart(&chart, &name));
            QVERIFY2(w.exportChart(dir.filePath(name), &err, chart, 600, 400), qPrintable(err));
            QVERIFY(QFileInfo(dir.filePath(name)).size() > 1000);
        }
        w.mainTabs()->setCurrentWidget(w.flippedGallery());
        MainWindow::Chart none;
        QString none_name;
        QVERIFY(!w.mainChart(&none, &none_name));

        // The dataset card: nothing found beside synthetic data; stated by the user, later runs record it.
        QVERIFY(w.datasetProvenance().origin.empty());
        ss::DatasetProvenance p;
        p.license = "CC0-1.0";
        p.origin = "entered by the user";
        QString err;
        QVERIFY(w.setDatasetCard(p, std::nullopt, &err));
        QVERIFY(QString::fromStdString(w.datasetCardJson()).contains(QStringLiteral("\"license\": \"CC0-1.0\"")));
        QVERIFY(QString::fromStdString(w.runs()->run(0).dataset_card).contains(QStringLiteral("CC0-1.0"))); // this session's runs on it too
        w.compressionPanel()->beyondAccuracyCheck()->setChecked(false);
        QTest::mouseClick(w.compressionPanel()->evaluateButton(), Qt::LeftButton);
        QVERIFY(finished.wait(60000));
        QCOMPARE(w.runs()->rowCount(), 2);
        QVERIFY(!w.runs()->run(1).result.has_robustness);
        QVERIFY(QString::fromStdString(w.runs()->run(1).dataset_card).contains(QStringLiteral("CC0-1.0")));

        // The dialog's check finds sample 7, a copy of sample 0 with another label.
        DatasetCardDialog dialog(d, nullptr, w.datasetProvenance(), std::nullopt);
        QCOMPARE(dialog.licenseEdit()->text(), QStringLiteral("CC0-1.0"));
        QSignalSpy searched(&dialog, &DatasetCardDialog::searchFinished);
        dialog.checkDuplicates();
        QVERIFY(searched.wait(20000));
        QVERIFY(dialog.duplicates().has_value());
        QCOMPARE(dialog.duplicates()->exact_pairs, int64_t(1));
        QCOMPARE(dialog.duplicates()->label_conflicts, int64_t(1));
        QVERIFY(dialog.pairsTable()->rowCount() >= 1);
        QCOMPARE(dialog.pairsTable()->item(0, 2)->text(), QStringLiteral("exact"));
        QVERIFY(!dialog.leakage().has_value()); // no training split given
        dialog.licenseEdit()->setText(QStringLiteral("MIT"));
        QCOMPARE(dialog.provenance().license, std::string("MIT"));
        QCOMPARE(dialog.provenance().origin, std::string("entered by the user"));
    }

    void cancelStopsTheRun() {
        MainWindow w;
        w.setModel(std::make_shared<const ss::Model>(test_support::tiny_moe_model()));
        w.setDataset(synthetic_dataset(2000000)); // seconds of work: long enough to cancel in the middle
        QSignalSpy canceled(w.runner(), &EvaluationRunner::canceled);
        QSignalSpy finished(w.runner(), &EvaluationRunner::finished);
        w.evaluate();
        QVERIFY(w.compressionPanel()->cancelButton()->isEnabled());
        QTest::mouseClick(w.compressionPanel()->cancelButton(), Qt::LeftButton);
        QVERIFY(canceled.wait(20000));
        QCOMPARE(finished.count(), 0);
        QCOMPARE(w.runs()->rowCount(), 0);
        QVERIFY(w.compressionPanel()->evaluateButton()->isEnabled());
    }

    void preprocessingIsExactAndEditable() {
        InputPanel p;
        ss::InputSpec spec;
        spec.scale = 1.0 / 255.0;
        spec.mean = 0.2860;
        spec.std = 0.3530;
        p.setInput(spec);
        ss::InputSpec got;
        QString err;
        QVERIFY(p.input(&got, &err));
        QCOMPARE(got.scale, 1.0 / 255.0); // unedited: the exact double, not the 10 digits shown
        p.meanEdit()->setText(QStringLiteral("0.5"));
        QVERIFY(p.input(&got, &err));
        QCOMPARE(got.mean, 0.5);
        p.stdEdit()->setText(QStringLiteral("0"));
        QVERIFY(!p.input(&got, &err));
        QVERIFY(err.contains("std"));
        p.stdEdit()->setText(QStringLiteral("abc"));
        QVERIFY(!p.input(&got, &err));
    }

    void runsRecordPreprocessingAndExportWorks() {
        MainWindow w;
        w.setLatencySamples(3);
        w.setModel(std::make_shared<const ss::Model>(test_support::tiny_moe_model()));
        w.setDataset(synthetic_dataset(32));
        w.inputPanel()->scaleEdit()->setText(QStringLiteral("0.5"));
        QSignalSpy finished(w.runner(), &EvaluationRunner::finished);
        w.evaluate();
        QVERIFY(finished.wait(20000));
        QCOMPARE(w.runs()->run(0).input.scale, 0.5);
        QTemporaryDir dir;
        QString err;
        w.compressionPanel()->sparsitySlider()->setValue(40);
        const QString out = dir.filePath("c.safetensors");
        QVERIFY2(w.exportModel(out, &err), qPrintable(err));
        const ss::Model back = ss::load_model(out.toStdString());
        QCOMPARE(back.input.scale, 0.5);
        QVERIFY(std::fabs(ss::measured_sparsity(back) - 0.4) < 0.01);
    }

    void badFilesKeepWhatIsLoaded() {
        MainWindow w;
        w.setModel(std::make_shared<const ss::Model>(test_support::tiny_moe_model()));
        QTemporaryDir dir;
        QString err;
        QVERIFY(!w.loadModel(dir.filePath("missing"), &err));
        QVERIFY(err.contains("no such file"));
        QVERIFY(!w.openSession(dir.filePath("missing.sparsescope"), &err));
        // Text needs a language model's tokenizer: refused by name while a classifier is loaded.
        QVERIFY(!w.loadDataset(QStringLiteral(SPARSESCOPE_RESOURCE_DIR "/models/kjv-moe/kjv-heldout.txt"), &err));
        QVERIFY2(err.contains("open the language model first"), qPrintable(err));
        QVERIFY(w.compressionPanel()->topKSpin()->isEnabled()); // the tiny model is still there
    }
};

QTEST_MAIN(TestGui)
#include "test_gui.moc"
