// main_window.h - the SparseScope main window: controls on the left, plots and runs on the right.
#pragma once

#include "compress/compression_plan.h"
#include "data/dataset.h"
#include "data/dataset_card.h"
#include "data/duplicates.h"
#include "data/token_data.h"
#include "error_hints.h"
#include "model/model.h"
#include "eval/run_record.h"

#include <QElapsedTimer>
#include <QMainWindow>

#include <map>
#include <memory>
#include <optional>
#include <vector>

class QLabel;
class QTimer;
namespace ssui { class RecoveryDialog; }
class QMenu;
class QSplitter;
class QLineEdit;
class QSortFilterProxyModel;
class QUndoStack;
class QAction;
class QTabWidget;
class QTableView;
class QCustomPlot;

namespace ss {
class SessionDb;
}

namespace ssui {

class EmptyState;

class AccuracyLatencyPlot;
class ClassDeltaChart;
class ClassExpertHeatmap;
class ExpertAtlas;
class GenerationPanel;
class LmEvalPanel;
class TokenInspector;
class LayerCostChart;
class LayerTree;
class MetricPlot;
class CompressionPanel;
class EvaluationRunner;
class InputPanel;
class ExpertShareChart;
class RobustnessChart;
class ReliabilityDiagram;
class OodChart;
class FlippedGallery;
class RunListModel;
class RunFilterProxy;
struct BaselineCache;
struct EvaluationJob;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Non-interactive entry points (used by main, menus and tests). On failure they return false
    // and put the engine's message in *error; nothing already loaded is lost.
    bool loadModel(const QString& path, QString* error);
    // The same in the background (menus, drops, recent files, start-up): the window stays
    // responsive while a large model is read; modelOpened reports the outcome, and a failure is
    // also shown in a dialog. A second call while one loads is refused with a status message.
    void openModel(const QString& path);
    bool modelLoading() const { return model_loading_; }
    // A dataset or text (as loadDataset takes) in the background; dataOpened reports the outcome
    // (a failure is also shown in a dialog). False at once, with the reason, when it cannot start:
    // data is loading, or text is given without a language model to tokenize it.
    bool openData(const QString& path, const QString& csv_label_column = {}, QString* error = nullptr);
    bool dataLoading() const { return data_loading_; }
    // Whether models with NaN or infinite weights are loaded (sparsescope --allow-nonfinite); refused by default.
    void setAllowNonfinite(bool allow) { allow_nonfinite_ = allow; }
    bool loadDataset(const QString& path, QString* error, const QString& csv_label_column = {});
    void setModel(std::shared_ptr<const ss::Model> model);
    void setDataset(std::shared_ptr<const ss::Dataset> dataset);

