// gui_main.cpp - sparsescope [MODEL] [--model PATH] [--data PATH] [--session FILE] [--screenshot PNG]
//
// Opens with the bundled demo model and the Fashion-MNIST test split unless told otherwise.
// --screenshot evaluates once, grabs the window into PNG and quits (used by scripts/screenshot).
#include "blas_setup.h"
#include "main_window.h"
#include "compression_panel.h"
#include "evaluation_runner.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QSlider>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QIcon>
#include <QMessageBox>
#include <QTabWidget>
#include <QTimer>

#include <cstdio>
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
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("SparseScope"));
    QApplication::setOrganizationName(QStringLiteral("SparseScope"));
    QApplication::setWindowIcon(QIcon(QStringLiteral(SPARSESCOPE_RESOURCE_DIR "/icons/sparsescope.svg")));

    QCommandLineParser cli;
    cli.setApplicationDescription(QStringLiteral("Explore sparse, quantized and mixture-of-experts models."));
    cli.addHelpOption();
    cli.addPositionalArgument(QStringLiteral("model"), QStringLiteral("Model directory or .safetensors file."), QStringLiteral("[model]"));
    QCommandLineOption model_opt(QStringLiteral("model"), QStringLiteral("Model to open."), QStringLiteral("path"));
    QCommandLineOption data_opt(QStringLiteral("data"), QStringLiteral("Dataset to open (IDX directory or images file)."), QStringLiteral("path"),
                                QStringLiteral(SPARSESCOPE_DEFAULT_DATASET));
    QCommandLineOption session_opt(QStringLiteral("session"), QStringLiteral("Session file to open."), QStringLiteral("file"));
    QCommandLineOption shot_opt(QStringLiteral("screenshot"), QStringLiteral("Evaluate a few settings, save a screenshot, quit."), QStringLiteral("png"));
    QCommandLineOption live_opt(QStringLiteral("live-benchmark"),
                                QStringLiteral("Move the sparsity slider N times in live mode, print the time from each move to its "
                                               "whole-set result (median first), quit."),
                                QStringLiteral("N"));
    cli.addOptions({model_opt, data_opt, session_opt, shot_opt, live_opt});
    cli.process(app);

    QString model_path = cli.value(model_opt);
    if (model_path.isEmpty() && !cli.positionalArguments().isEmpty()) model_path = cli.positionalArguments().first();
    if (model_path.isEmpty()) model_path = default_model_path();

    ssui::MainWindow w;
    w.show();
    QString err;
    if (!w.loadModel(model_path, &err)) QMessageBox::critical(&w, QObject::tr("Cannot open model"), err);
    if (!w.loadDataset(cli.value(data_opt), &err)) QMessageBox::critical(&w, QObject::tr("Cannot open dataset"), err);
    if (cli.isSet(session_opt) && !w.openSession(cli.value(session_opt), &err))
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
        // Three settings, one after another, then grab the window.
        const QString out = cli.value(shot_opt);
        auto step = std::make_shared<int>(0);
        auto next = [&w, step, out]() {
            static const int sparsity[] = {0, 50, 80};
            static const char* quant[] = {"none", "int8", "int4:g32"};
            if (*step < 3) {
                w.compressionPanel()->sparsitySlider()->setValue(sparsity[*step]);
                auto* combo = w.compressionPanel()->quantCombo();
                combo->setCurrentIndex(combo->findData(QString::fromLatin1(quant[*step])));
                ++*step;
                w.evaluate();
                return;
            }
            QTimer::singleShot(300, &w, [&w, out] {
                // The window with each detail tab: OUT.png (experts), OUT-class-expert.png, OUT-per-class.png,
                // OUT-layers.png.
                bool ok = true;
                const QString base = out.endsWith(QLatin1String(".png")) ? out.left(out.size() - 4) : out;
                const QString names[] = {out, base + QStringLiteral("-class-expert.png"), base + QStringLiteral("-per-class.png"),
                                         base + QStringLiteral("-layers.png")};
                for (int tab = 0; tab < 4; ++tab) {
                    w.detailTabs()->setCurrentIndex(tab);
                    QApplication::processEvents();
                    const bool saved = w.grab().save(names[tab]);
                    std::fprintf(stderr, "%s %s\n", saved ? "wrote" : "could not write", qPrintable(names[tab]));
                    ok = ok && saved;
                }
                w.detailTabs()->setCurrentIndex(0);
                w.mainTabs()->setCurrentIndex(1); // and the metric plot: OUT-metrics.png
                QApplication::processEvents();
                const QString metrics = base + QStringLiteral("-metrics.png");
                const bool saved = w.grab().save(metrics);
                std::fprintf(stderr, "%s %s\n", saved ? "wrote" : "could not write", qPrintable(metrics));
                w.mainTabs()->setCurrentIndex(0);
                QApplication::exit(ok && saved ? 0 : 1);
            });
        };
        QObject::connect(w.runner(), &ssui::EvaluationRunner::finished, &w, [next] { QTimer::singleShot(0, next); });
        QObject::connect(w.runner(), &ssui::EvaluationRunner::failed, &w, [] { QApplication::exit(1); });
        QTimer::singleShot(200, &w, next);
    }
    return app.exec();
}
