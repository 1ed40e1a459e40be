// gui_main.cpp - sparsescope [FILE...] [--model PATH] [--data PATH] [-s|--session FILE] [--version] [--screenshot PNG]
//
// Opens with the bundled demo model and the Fashion-MNIST test split unless told otherwise.
// --screenshot runs a small sweep, grabs the window (each tab) into PNGs and quits (scripts/screenshot).
#include "kernels/blas_setup.h"
#include "eval/machine_info.h"
#include "formats/file_kind.h"
#include "eval/sweep_grid.h"
#include "main_window.h"
#include "generation_panel.h"
#include "token_inspector.h"
#include "run_filter_proxy.h"
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
#include <filesystem>
#include <functional>
#include <memory>

namespace {
// The installed data (share/sparsescope beside bin/), else the source tree's resources/.
QString resource_dir() {
    std::error_code ec;
    const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const std::filesystem::path installed = exe.parent_path().parent_path() / "share" / "sparsescope";
        if (std::filesystem::is_directory(installed / "models", ec)) return QString::fromStdString(installed.string());
    }
    return QStringLiteral(SPARSESCOPE_RESOURCE_DIR);
}
} // namespace

int main(int argc, char** argv) {
    ss::ensure_blas_core(argv);
    for (int i = 1; i < argc; ++i) // before QApplication, which needs a display
        if (std::string(argv[i]) == "--version" || std::string(argv[i]) == "-v") {
            std::printf("%sQt %s\ndata: %s\n", ss::version_report().c_str(), qVersion(), qPrintable(resource_dir()));
            return 0;
        }
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
    QApplication::setApplicationVersion(QString::fromStdString(ss::machine_info().app_version));
    QApplication::setDesktopFileName(QStringLiteral("org.sparsescope.SparseScope"));
    QApplication::setWindowIcon(QIcon(resource_dir() + QStringLiteral("/icons/sparsescope.svg")));

    QCommandLineParser cli;
    cli.setApplicationDescription(QStringLiteral("Explore sparse, quantized and mixture-of-experts models."));
    cli.addHelpOption();
    cli.addPositionalArgument(QStringLiteral("files"),
                              QStringLiteral("Models, datasets or session files, each opened as what its content shows it is "
                                             "(a session by its SQLite header, never by its name)."),
                              QStringLiteral("[files...]"));
    QCommandLineOption version_opt({QStringLiteral("v"), QStringLiteral("version")}, QStringLiteral("Print the versions of SparseScope, OpenBLAS, SQLite and Qt, and the machine."));
    QCommandLineOption model_opt(QStringLiteral("model"), QStringLiteral("Model to open (default: the bundled demo)."), QStringLiteral("path"));
    QCommandLineOption data_opt(QStringLiteral("data"),
                                QStringLiteral("Dataset to open (IDX directory or images file, CSV, NPY; for a language model a .txt to tokenize "
                                               "or token ids in .npy). Default for classifiers: " SPARSESCOPE_DEFAULT_DATASET "."),
                                QStringLiteral("path"));
    QCommandLineOption session_opt({QStringLiteral("s"), QStringLiteral("session")}, QStringLiteral("Session file to open."), QStringLiteral("file"));
    QCommandLineOption opened_opt(QStringLiteral("print-opened"), QStringLiteral("Open what the arguments name, print what is open, quit (for scripts)."));
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
    cli.addOptions({version_opt, model_opt, data_opt, session_opt, opened_opt, shot_opt, live_opt, nonfinite_opt, probe_opt});
    cli.process(app);

    // Positional arguments (what a file manager passes with Exec=sparsescope %F) by their content.
    QString model_path = cli.value(model_opt), data_path = cli.value(data_opt);
    if (cli.isSet(session_opt)) session_arg = cli.value(session_opt);
    QStringList refused;
    for (const QString& arg : cli.positionalArguments()) {
        const ss::FileKind kind = ss::detect_file_kind(arg.toStdString());
        switch (ss::open_role(kind)) {
        case ss::OpenRole::Model:
            if (model_path.isEmpty()) model_path = arg;
            else refused << QObject::tr("%1: a second model (one model opens at a time; %2 is open)").arg(arg, model_path);
            break;
        case ss::OpenRole::Dataset: data_path = arg; break;
        case ss::OpenRole::Session: session_arg = arg; break;
        case ss::OpenRole::None:
            refused << QObject::tr("%1: %2, not a model, dataset or session").arg(arg, QString::fromStdString(ss::file_kind_description(kind)));
            break;
        }
    }
    if (model_path.isEmpty()) model_path = resource_dir() + QStringLiteral("/models/fashion-moe");

    ssui::MainWindow w;
    w.setResourceDir(resource_dir());
    w.setAllowNonfinite(cli.isSet(nonfinite_opt));
    w.show();
    // The model loads in the background (the window paints meanwhile); the data, a session and the
    // scripted modes follow once it is there (or once its failure has been shown).
    std::function<void()> ready; // --measure-responsiveness: once model and data are in
    auto after_data = [&] {
        QString err;
        if (!session_arg.isEmpty() && !w.openSession(session_arg, &err)) {
            if (cli.isSet(opened_opt)) std::fprintf(stderr, "cannot open session: %s\n", qPrintable(err));
            else QMessageBox::critical(&w, QObject::tr("Cannot open session"), err);
        }
        if (!refused.isEmpty()) {
            if (cli.isSet(opened_opt)) std::fprintf(stderr, "not opened: %s\n", qPrintable(refused.join(QStringLiteral("; "))));
            else QMessageBox::warning(&w, QObject::tr("Not opened"), QObject::tr("SparseScope did not open:\n%1").arg(refused.join(QLatin1Char('\n'))));
        }
        if (cli.isSet(opened_opt)) {
            std::fputs(qPrintable(w.openedSummary()), stdout);
            QApplication::exit(refused.isEmpty() && err.isEmpty() ? 0 : 1);
            return;
        }

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
        if (w.isLanguageModel() && data_path.isEmpty()) return after_data();
        const QMetaObject::Connection c = QObject::connect(&w, &ssui::MainWindow::dataOpened, &w, after_data, Qt::SingleShotConnection);
        QString err;
        if (!w.openData(data_path.isEmpty() ? QStringLiteral(SPARSESCOPE_DEFAULT_DATASET) : data_path, {}, &err)) {
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