    // Language models (main_window_lm.cpp). A text (.txt, .txt.gz: tokenized with the model's
    // tokenizer) or token ids (.npy) to evaluate on; what loadDataset does when the model is a
    // language model. Each evaluation scores `chunks` chunks of `ctx` tokens and times
    // `gen_tokens` generated tokens; the dense model's distributions and speed are measured by the
    // first run and kept in the baseline cache on disk (lm_baseline_cache.h) for every later one.
    bool isLanguageModel() const { return model_ && model_->task == ss::EvalTask::LanguageModeling; }
    bool loadText(const QString& path, QString* error);
    void setTokens(std::shared_ptr<const ss::TokenData> tokens);
    const ss::TokenData* tokens() const { return tokens_.get(); }
    void setLanguageModelEvaluation(int ctx, int chunks, int gen_tokens);
    // Text for plans that need calibration (Wanda, dropping experts by use, bits by use): File >
    // Open Calibration Text…; it should not be the evaluation text.
    bool loadCalibrationText(const QString& path, QString* error);
    const ss::TokenData* calibrationText() const { return calib_tokens_.get(); }
    int lmContext() const;
    int lmChunks() const { return lm_chunks_; }
    // Sessions (main_window_session.cpp). Every run is committed to the open session the moment
    // it finishes; before the first run of a new session, an untitled one is created in the
    // application's data folder. Open: read-write, or read-only (said in the title) when the file
    // is read-only. Save As: a copy of the whole session, which then stays open at the new path.
    bool newSession();
    bool openSession(const QString& path, QString* error);
    bool saveSession(const QString& path, QString* error); // Save As
    // Another session's runs beside this one's (table, plots, diff), read-only and not saved here.
    bool addComparisonSession(const QString& path, QString* error);
    QString sessionPath() const { return session_path_; }
    // What is open, one "model: …", "data: …", "session: … (N runs)" line each (sparsescope --print-opened).
    QString openedSummary() const;
    // A runs-table column shown or hidden by the user (the header's context menu): overrides the
    // automatic hiding of columns every run shares, until "Automatic" on that menu.
    void setColumnShown(int column, bool shown);
    // Help (help_menu.cpp): About's text (versions of SparseScope, OpenBLAS, SQLite, Qt; the
    // machine) and every menu action with a shortcut, as (menu ▸ action, keys).
    QString aboutText() const;
    std::vector<std::pair<QString, QString>> shortcuts() const;
    bool sessionIsUntitled() const { return session_untitled_; }
    ss::SessionDb* session() const { return session_.get(); }
    // Run > Diff Two Runs: the two selected runs field by field (dialog); false without two selected.
    bool showRunDiff();
    QLabel* comparisonWarning() const { return warning_label_; }
    QLabel* kernelStatus() const { return kernel_label_; }
    // The charts, for export: the accuracy plot and the three detail tabs.
    enum class Chart { AccuracyLatency, ExpertShare, ClassExpert, ClassDelta, Layers, Metrics, ExpertAtlas, Robustness, Calibration, Ood };
    // The chart of the main (left) or detail (right) tab in view, and a file name for it; false on
    // a tab without one (Flipped, Tokens, Generate).
    bool mainChart(Chart* chart, QString* file_name) const;
    bool detailChart(Chart* chart, QString* file_name) const;
    // .png, .pdf or .svg, by suffix, at width x height.
    bool exportChart(const QString& path, QString* error, Chart chart = Chart::AccuracyLatency, int width = 1200, int height = 800);
    QCustomPlot* chartPlot(Chart chart) const;
    // The runs as the table shows them (sorted, filtered): .csv (the visible columns, as displayed)
    // or .json (every field of each run, as `sparsescope-cli eval --json` prints it).
    bool exportRuns(const QString& path, QString* error);
    // Puts the chart on the clipboard as an image (Edit > Copy Chart copies the one in view).
    void copyChart(Chart chart);
    // Opens a dropped or given path by what it is: a session file, a model (.safetensors, .onnx
    // or a directory with config.json; in the background, see openModel) or a dataset or text (in
    // the background, see openData). False with the reason when it cannot be opened or started.
    bool openPath(const QString& path, QString* error);
    // The loaded model compressed with the panel's settings, written as classifier-v1 safetensors
    // (a directory, or one file when the path ends in .safetensors).
    // `plan` (default: the panel's settings) and `input` (default: the Input panel's) choose what is exported.
    bool exportModel(const QString& path, QString* error, const ss::CompressionPlan* plan = nullptr, const ss::InputSpec* input = nullptr);
    // A model card (Markdown, core/eval/model_card.h) of run `row` of runs(): every figure as measured.
    bool exportModelCard(int row, const QString& path, QString* error);
    bool loadPlan(const QString& path, QString* error);
    // Evaluates `plans` one after another (Run > Sweep…); finished runs are kept when it is
    // canceled. False with a message when nothing is loaded, a job runs or `plans` is empty.
    bool runSweep(std::vector<ss::CompressionPlan> plans, QString* error);
    bool sweepRunning() const { return sweep_total_ > 0; }

    // Latency samples per evaluation; tests lower it to keep runs short.
    void setLatencySamples(int samples) { latency_samples_ = samples; }

