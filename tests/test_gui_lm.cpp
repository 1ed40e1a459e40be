// test_gui_lm.cpp - language models in the window: every fixture family opens with token ids and
// evaluates through the same controls; runs show perplexity columns (classifier-only ones hidden),
// the plot switches to perplexity vs generation speed, the dense distributions are measured once
// and read back from the baseline cache, and live mode estimates on two chunks first.
#include "accuracy_latency_plot.h"
#include "compression_panel.h"
#include "evaluation_runner.h"
#include "expert_atlas.h"
#include "generation_panel.h"
#include "token_inspector.h"
#include "layer_tree.h"
#include "input_panel.h"
#include "lm_eval_panel.h"
#include "main_window.h"
#include "override_dialog.h"
#include "metric_plot.h"
#include "run_list_model.h"
#include "test_support.h"

#include "compress/compression.h"
#include "compress/compression_plan.h"
#include "formats/model_io.h"
#include "model/matrices.h"

#include <QApplication>
#include <QDir>
#include <QMessageBox>
#include <QTimer>
#include <QFile>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QCheckBox>
#include <QComboBox>
#include <QPushButton>
#include <QStatusBar>
#include <QSlider>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTableWidget>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QTabWidget>
#include <QTextBrowser>
#include <QtTest>

using namespace ssui;

namespace {
const QString kLm = QStringLiteral(SPARSESCOPE_TEST_DATA "/lm");

double metric(const ss::RunRecord& r, const char* k) { return r.result.metrics.count(k) ? r.result.metrics.at(k) : -1.0; }

// The demo language model and its held-out text in `w`, evaluated on `chunks` chunks of `ctx`.
bool openDemo(MainWindow& w, int ctx, int chunks, int gen_tokens) {
    QString err;
    w.setLatencySamples(5);
    const bool ok = w.loadModel(QStringLiteral(SPARSESCOPE_RESOURCE_DIR "/models/kjv-moe"), &err) &&
                    w.loadDataset(QStringLiteral(SPARSESCOPE_RESOURCE_DIR "/models/kjv-moe/kjv-heldout.txt"), &err);
    if (!ok) qWarning("%s", qPrintable(err));
    w.setLanguageModelEvaluation(ctx, chunks, gen_tokens);
    return ok;
}
} // namespace

