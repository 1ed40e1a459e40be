// main_window_beyond.cpp - what one accuracy figure hides, in the window: the Robustness,
// Calibration, OOD and Flipped tabs, the "Robustness and OOD" evaluation, and the dataset card.
#include "main_window.h"

#include "compression_panel.h"
#include "dataset_card_dialog.h"
#include "evaluation_runner.h"
#include "flipped_gallery.h"
#include "ood_chart.h"
#include "reliability_diagram.h"
#include "robustness_chart.h"
#include "run_list_model.h"

#include "data/class_names.h"
#include "data/idx_dataset.h"
#include "eval/ood_eval.h"
#include "formats/file_io.h"
#include "session/session_db.h"

#include <QStatusBar>
#include <QTabWidget>

namespace ssui {

void MainWindow::buildBeyondAccuracyTabs() {
    robustness_chart_ = new RobustnessChart;
    reliability_ = new ReliabilityDiagram;
    ood_chart_ = new OodChart;
    gallery_ = new FlippedGallery;
    // Beside the accuracy plot: what the runs measured; the detail tabs show inside the model.
    main_tabs_->addTab(robustness_chart_, tr("Robustness"));
    main_tabs_->addTab(reliability_, tr("Calibration"));
    main_tabs_->addTab(ood_chart_, tr("OOD"));
    main_tabs_->addTab(gallery_, tr("Flipped"));
    main_tabs_->setTabToolTip(main_tabs_->indexOf(robustness_chart_), tr("Accuracy under 12 corruptions and severities, against dense"));
    main_tabs_->setTabToolTip(main_tabs_->indexOf(reliability_), tr("Reliability diagram: does the confidence match the accuracy?"));
    main_tabs_->setTabToolTip(main_tabs_->indexOf(ood_chart_), tr("Out-of-distribution: can the scores tell the data from something else?"));
    main_tabs_->setTabToolTip(main_tabs_->indexOf(gallery_), tr("The samples the run got wrong that dense got right, and the reverse"));
}

void MainWindow::showBeyondAccuracy(const std::vector<int>& rows) {
    std::vector<const ss::RunRecord*> runs;
    for (int r : rows)
        if (r >= 0 && r < runs_->rowCount()) runs.push_back(&runs_->run(r));
    robustness_chart_->setRuns(runs);
    const ss::RunRecord* one = runs.empty() ? nullptr : runs.front();
    reliability_->setRun(one);
    ood_chart_->setRun(one);
    gallery_->setRuns(runs, dataset_, classNames()); // several: the samples all of them lost
}

void MainWindow::addBeyondAccuracy(EvaluationJob* job) {
    if (isLanguageModel() || !dataset_) return;
    job->dataset_card = datasetCardJson();
    if (!panel_->beyondAccuracy() || job->live) return;
    const int side = ss::square_image_side(*dataset_);
    if (side == 0) {
        statusBar()->showMessage(tr("Robustness needs square images; this data has %1 features per sample, so only OOD is measured").arg(dataset_->features), 8000);
    } else {
        auto options = std::make_shared<ss::RobustnessOptions>();
        options->threads = job->options.threads;
        job->robustness = options;
    }
    const int features = model_->input_features();
    if (!ood_samples_ || ood_samples_->features != features) {
        ood_samples_.reset();
        const std::string glyphs = resource_dir_.toStdString() + "/ood/glyphs";
        try {
            if (!resource_dir_.isEmpty() && ss::is_directory(glyphs)) {
                auto d = std::make_shared<ss::Dataset>(ss::load_dataset(glyphs));
                if (d->features == features) ood_samples_ = d;
            }
        } catch (const std::exception&) {
        }
        if (!ood_samples_) ood_samples_ = std::make_shared<const ss::Dataset>(ss::uniform_noise_images(1000, features, 0));
    }
    job->ood = ood_samples_;
    job->ood_name = ood_samples_->format == "noise" ? "noise" : "glyphs";
}

void MainWindow::resetDatasetCard() {
    leakage_.reset();
    provenance_ = {};
    if (!dataset_) return;
    try {
        provenance_ = ss::find_dataset_provenance(*dataset_);
    } catch (const std::exception& e) {
        provenance_.origin = std::string("unreadable: ") + e.what();
        statusBar()->showMessage(QString::fromStdString(e.what()), 10000);
    }
}

std::string MainWindow::datasetCardJson() const {
    return dataset_ ? ss::dataset_card_json(*dataset_, provenance_, leakage_ ? &*leakage_ : nullptr) : std::string();
}

bool MainWindow::setDatasetCard(const ss::DatasetProvenance& provenance, const std::optional<ss::DuplicateReport>& leakage, QString* error) {
    if (!dataset_) return (*error = tr("No dataset is open")), false;
    provenance_ = provenance;
    if (leakage) leakage_ = leakage;
    refreshStatus();
    if (!session_ || session_->read_only()) return true; // later runs carry it into a session
    try {
        session_->set_dataset_card(dataset_->source_path, dataset_->sha256, datasetCardJson());
    } catch (const std::exception& e) {
        *error = QString::fromStdString(e.what());
        return false;
    }
    // The runs on this data in the table carry the card too (model cards exported from them).
    for (int r = 0; r < runs_->rowCount(); ++r) {
        const ss::RunRecord& run = runs_->run(r);
        if (run.dataset_path != dataset_->source_path || run.dataset_sha256 != dataset_->sha256 || runs_->sourceOf(r) != 0) continue;
        ss::RunRecord copy = run;
        copy.dataset_card = datasetCardJson();
        runs_->replaceRun(r, std::move(copy));
    }
    return true;
}

void MainWindow::showDatasetCard() {
    if (!dataset_ || isLanguageModel()) {
        statusBar()->showMessage(tr("Open an image or table dataset first (File ▸ Open Dataset)"), 5000);
        return;
    }
    // The training split beside the data, read in the background by the dialog's check.
    std::function<std::shared_ptr<const ss::Dataset>()> train;
    if (calibration_) {
        auto c = calibration_;
        train = [c] { return c; };
    } else if (!dataset_dir_.empty() && ss::idx_dir_has_split(dataset_dir_, "train")) {
        const std::string dir = dataset_dir_;
        train = [dir]() -> std::shared_ptr<const ss::Dataset> {
            auto d = std::make_shared<ss::Dataset>(ss::load_idx_dir(dir, "train"));
            d->class_names = ss::find_class_names(*d).names;
            return d;
        };
    }
    DatasetCardDialog dialog(dataset_, train, provenance_, leakage_, this);
    if (dialog.exec() != QDialog::Accepted) return;
    QString err;
    if (!setDatasetCard(dialog.provenance(), dialog.leakage(), &err)) showError(tr("Cannot store the dataset card"), err);
    else statusBar()->showMessage(tr("Dataset card kept: later runs record it%1").arg(session_ ? tr(", and so does the session") : QString()), 6000);
}

} // namespace ssui