    CompressionPanel* compressionPanel() const { return panel_; }
    InputPanel* inputPanel() const { return input_panel_; }
    EvaluationRunner* runner() const { return runner_; }
    RunListModel* runs() const { return runs_; }
    AccuracyLatencyPlot* accuracyPlot() const { return accuracy_plot_; }
    ExpertShareChart* expertChart() const { return expert_chart_; }
    ClassExpertHeatmap* classExpertHeatmap() const { return heatmap_; }
    ExpertAtlas* expertAtlas() const { return atlas_; }
    TokenInspector* tokenInspector() const { return inspector_; }
    GenerationPanel* generationPanel() const { return generation_; }
    LmEvalPanel* lmEvalPanel() const { return lm_eval_; }
    ClassDeltaChart* classDeltaChart() const { return class_delta_; }
    LayerCostChart* layerChart() const { return layer_chart_; }
    LayerTree* layerTree() const { return layer_tree_; }
    MetricPlot* metricPlot() const { return metric_plot_; }
    QTabWidget* mainTabs() const { return main_tabs_; }
    QTabWidget* detailTabs() const { return detail_tabs_; }
    QTableView* runTable() const { return table_; }
    QSortFilterProxyModel* runsView() const; // what the table shows: sorted, filtered, without hidden and deleted runs
    QLineEdit* runFilter() const { return filter_; }
    // Selects run `row` (a row of runs()) in the table, whatever its sorting and filtering.
    void selectRun(int row);
    // Makes run `row` (of runs()) the baseline every other run is compared with in the table's
    // "vs run N" column, the per-class chart and the accuracy plot; -1 goes back to the dense model.
    void useRunAsBaseline(int row);
    // Edit > Tag Runs: sets the tags ("a, b") of the selected runs of this session; false if none.
    bool tagSelectedRuns(const QString& tags);
    // The runs selected in the table (rows of runs()), in order; two or more are compared.
    std::vector<int> selectedRuns() const;

    // Runs the user hides, deletes, restores and purges (rows of runs(); main_window_run_edits.cpp).
    // Each is one step on undoStack() (Edit > Undo), written to the session at once. Deleting
    // takes runs of this session only; a deleted run leaves the file only on purgeDeletedRuns.
    // The live preview can be neither hidden nor deleted (the next live result would bring it
    // back). False with the reason when none of `rows` can be.
    bool hideRuns(const std::vector<int>& rows, bool hide, QString* error);
    bool deleteRuns(const std::vector<int>& rows, QString* error);
    bool restoreDeletedRuns(QString* error); // every deleted run of this session
    int purgeDeletedRuns(QString* error);    // how many left the file; -1 on failure (nothing lost)
    void setShowHiddenRuns(bool show);       // View > Show Hidden Runs
    QUndoStack* undoStack() const { return undo_; }
    // Run > Load Settings of Run: the controls set to what run `row` was measured with.
    bool loadRunSettings(int row, QString* error);
    // Run > Export Run's Model: the loaded model compressed as run `row` was (it must be the
    // model that run measured), written like File > Export Compressed Model.
    bool exportRunModel(int row, const QString& path, QString* error);
    // Run > Recover Accuracy (main_window_recovery.cpp): opens the fine-tuning dialog for run `row`
    // (a classifier run of the loaded model, on a dataset folder with a train split); its recovered
    // run is added to the session when it ends. Null with the reason when it cannot start.
    RecoveryDialog* recoverAccuracy(int row, QString* error);