class TestGuiLm : public QObject {
    Q_OBJECT
    QTemporaryDir cache_;

private slots:
    void initTestCase() {
        QCoreApplication::setOrganizationName(QStringLiteral("SparseScopeTest"));
        QSettings().clear();
        QStandardPaths::setTestModeEnabled(true);
        QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).removeRecursively();
        qputenv("XDG_CACHE_HOME", cache_.path().toUtf8()); // baselines and kernel choices of this test
    }

    void everyFamilyEvaluatesInTheWindow_data() {
        QTest::addColumn<QString>("family");
        for (const char* f : {"llama", "mixtral", "mixtral_fused", "qwen2_moe", "olmoe", "granitemoe"}) QTest::newRow(f) << QString::fromLatin1(f);
    }
    void everyFamilyEvaluatesInTheWindow() {
        QFETCH(QString, family);
        MainWindow w;
        w.setLatencySamples(5);
        QString err;
        QVERIFY2(w.loadModel(kLm + QLatin1Char('/') + family, &err), qPrintable(err));
        QVERIFY(w.isLanguageModel());
        QVERIFY2(w.loadDataset(kLm + QLatin1Char('/') + family + QStringLiteral("/tokens.npy"), &err), qPrintable(err));
        QVERIFY(w.tokens() != nullptr);
        // The evaluation's settings replace the image preprocessing; the spin boxes drive them.
        QVERIFY(!w.lmEvalPanel()->isHidden());
        QVERIFY(w.inputPanel()->isHidden());
        w.lmEvalPanel()->chunksSpin()->setValue(5);
        QCOMPARE(w.lmChunks(), 5);
        w.setLanguageModelEvaluation(16, 3, 4);
        QCOMPARE(w.lmEvalPanel()->chunks(), 3);
        QCOMPARE(w.accuracyPlot()->task(), ss::EvalTask::LanguageModeling);
        QVERIFY(w.compressionPanel()->evaluateButton()->isEnabled());

        QSignalSpy finished(w.runner(), &EvaluationRunner::finished);
        w.evaluate(); // dense: measured side by side and cached
        QVERIFY(finished.wait(30000));
        w.compressionPanel()->quantCombo()->setCurrentIndex(w.compressionPanel()->quantCombo()->findData(QStringLiteral("int8")));
        w.evaluate(); // int8: the dense distributions from the cache
        QVERIFY(finished.wait(30000));
        QCOMPARE(w.runs()->rowCount(), 2);
        const ss::RunRecord &dense = w.runs()->run(0), &int8 = w.runs()->run(1);
        QCOMPARE(dense.result.task, ss::EvalTask::LanguageModeling);
        QVERIFY(metric(dense, "perplexity") > 1.0);
        QCOMPARE(metric(dense, "chunks"), 3.0);
        QCOMPARE(metric(dense, "ctx"), 16.0);
        QCOMPARE(metric(dense, "kld_mean"), 0.0); // dense against itself
        QCOMPARE(metric(dense, "ppl_ratio"), 1.0);
        QVERIFY(int8.result.has_comparison);
        QVERIFY(metric(int8, "kld_mean") > 0.0);
        // The same dense model, its NLLs read back from the cache as fp32.
        QVERIFY(std::fabs(metric(int8, "dense_perplexity") / metric(dense, "perplexity") - 1.0) < 1e-6);
        // Columns: language-model ones shown, classifier-only ones hidden.
        QVERIFY(!w.runTable()->isColumnHidden(RunListModel::Perplexity));
        QVERIFY(!w.runTable()->isColumnHidden(RunListModel::GenTps));
        QVERIFY(w.runTable()->isColumnHidden(RunListModel::Delta));
        QVERIFY(w.runTable()->isColumnHidden(RunListModel::Throughput));
        QVERIFY(w.runs()->index(1, RunListModel::Perplexity).data().toString().contains(QStringLiteral("(×")));
        // Against a chosen baseline run: the perplexity ratio, not a top-1 difference.
        w.useRunAsBaseline(0);
        const double ratio = w.runs()->index(1, RunListModel::VsBaseline).data(RunListModel::SortRole).toDouble();
        QVERIFY(std::fabs(ratio - metric(int8, "perplexity") / metric(dense, "perplexity")) < 1e-12);
        QVERIFY(w.runs()->index(1, RunListModel::VsBaseline).data().toString().startsWith(QStringLiteral("perplexity ×")));
        w.useRunAsBaseline(-1);
        QCOMPARE(w.accuracyPlot()->pointCount(), 2);
        // The plot's y is perplexity; the frontier keeps runs nothing beats on both axes.
        QCOMPARE(AccuracyLatencyPlot::yOf(int8), metric(int8, "perplexity"));
        QVERIFY(w.accuracyPlot()->frontierCount() >= 1);
        // The layer tree opens every decoder block to its matrices, with the selected run's values.
        w.selectRun(1);
        QTreeWidgetItem* first_block = nullptr;
        for (int i = 0; i < w.layerTree()->topLevelItemCount() && !first_block; ++i)
            if (w.layerTree()->topLevelItem(i)->childCount() > 0) first_block = w.layerTree()->topLevelItem(i);
        QVERIFY(first_block);
        QVERIFY(!int8.result.matrices.empty());
        const QString q = QString::fromStdString(int8.result.matrices.front().name);
        QVERIFY2(w.layerTree()->matrixItem(q), qPrintable(q));
        QCOMPARE(w.layerTree()->matrixItem(q)->text(LayerTree::Precision), QStringLiteral("int8"));
        QCOMPARE(first_block->text(LayerTree::Precision), QStringLiteral("int8"));
        // The any-metric plot: language-model axes by default, the new metrics offered.
        QCOMPARE(w.metricPlot()->yCombo()->currentData().toInt(), int(MetricPlot::Perplexity));
        QCOMPARE(w.metricPlot()->pointCount(), 2);
        QCOMPARE(MetricPlot::value(int8, MetricPlot::GenTps), metric(int8, "gen_tps"));
        QVERIFY(std::isnan(MetricPlot::value(int8, MetricPlot::Throughput))); // samples/s: a classifier's
        // The token inspector works without a tokenizer too (pieces shown as ids).
        TokenInspector* ti = w.tokenInspector();
        w.mainTabs()->setCurrentWidget(ti);
        w.selectRun(1);
        QTRY_VERIFY_WITH_TIMEOUT(ti->inspection() && !ti->busy(), 30000);
        QCOMPARE(int(ti->inspection()->tokens.size()), 16);
        QVERIFY(!ti->describe(3).isEmpty());
    }

    void denseRunWithTheCachedBaselineIsDenseAgain() {
        // The second dense run reads the cached distributions: the comparison must still say
        // "identical" (KL 0 to the 16-bit codes' precision, same top token everywhere).
        MainWindow w;
        w.setLatencySamples(5);
        QString err;
        QVERIFY(w.loadModel(kLm + QStringLiteral("/mixtral"), &err));
        QVERIFY(w.loadDataset(kLm + QStringLiteral("/mixtral/tokens.npy"), &err));
        w.setLanguageModelEvaluation(16, 3, 4);
        QSignalSpy finished(w.runner(), &EvaluationRunner::finished);
        w.evaluate();
        QVERIFY(finished.wait(30000));
        w.evaluate();
        QVERIFY(finished.wait(30000));
        const ss::RunRecord& again = w.runs()->run(w.runs()->rowCount() - 1);
        QCOMPARE(metric(again, "same_top_p"), 1.0);
        QVERIFY2(metric(again, "kld_mean") < 1e-6, qPrintable(QString::number(metric(again, "kld_mean"))));
        QVERIFY(std::fabs(metric(again, "ppl_ratio") - 1.0) < 1e-6);
    }

    void liveModeEstimatesOnTwoChunksFirst() {
        MainWindow w;
        QString err;
        QVERIFY(openDemo(w, 64, 6, 4));
        std::vector<double> estimate_chunks;
        connect(w.runner(), &EvaluationRunner::estimated, this, [&](const ss::RunRecord& r) { estimate_chunks.push_back(metric(r, "chunks")); });
        QSignalSpy live(&w, &MainWindow::liveUpdated);
        w.compressionPanel()->liveCheck()->setChecked(true);
        w.compressionPanel()->sparsitySlider()->setValue(40);
        QVERIFY(live.wait(30000));
        QVERIFY(!estimate_chunks.empty());
        QCOMPARE(estimate_chunks.back(), 2.0);
        QCOMPARE(metric(w.runs()->run(w.liveRow()), "chunks"), 6.0);
        QCOMPARE(w.runs()->run(w.liveRow()).plan.prune.sparsity, 0.4);
    }

    void expertAtlasShowsEveryLayerAndTheDifference() {
        // Two runs of the demo: dense, and with expert 3 dropped (by name) in every layer
        // (by name: no calibration text needed). The atlas shows 4 layers x 8 experts, then the
        // difference by expert id: dropped experts blank, the others' shares moved.
        MainWindow w;
        QString err;
        QVERIFY(openDemo(w, 64, 4, 2));
        ss::CompressionPlan dense, dropped;
        for (int l = 0; l < 4; ++l) dropped.drop_expert_names.push_back("model.layers." + std::to_string(l) + ".block_sparse_moe.3");
        QVERIFY2(w.runSweep({dense, dropped}, &err), qPrintable(err));
        QTRY_VERIFY_WITH_TIMEOUT(!w.sweepRunning(), 60000);
        QCOMPARE(w.runs()->rowCount(), 2);
        ExpertAtlas* atlas = w.expertAtlas();
        w.selectRun(0);
        QCOMPARE(atlas->layers(), 4);
        QCOMPARE(atlas->experts(), 8);
        QVERIFY(!atlas->isDifference());
        double row_sum = 0;
        for (int x = 0; x < 8; ++x) row_sum += atlas->cell(2, x);
        QVERIFY(std::fabs(row_sum - 100.0) < 1e-6); // shares of a layer's slots
        QCOMPARE(w.runs()->run(1).result.expert_share[0].size(), size_t(7));
        w.runTable()->selectAll();
        QVERIFY(atlas->isDifference());
        QCOMPARE(atlas->experts(), 8); // the union of ids
        QVERIFY(std::isnan(atlas->cell(0, 3)));   // expert 3: dropped in the second run
        double moved = 0;
        for (int x = 0; x < 8; ++x)
            if (x != 3) moved += atlas->cell(0, x);
        const double dropped_share = 100.0 * w.runs()->run(0).result.expert_share[0][3];
        QVERIFY2(std::fabs(moved - dropped_share) < 1e-6, qPrintable(QStringLiteral("%1 vs %2").arg(moved).arg(dropped_share))); // its slots went elsewhere
    }

    void tokenInspectorAndGenerationFollowTheSelectedRun() {
        MainWindow w;
        QString err;
        QVERIFY(openDemo(w, 64, 3, 2));
        ss::CompressionPlan dense, pruned = ss::plan_from_flags("magnitude:0.8", "int4:g32", 0);
        QVERIFY2(w.runSweep({dense, pruned}, &err), qPrintable(err));
        QTRY_VERIFY_WITH_TIMEOUT(!w.sweepRunning(), 60000);
        TokenInspector* ti = w.tokenInspector();
        QSignalSpy inspected(ti, &TokenInspector::inspected);
        w.mainTabs()->setCurrentWidget(ti); // computes only while in view
        w.selectRun(1);
        QVERIFY(inspected.wait(30000) || ti->inspection());
        QTRY_VERIFY_WITH_TIMEOUT(!ti->busy(), 30000);
        const ss::TokenInspection* r = ti->inspection();
        QVERIFY(r);
        QCOMPARE(int(r->tokens.size()), 64);
        QCOMPARE(r->moe_layers, 4);
        // The text reads as the held-out books, and every character maps back to its token.
        QVERIFY2(ti->view()->toPlainText().contains(QStringLiteral("came to pass")), qPrintable(ti->view()->toPlainText().left(200)));
        const int pos = ti->view()->toPlainText().indexOf(QStringLiteral("pass"));
        const int tok = ti->tokenAtCharacter(pos);
        QVERIFY(tok > 0);
        QVERIFY(ti->pieceOf(tok).contains(QStringLiteral("pass")) || QStringLiteral("pass").startsWith(ti->pieceOf(tok).trimmed()));
        const QString tip = ti->describe(tok);
        QVERIFY2(tip.contains(QStringLiteral("compressed vs")) && tip.contains(QStringLiteral("predicted, dense:")) &&
                     tip.contains(QStringLiteral("model.layers.3.block_sparse_moe: expert")), qPrintable(tip));
        // Worst tokens first: a large increase at 80 % magnitude, red.
        QVERIFY(ti->worstList()->count() > 10);
        const int worst = ti->worstList()->item(0)->data(Qt::UserRole).toInt();
        const ss::InspectedToken& x = r->tokens[size_t(worst)];
        QVERIFY(x.nll - x.dense_nll > 0.5);
        QVERIFY(ti->colourOf(worst).red() > ti->colourOf(worst).blue());
        QVERIFY(ti->search(QStringLiteral("the")) >= 2);
        ti->setColour(TokenInspector::Colour::TopExpert);
        ti->setExpertLayer(2);
        const int e = r->route_idx[(size_t(5) * 4 + 2) * 2];
        QVERIFY(e >= 0 && e < 8);
        // Dense against itself: no change anywhere.
        w.selectRun(0);
        QTRY_VERIFY_WITH_TIMEOUT(!ti->busy() && ti->inspection() && ti->inspection() != r, 30000);
        for (const ss::InspectedToken& t : ti->inspection()->tokens)
            if (!std::isnan(t.nll)) QCOMPARE(t.nll, t.dense_nll);

        // Generation: the selected run (80 % + int4) against dense, greedy; tokens/s of each.
        w.selectRun(1);
        GenerationPanel* g = w.generationPanel();
        g->promptEdit()->setPlainText(QStringLiteral("And God said"));
        g->maxTokensSpin()->setValue(12);
        QSignalSpy done(g, &GenerationPanel::finished);
        QVERIFY2(g->generate(&err), qPrintable(err));
        QVERIFY(done.wait(30000));
        QCOMPARE(int(g->denseTokens().size()), 12);
        QCOMPARE(int(g->compressedTokens().size()), 12);
        QVERIFY(g->denseTokensPerSecond() > 0 && g->compressedTokensPerSecond() > 0);
        QVERIFY(g->firstDifference() >= 0); // 80 % magnitude writes something else
        // Greedy is repeatable, and the same plan on both sides agrees everywhere.
        const std::vector<int32_t> first = g->denseTokens();
        w.selectRun(0);
        QVERIFY(g->generate(&err));
        QVERIFY(done.wait(30000));
        QCOMPARE(g->denseTokens(), first);
        QCOMPARE(g->firstDifference(), -1);
        // An empty prompt is refused.
        g->promptEdit()->clear();
        QVERIFY(!g->generate(&err));
        QVERIFY(err.contains(QStringLiteral("prompt")));
    }

    void overridesHaveGroupRowsAndAFilter() {
        const ss::Model m = ss::load_model((kLm + QStringLiteral("/mixtral")).toStdString());
        OverrideDialog d(m, {});
        QTableWidget* t = d.table();
        int group = -1, members = 0;
        for (int r = 0; r < t->rowCount(); ++r) {
            if (t->item(r, 0)->text() == QStringLiteral("every q_proj")) group = r;
            if (t->item(r, 0)->text().endsWith(QStringLiteral(".self_attn.q_proj"))) ++members;
        }
        QVERIFY(group >= 0);
        QVERIFY(members >= 2);
        t->item(group, 3)->setText(QStringLiteral("int4:g32")); // the quantization column
        std::map<std::string, ss::LayerOverride> o;
        QString err;
        QVERIFY2(d.overrides(&o, &err), qPrintable(err));
        QCOMPARE(int(o.size()), members); // the members, not the group row
        for (const auto& [name, ov] : o) {
            QVERIFY(name.ends_with(".self_attn.q_proj"));
            QCOMPARE(ov.quant->label(), std::string("int4:g32"));
        }
        // The plan compresses exactly those matrices.
        ss::CompressionPlan plan;
        plan.layers = o;
        const ss::CompressedModel cm = ss::compress(m, plan);
        for_each_matrix(cm.model, [&](const ss::LinearWeights& l, const ss::MatrixInfo& info) {
            QCOMPARE(bool(l.quant), info.name.ends_with(".self_attn.q_proj"));
        });
        d.filter()->setText(QStringLiteral("layers.1."));
        int visible = 0;
        for (int r = 0; r < t->rowCount(); ++r)
            if (!t->isRowHidden(r)) {
                ++visible;
                QVERIFY(t->item(r, 0)->text().contains(QStringLiteral("layers.1.")));
            }
        QVERIFY(visible > 4);
    }

    void languageModelRunsLiveInTheSessionAndItsExports() {
        // Runs are committed to the session as they finish; reopened, they are language-model
        // runs again (perplexity, KL, expert shares); the runs table exports them as numbers
        // and a model card describes one.
        QTemporaryDir dir;
        QString path, err;
        double ppl = 0, kl = 0;
        {
            MainWindow w;
            w.setLatencySamples(5);
            QVERIFY(w.loadModel(kLm + QStringLiteral("/qwen2_moe"), &err));
            QVERIFY(w.loadDataset(kLm + QStringLiteral("/qwen2_moe/tokens.npy"), &err));
            w.setLanguageModelEvaluation(16, 3, 4);
            QVERIFY2(w.runSweep({ss::CompressionPlan{}, ss::plan_from_flags("none", "int4:g32", 0)}, &err), qPrintable(err));
            QTRY_VERIFY_WITH_TIMEOUT(!w.sweepRunning(), 60000);
            QCOMPARE(w.runs()->rowCount(), 2);
            path = w.sessionPath();
            ppl = metric(w.runs()->run(1), "perplexity");
            kl = metric(w.runs()->run(1), "kld_mean");
            const QString card = dir.filePath(QStringLiteral("card.md"));
            QVERIFY2(w.exportModelCard(1, card, &err), qPrintable(err));
            QFile f(card);
            QVERIFY(f.open(QIODevice::ReadOnly));
            const QString md = QString::fromUtf8(f.readAll());
            QVERIFY2(md.contains(QStringLiteral("erplexity")), qPrintable(md.left(400)));
            const QString csv = dir.filePath(QStringLiteral("runs.csv"));
            QVERIFY2(w.exportRuns(csv, &err), qPrintable(err));
            QFile c(csv);
            QVERIFY(c.open(QIODevice::ReadOnly));
            const QString text = QString::fromUtf8(c.readAll());
            QVERIFY(text.section(QLatin1Char('\n'), 0, 0).contains(QStringLiteral(",perplexity,"))); // the sessions export columns
            QVERIFY(text.contains(QStringLiteral(",language_modeling,")));
        }
        MainWindow again;
        QVERIFY2(again.openSession(path, &err), qPrintable(err));
        QCOMPARE(again.runs()->rowCount(), 2);
        const ss::RunRecord& r = again.runs()->run(1);
        QCOMPARE(r.result.task, ss::EvalTask::LanguageModeling);
        QVERIFY(std::fabs(metric(r, "perplexity") / ppl - 1.0) < 1e-9);
        QVERIFY(std::fabs(metric(r, "kld_mean") - kl) < 1e-12);
        QVERIFY(!r.result.expert_share.empty());
        QVERIFY(!again.runTable()->isColumnHidden(RunListModel::Perplexity));
        QVERIFY(again.runTable()->isColumnHidden(RunListModel::Delta));
    }

    void calibratedPlansNeedCalibrationText() {
        // Wanda needs input norms from calibration text: refused by name without it, evaluated
        // with it - and not the same model as magnitude pruning at the same sparsity.
        MainWindow w;
        QString err;
        QVERIFY(openDemo(w, 64, 3, 2));
        const ss::CompressionPlan wanda = ss::plan_from_flags("wanda:0.5", "none", 0), magnitude = ss::plan_from_flags("magnitude-layer:0.5", "none", 0);
        QVERIFY(!w.loadCalibrationText(QStringLiteral("/nonexistent.txt"), &err));
        QString shown;
        QTimer::singleShot(300, [&shown] { // the refusal's dialog: read it, close it
            if (auto* m = qobject_cast<QMessageBox*>(QApplication::activeModalWidget())) {
                shown = m->text();
                m->close();
            }
        });
        QVERIFY(w.runSweep({wanda}, &err)); // starts, then stops at the plan
        QTRY_VERIFY_WITH_TIMEOUT(!w.sweepRunning(), 30000);
        QVERIFY2(shown.contains(QStringLiteral("Open Calibration Text")), qPrintable(shown));
        QCOMPARE(w.runs()->rowCount(), 0);
        QVERIFY2(w.loadCalibrationText(QStringLiteral(SPARSESCOPE_RESOURCE_DIR "/models/kjv-moe/kjv-calib.txt"), &err), qPrintable(err));
        QVERIFY(w.calibrationText());
        QVERIFY2(w.runSweep({wanda, magnitude}, &err), qPrintable(err));
        QTRY_VERIFY_WITH_TIMEOUT(!w.sweepRunning(), 60000);
        QCOMPARE(w.runs()->rowCount(), 2);
        QVERIFY(metric(w.runs()->run(0), "perplexity") != metric(w.runs()->run(1), "perplexity"));
    }

    void textNeedsTheModelsTokenizerAndEnoughTokens() {
        MainWindow w;
        QString err;
        QVERIFY(w.loadModel(kLm + QStringLiteral("/llama"), &err));
        // Ids of another vocabulary (the demo's 4,096) are refused by the loader, naming the id.
        QVERIFY(!w.loadDataset(kLm + QStringLiteral("/kjv-heldout-tokens.npy"), &err));
        QVERIFY2(err.contains("vocab") || err.contains("vocabulary"), qPrintable(err));
        QVERIFY(w.tokens() == nullptr);
        QVERIFY(w.loadDataset(kLm + QStringLiteral("/llama/tokens.npy"), &err));
        w.setLanguageModelEvaluation(1000000, 3, 4);
        QCOMPARE(w.lmContext(), 128); // clamped to max_position_embeddings
    }
};

QTEST_MAIN(TestGuiLm)
#include "test_gui_lm.moc"
