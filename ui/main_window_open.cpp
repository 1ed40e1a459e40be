// main_window_open.cpp - MainWindow: opening models and data in the background, so the window
// keeps painting and answering while a large model is read or a dataset is parsed or tokenized.
#include "main_window.h"

#include "app_settings.h"
#include "formats/file_io.h"
#include "formats/model_io.h"
#include "run_list_model.h"

#include <QFutureWatcher>
#include <QStatusBar>
#include <QtConcurrent>

namespace ssui {

void MainWindow::openModel(const QString& path) {
    if (model_loading_) {
        statusBar()->showMessage(tr("A model is still loading; open %1 when it is done").arg(path), 5000);
        return;
    }
    model_loading_ = true;
    statusBar()->showMessage(tr("Loading %1…").arg(path));
    using Result = std::pair<std::shared_ptr<const ss::Model>, QString>;
    auto* watcher = new QFutureWatcher<Result>(this);
    const bool allow = allow_nonfinite_;
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, path] {
        const Result r = watcher->result();
        watcher->deleteLater();
        model_loading_ = false;
        if (!r.first) {
            statusBar()->showMessage(tr("Cannot open %1").arg(path), 10000);
            emit modelOpened(false, r.second);
            showError(tr("Cannot open model"), r.second, FailedAction::OpenModel);
            return;
        }
        setModel(r.first);
        AppSettings::addRecent(AppSettings::Recent::Model, path);
        statusBar()->showMessage(tr("Opened %1").arg(path), 5000);
        emit modelOpened(true, {});
    });
    watcher->setFuture(QtConcurrent::run([this, path, allow]() -> Result {
        try {
            return {std::make_shared<const ss::Model>(ss::load_model(path.toStdString(), allow)), {}};
        } catch (const std::exception& e) {
            return {nullptr, modelLoadError(path, e)};
        }
    }));
}

bool MainWindow::openData(const QString& path, const QString& label_column, QString* error) {
    if (data_loading_) {
        if (error) *error = tr("Data is still loading; open %1 when it is done").arg(path);
        return false;
    }
    // Text is tokenized with the loaded language model's tokenizer; everything else is a dataset.
    const bool text = isLanguageModel() || path.endsWith(QLatin1String(".txt")) || path.endsWith(QLatin1String(".txt.gz"));
    if (text && !isLanguageModel()) return loadText(path, error); // refused, by name
    data_loading_ = true;
    statusBar()->showMessage(tr("Loading %1…").arg(path));
    struct Result {
        std::shared_ptr<const ss::Dataset> dataset;
        std::shared_ptr<const ss::TokenData> tokens;
        QString error;
    };
    auto* watcher = new QFutureWatcher<Result>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, path] {
        const Result r = watcher->result();
        watcher->deleteLater();
        data_loading_ = false;
        if (!r.error.isEmpty()) {
            statusBar()->showMessage(tr("Cannot open %1").arg(path), 10000);
            emit dataOpened(false, r.error);
            showError(tr("Cannot open dataset"), r.error, FailedAction::OpenDataset);
            return;
        }
        if (r.tokens) {
            setTokens(r.tokens);
        } else {
            setDataset(r.dataset);
            dataset_dir_ = ss::is_directory(path.toStdString()) ? path.toStdString() : std::string();
            calibration_.reset();
        }
        AppSettings::addRecent(AppSettings::Recent::Dataset, path);
        statusBar()->showMessage(tr("Opened %1").arg(path), 5000);
        emit dataOpened(true, {});
    });
    std::shared_ptr<const ss::Model> model = text ? model_ : nullptr;
    const std::string column = label_column.toStdString();
    watcher->setFuture(QtConcurrent::run([path, model, column]() -> Result {
        try {
            if (model)
                return {nullptr, std::make_shared<const ss::TokenData>(ss::load_token_data(path.toStdString(), model->lm.vocab, model->lm.tokenizer_path, {})), {}};
            ss::DatasetOptions options;
            options.label_column = column;
            return {std::make_shared<const ss::Dataset>(ss::load_dataset(path.toStdString(), options)), nullptr, {}};
        } catch (const std::exception& e) {
            return {nullptr, nullptr, QString::fromStdString(e.what())};
        }
    }));
    return true;
}

QString MainWindow::openedSummary() const {
    const QString none = tr("(none)");
    const QString model = model_ ? QString::fromStdString(model_->source_path.empty() ? model_->name : model_->source_path) : none;
    const QString data = tokens_ ? QString::fromStdString(tokens_->source_path) : dataset_ ? QString::fromStdString(dataset_->source_path) : none;
    const int runs = runs_->rowCount() - runs_->deletedCount();
    const QString session = session_path_.isEmpty() ? none : QStringLiteral("%1 (%2)").arg(session_path_, runs == 1 ? tr("1 run") : tr("%1 runs").arg(runs));
    return tr("model: %1\ndata: %2\nsession: %3\n").arg(model, data, session);
}

} // namespace ssui