    // The live row (a preview the next live result replaces), or -1; and how long the last live
    // update took from the control change to its whole-set result (ms), -1 before any.
    // Beyond accuracy (main_window_beyond.cpp). The Robustness, Calibration, OOD and Flipped tabs
    // follow the selected runs. The dataset's card: provenance found beside the data or entered in
    // File > Dataset Card, and the leakage check; every later run records it, and the session's
    // dataset row takes it at once.
    RobustnessChart* robustnessChart() const { return robustness_chart_; }
    ReliabilityDiagram* reliabilityDiagram() const { return reliability_; }
    OodChart* oodChart() const { return ood_chart_; }
    FlippedGallery* flippedGallery() const { return gallery_; }
    const ss::DatasetProvenance& datasetProvenance() const { return provenance_; }
    const std::optional<ss::DuplicateReport>& datasetLeakage() const { return leakage_; }
    // Applies a card as the dialog's OK does; false with the reason when the session did not take it.
    bool setDatasetCard(const ss::DatasetProvenance& provenance, const std::optional<ss::DuplicateReport>& leakage, QString* error);
    std::string datasetCardJson() const; // the open dataset's card as runs record it ("" without a dataset)
    void showDatasetCard();              // File > Dataset Card (a modal dialog)
    // Where the program's data is (share/sparsescope when installed): OOD glyphs come from there;
    // without it, OOD separation is measured against uniform noise.
    void setResourceDir(const QString& dir) { resource_dir_ = dir; }
    int liveRow() const { return live_row_; }
    double lastLiveMs() const { return last_live_ms_; }

signals:
    void liveUpdated(double ms); // a live whole-set result arrived, `ms` after the control change
    void modelOpened(bool ok, const QString& error); // the outcome of openModel
    void dataOpened(bool ok, const QString& error);  // the outcome of openData

public slots:
    void evaluate();

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void buildMenus();
    void buildHelpMenu(); // help_menu.cpp
    void showColumnMenu(const QPoint& at); // the runs table header's context menu: columns shown
    bool makeJob(EvaluationJob* job, QString* error, const ss::CompressionPlan* plan = nullptr);
    bool makeLmJob(EvaluationJob* job, QString* error); // the language-model part of makeJob
    bool hasData() const { return model_ && (isLanguageModel() ? tokens_ != nullptr : dataset_ != nullptr); }
    QString lmModelText() const; // the model panel's text for a language model
    QString lmDataText() const;  // the data label's text for token data
    // The token inspector and the generation panel follow the selected run (or, with none, the
    // controls); the inspector computes only while its tab is in view.
    void refreshLmViews();
    void startNextSweepRun();
    void buildBeyondAccuracyTabs();
    void showBeyondAccuracy(const std::vector<int>& rows);
    void addBeyondAccuracy(EvaluationJob* job); // robustness and OOD when the panel asks for them
    void resetDatasetCard();                    // a new dataset: its provenance looked up, no leakage checked
    void showComparison(const std::vector<int>& rows);
    void endSweep(const QString& message);
    void startLive(bool quick);
    void fillRecentMenu(QMenu* menu);
    void saveLayout();
    void showSelectedRun(int row);
    const ss::RunRecord* baselineRecord() const; // the chosen baseline run, or null
    // Rows' deletion times (empty: restored) in the table and the session; false (and a status
    // message, the window marked unsaved) when the session did not take them all.
    bool setRunsDeletedAt(const std::vector<int>& rows, const std::vector<std::string>& deleted_at);
    std::vector<std::string> classNames() const; // the loaded model's class names, or the dataset's (class_names.h)
    void persistRun(int row);                    // commits run `row` (an own run) to the session
    bool ensureSession(QString* error);          // the untitled session, on first need
    void adoptSession(std::unique_ptr<ss::SessionDb> db, bool untitled);
    std::vector<QString> plotGroups() const;     // per run: its session (or model) when runs come from several
    void refreshComparisonWarning();             // the banner over the table when compared runs are not like for like
    void refreshStatus();
    bool confirmDiscardUnsaved();
    // A dialog with the engine's message and, below it, what the user can do (error_hints.h).
    void showError(const QString& title, const QString& message, FailedAction hint = FailedAction::None);
    // Calibration samples for `plan`, loading the dataset's train split on first need. False
    // (with a message) when the plan needs them and there are none.
    bool calibrationFor(const ss::CompressionPlan& plan, std::shared_ptr<const ss::Dataset>* out, QString* error);
    bool trainSplit(std::shared_ptr<const ss::Dataset>* out, QString* error); // the train split beside dataset_ (kept in calibration_)

