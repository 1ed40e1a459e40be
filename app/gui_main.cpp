// gui_main.cpp - sparsescope [MODEL] [--model PATH] [--data PATH] [--session FILE] [--screenshot PNG]
//
// Opens with the bundled demo model and the Fashion-MNIST test split unless told otherwise.
// --screenshot runs a small sweep, grabs the window (each tab) into PNGs and quits (scripts/screenshot).
#include "kernels/blas_setup.h"
#include "eval/sweep_grid.h"
#include "main_window.h"
#include "generation_panel.h"
#include "token_inspector.h"
#include "run_list_model.h"
#include "compression_panel.h"
#include "evaluation_runner.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QSlider>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QItemSelectionModel>
#include <QCommandLineParser>
#include <QDialog>
#include <QEventLoop>
#include <QPlainTextEdit>
#include <QDir>
#include <QFileInfo>
#include <QIcon>
#include <QMessageBox>
#include <QTabWidget>
#include <QStandardPaths>
#include <QTimer>
#include <QElapsedTimer>

#include <cstdio>
#include <functional>
#include <memory>

namespace {
QString default_model_path() {
    // Next to the executable when installed, else the source tree's resources.
    const QString installed = QCoreApplication::applicationDirPath() + QStringLiteral("/../share/sparsescope/models/fashion-moe");
    if (QFileInfo::exists(installed)) return installed;
    return QStringLiteral(SPARSESCOPE_RESOURCE_DIR "/models/fashion-moe");
}
} // namespace