    std::shared_ptr<const ss::Model> model_;
    std::shared_ptr<const ss::Dataset> dataset_;
    std::shared_ptr<const ss::TokenData> tokens_; // a language model's evaluation text
    std::shared_ptr<const ss::TokenData> calib_tokens_; // and its calibration text
    int lm_ctx_ = 128, lm_chunks_ = 8, lm_gen_tokens_ = 16;
    // The (model, text) whose dense speed this window has measured: the first run on a new pair
    // times the dense model beside it (a cached timing may be from another day or load).
    std::pair<const void*, const void*> lm_dense_timed_{nullptr, nullptr};
    std::shared_ptr<const ss::Dataset> calibration_; // the train split beside dataset_, loaded when a plan needs it
    std::string dataset_dir_;                        // where dataset_ came from, to find that split
    std::shared_ptr<BaselineCache> baseline_;
    CompressionPanel* panel_;
    InputPanel* input_panel_;
    EvaluationRunner* runner_;
    RunListModel* runs_;
    AccuracyLatencyPlot* accuracy_plot_;
    ExpertShareChart* expert_chart_;
    ClassExpertHeatmap* heatmap_;
    ExpertAtlas* atlas_;
    TokenInspector* inspector_ = nullptr;
    GenerationPanel* generation_ = nullptr;
    LmEvalPanel* lm_eval_ = nullptr;
    ClassDeltaChart* class_delta_;
    LayerCostChart* layer_chart_;
    LayerTree* layer_tree_ = nullptr;
    MetricPlot* metric_plot_;
    RobustnessChart* robustness_chart_ = nullptr;
    ReliabilityDiagram* reliability_ = nullptr;
    OodChart* ood_chart_ = nullptr;
    FlippedGallery* gallery_ = nullptr;
    ss::DatasetProvenance provenance_;
    std::optional<ss::DuplicateReport> leakage_;
    QString resource_dir_;
    std::shared_ptr<const ss::Dataset> ood_samples_; // glyphs (or noise) for the model's input size, made on first need
    QTabWidget* main_tabs_;
    QTabWidget* detail_tabs_;
    RunFilterProxy* proxy_ = nullptr;
    QUndoStack* undo_ = nullptr;
    QAction* show_hidden_action_ = nullptr;
    QLineEdit* filter_ = nullptr;
    void hideConstantColumns();
    QSplitter* main_split_ = nullptr;
    QSplitter* right_split_ = nullptr;
    QSplitter* plots_split_ = nullptr;
    QLabel* machine_label_ = nullptr; // permanent, right of the status bar
    QLabel* kernel_label_ = nullptr;  // permanent: threads, and the kernel plan of the selected run
    QTimer* live_timer_ = nullptr;     // debounce of control changes in live mode
    QElapsedTimer live_clock_;         // since the change being evaluated
    std::map<int, bool> column_choice_; // runs table column -> shown, as the user chose (overrides the automatic hiding)
    EmptyState* empty_state_ = nullptr; // the first-run hint over the empty runs table
    int live_row_ = -1;
    bool replace_live_row_ = false; // the explicit run under way takes the live row (Evaluate with Live on)
    double last_live_ms_ = -1.0;
    std::vector<ss::CompressionPlan> sweep_queue_; // plans still to run, in order
    int sweep_total_ = 0, sweep_done_ = 0;          // 0 total: no sweep
    QElapsedTimer sweep_clock_;
    QTableView* table_;
    QLabel* model_label_;
    QLabel* dataset_label_;
    QString session_path_;
    std::unique_ptr<ss::SessionDb> session_;
    bool session_untitled_ = false;
    QLabel* warning_label_ = nullptr;
    bool dirty_ = false; // own runs not in the session file (a write failed, or no session could be made)
    int latency_samples_ = 200;
    bool allow_nonfinite_ = false;
    bool model_loading_ = false, data_loading_ = false;
    QString modelLoadError(const QString& path, const std::exception& e) const;
};

} // namespace ssui