int main(int argc, char** argv) {
    ss::ensure_blas_core(argv);
    // Qt on X11 takes "-session ID" / "--session ID" out of argv for X session management, so
    // `sparsescope --session FILE` reached the parser without it and opened no session. Read it
    // here, before QApplication sees the arguments.
    QString session_arg;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if ((a == "--session" || a == "-session") && i + 1 < argc) session_arg = QString::fromLocal8Bit(argv[i + 1]);
        else if (a.rfind("--session=", 0) == 0) session_arg = QString::fromLocal8Bit(argv[i] + 10);
    }
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("SparseScope"));
    QApplication::setOrganizationName(QStringLiteral("SparseScope"));
    QApplication::setWindowIcon(QIcon(QStringLiteral(SPARSESCOPE_RESOURCE_DIR "/icons/sparsescope.svg")));

    QCommandLineParser cli;
    cli.setApplicationDescription(QStringLiteral("Explore sparse, quantized and mixture-of-experts models."));
    cli.addHelpOption();
    cli.addPositionalArgument(QStringLiteral("model"), QStringLiteral("Model directory or .safetensors file."), QStringLiteral("[model]"));
    QCommandLineOption model_opt(QStringLiteral("model"), QStringLiteral("Model to open."), QStringLiteral("path"));
    QCommandLineOption data_opt(QStringLiteral("data"), QStringLiteral("Dataset to open (IDX directory or images file, CSV, NPY; for a language model a .txt to tokenize or token ids in .npy)."), QStringLiteral("path"),
                                QStringLiteral(SPARSESCOPE_DEFAULT_DATASET));
    QCommandLineOption session_opt(QStringLiteral("session"), QStringLiteral("Session file to open."), QStringLiteral("file"));
    QCommandLineOption shot_opt(QStringLiteral("screenshot"), QStringLiteral("Evaluate a few settings, save a screenshot, quit."), QStringLiteral("png"));
    QCommandLineOption live_opt(QStringLiteral("live-benchmark"),
                                QStringLiteral("Move the sparsity slider N times in live mode, print the time from each move to its "
                                               "whole-set result (median first), quit."),
                                QStringLiteral("N"));
    QCommandLineOption nonfinite_opt(QStringLiteral("allow-nonfinite"),
                                     QStringLiteral("Load models with NaN or infinite weights (refused by default)."));
    QCommandLineOption probe_opt(QStringLiteral("measure-responsiveness"),
                                 QStringLiteral("Load the model, evaluate once with the controls' settings, print the longest GUI-thread "
                                                "stall during each (ms), quit (exit 2 when one exceeds 100 ms)."));
    cli.addOptions({model_opt, data_opt, session_opt, shot_opt, live_opt, nonfinite_opt, probe_opt});
    cli.process(app);

    QString model_path = cli.value(model_opt);
    if (model_path.isEmpty() && !cli.positionalArguments().isEmpty()) model_path = cli.positionalArguments().first();
    if (model_path.isEmpty()) model_path = default_model_path();

    ssui::MainWindow w;
    w.setAllowNonfinite(cli.isSet(nonfinite_opt));
    w.show();
    // The model loads in the background (the window paints meanwhile); the data, a session and the
    // scripted modes follow once it is there (or once its failure has been shown).
    std::function<void()> ready; // --measure-responsiveness: once model and data are in
    auto after_data = [&] {
        QString err;
        if (cli.isSet(session_opt)) session_arg = cli.value(session_opt);
        if (!session_arg.isEmpty() && !w.openSession(session_arg, &err))
            QMessageBox::critical(&w, QObject::tr("Cannot open session"), err);

        if (cli.isSet(live_opt)) {
            // The first move also computes the dense baseline and measures kernel choices; it is
            // reported apart from the rest.
            const int n = std::max(2, cli.value(live_opt).toInt());
            auto times = std::make_shared<std::vector<double>>();
            w.compressionPanel()->liveCheck()->setChecked(true);
            auto move = [&w, times] { w.compressionPanel()->sparsitySlider()->setValue(10 + int(times->size() * 37) % 85); };
            QObject::connect(&w, &ssui::MainWindow::liveUpdated, &w, [times, n, move](double ms) {
                times->push_back(ms);
                if (int(times->size()) < n) {
                    QTimer::singleShot(50, move);
                    return;
                }
                std::vector<double> rest(times->begin() + 1, times->end());
                std::sort(rest.begin(), rest.end());
                std::fprintf(stderr, "live: first move %.0f ms (baseline + kernel choices); next %zu moves: median %.0f ms, min %.0f, max %.0f\n",
                             times->front(), rest.size(), rest[rest.size() / 2], rest.front(), rest.back());
                QApplication::exit(0);
            });
            QTimer::singleShot(200, &w, move);
        }

        if (cli.isSet(shot_opt)) {
            // The sweep's runs are autosaved like any others; here into a throwaway data folder.
            QStandardPaths::setTestModeEnabled(true);
            // A sweep (magnitude 0-90 % x fp32 / int8 / int4), the last run selected, then the window
            // with each tab: OUT.png (experts), OUT-class-expert.png, OUT-per-class.png, OUT-layers.png, OUT-atlas.png,
            // OUT-metrics.png (the metric plot).
            const QString out = cli.value(shot_opt);
            auto grab_all = [&w, out] {
                bool ok = true;
                const QString base = out.endsWith(QLatin1String(".png")) ? out.left(out.size() - 4) : out;
                auto save = [&](const QString& name) {
                    QApplication::processEvents();
                    const bool saved = w.grab().save(name);
                    std::fprintf(stderr, "%s %s\n", saved ? "wrote" : "could not write", qPrintable(name));
                    ok = ok && saved;
                };
                const QString names[] = {out, base + QStringLiteral("-class-expert.png"), base + QStringLiteral("-per-class.png"),
                                         base + QStringLiteral("-layers.png"), base + QStringLiteral("-atlas.png")};
                for (int tab = 0; tab < 5; ++tab) {
                    w.detailTabs()->setCurrentIndex(tab);
                    save(names[tab]);
                }
                w.detailTabs()->setCurrentIndex(0);
                w.mainTabs()->setCurrentIndex(1);
                save(base + QStringLiteral("-metrics.png"));
                w.mainTabs()->setCurrentIndex(0);
                // Two runs compared (50 % and 70 % magnitude, fp32) against a chosen baseline (the
                // dense int8 run): OUT-compare.png.
                w.useRunAsBaseline(1);
                QItemSelectionModel* sel = w.runTable()->selectionModel();
                sel->clearSelection();
                for (int row : {3, 6})
                    sel->select(w.runsView()->mapFromSource(w.runs()->index(row, 0)), QItemSelectionModel::Select | QItemSelectionModel::Rows);
                w.detailTabs()->setCurrentIndex(2);
                save(base + QStringLiteral("-compare.png"));
                w.detailTabs()->setCurrentIndex(3);
                save(base + QStringLiteral("-compare-layers.png"));
                w.detailTabs()->setCurrentIndex(0);
                // The two runs field by field: OUT-diff.png.
                if (w.showRunDiff()) {
                    if (auto* dialog = w.findChild<QDialog*>(QStringLiteral("runDiffDialog"))) {
                        QApplication::processEvents();
                        const QString name = base + QStringLiteral("-diff.png");
                        const bool saved = dialog->grab().save(name);
                        std::fprintf(stderr, "%s %s\n", saved ? "wrote" : "could not write", qPrintable(name));
                        ok = ok && saved;
                        dialog->close();
                    }
                }
                if (w.isLanguageModel()) { // OUT-tokens.png (the last run's tokens) and OUT-generate.png
                    auto wait_for = [](auto* sender, auto signal) {
                        QEventLoop loop;
                        QObject::connect(sender, signal, &loop, &QEventLoop::quit);
                        QTimer::singleShot(60000, &loop, &QEventLoop::quit);
                        loop.exec();
                    };
                    w.selectRun(w.runs()->rowCount() - 1);
                    w.mainTabs()->setCurrentWidget(w.tokenInspector());
                    if (w.tokenInspector()->busy() || !w.tokenInspector()->inspection()) wait_for(w.tokenInspector(), &ssui::TokenInspector::inspected);
                    save(base + QStringLiteral("-tokens.png"));
                    w.mainTabs()->setCurrentWidget(w.generationPanel());
                    w.generationPanel()->promptEdit()->setPlainText(QStringLiteral("And God said unto Moses,"));
                    if (w.generationPanel()->generate()) wait_for(w.generationPanel(), &ssui::GenerationPanel::finished);
                    save(base + QStringLiteral("-generate.png"));
                    w.mainTabs()->setCurrentIndex(0);
                }
                QApplication::exit(ok ? 0 : 1);
            };
            QObject::connect(w.runner(), &ssui::EvaluationRunner::finished, &w, [&w, grab_all] {
                if (!w.sweepRunning()) QTimer::singleShot(300, &w, grab_all);
            });
            QObject::connect(w.runner(), &ssui::EvaluationRunner::failed, &w, [] { QApplication::exit(1); });
            QTimer::singleShot(200, &w, [&w] {
                QString err;
                const auto plans = ss::expand_sweep(ss::parse_sweep_grid("magnitude", "0, 0.5, 0.7, 0.9", "none, int8, int4:g32", "0"));
                if (!w.runSweep(plans, &err)) {
                    std::fprintf(stderr, "screenshot: %s\n", qPrintable(err));
                    QApplication::exit(1);
                }
            });
        }
        if (ready) ready();
    };
    auto after_model = [&] {
        // A language model's text is named by --data; the built-in Fashion-MNIST is for classifiers.
        if (w.isLanguageModel() && !cli.isSet(data_opt)) return after_data();
        const QMetaObject::Connection c = QObject::connect(&w, &ssui::MainWindow::dataOpened, &w, after_data, Qt::SingleShotConnection);
        QString err;
        if (!w.openData(cli.value(data_opt), {}, &err)) {
            QObject::disconnect(c);
            QMessageBox::critical(&w, QObject::tr("Cannot open dataset"), err);
            after_data();
        }
    };
    QObject::connect(&w, &ssui::MainWindow::modelOpened, &w, after_model, Qt::SingleShotConnection);
    if (cli.isSet(probe_opt)) {
        // --measure-responsiveness: a 10 ms timer on the GUI thread; its longest gap beyond 10 ms
        // is how long the window did not respond - during the model load, then an evaluation.
        struct Probe {
            QElapsedTimer clock;
            qint64 last = 0, worst_ms = 0;
        };
        auto probe = std::make_shared<Probe>();
        probe->clock.start();
        auto* tick = new QTimer(&w);
        tick->setInterval(10);
        QObject::connect(tick, &QTimer::timeout, &w, [probe] {
            const qint64 now = probe->clock.elapsed();
            probe->worst_ms = std::max(probe->worst_ms, now - probe->last - 10);
            probe->last = now;
        });
        tick->start();
        auto load_worst = std::make_shared<qint64>(0);
        ready = [&w, probe, load_worst] {
            // Work done in the slots that led here ran on this thread: count its stall too.
            probe->worst_ms = std::max(probe->worst_ms, probe->clock.elapsed() - probe->last - 10);
            *load_worst = probe->worst_ms;
            std::fprintf(stderr, "responsiveness: model and data load %.1f s, longest GUI-thread stall %lld ms\n", probe->clock.elapsed() / 1e3,
                         (long long)*load_worst);
            QTimer::singleShot(100, &w, [&w, probe] {
                probe->worst_ms = 0;
                probe->last = probe->clock.elapsed();
                w.evaluate();
            });
        };
        QObject::connect(w.runner(), &ssui::EvaluationRunner::finished, &w, [probe, load_worst] {
            std::fprintf(stderr, "responsiveness: evaluation done, longest GUI-thread stall %lld ms\n", (long long)probe->worst_ms);
            QApplication::exit(std::max(*load_worst, probe->worst_ms) > 100 ? 2 : 0);
        });
        QObject::connect(w.runner(), &ssui::EvaluationRunner::failed, &w, [](const QString& m) {
            std::fprintf(stderr, "responsiveness: evaluation failed: %s\n", qPrintable(m));
            QApplication::exit(1);
        });
    }
    w.openModel(model_path);
    return app.exec();
}
