// dataset_card_dialog.h - Data > Dataset Card: what SparseScope measured of the open dataset, the
// provenance found beside it (editable: what is missing is asked for here), and the duplicate and
// train/test leakage check (data/duplicates.h), run in the background, with the pairs it found.
#pragma once

#include "data/dataset.h"
#include "data/dataset_card.h"
#include "data/duplicates.h"

#include <QDialog>
#include <QFutureWatcher>

#include <functional>
#include <memory>
#include <optional>

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTableWidget;

namespace ssui {

class DatasetCardDialog : public QDialog {
    Q_OBJECT
public:
    // `train_split`: the training data to check leakage against (may return null: within the split only).
    DatasetCardDialog(std::shared_ptr<const ss::Dataset> data, std::function<std::shared_ptr<const ss::Dataset>()> train_split,
                      const ss::DatasetProvenance& provenance, const std::optional<ss::DuplicateReport>& leakage, QWidget* parent = nullptr);
    ~DatasetCardDialog() override;

    ss::DatasetProvenance provenance() const; // as shown, edits included ("entered by the user" when edited)
    const std::optional<ss::DuplicateReport>& leakage() const { return leakage_; }
    const std::optional<ss::DuplicateReport>& duplicates() const { return within_; }
    void checkDuplicates(); // the Check button: starts the search in the background
    bool searching() const { return watcher_.isRunning(); }
    QPushButton* checkButton() const { return check_; }
    QTableWidget* pairsTable() const { return pairs_; }
    QLabel* leakageSummary() const { return result_; }
    QLineEdit* licenseEdit() const { return license_; }
    // Writes the provenance as dataset-card.json beside the data (the Save button).
    bool saveSidecar(QString* error);

signals:
    void searchFinished();

private:
    void showReports();
    std::shared_ptr<const ss::Dataset> data_, train_;
    std::function<std::shared_ptr<const ss::Dataset>()> train_split_;
    ss::DatasetProvenance original_;
    QLineEdit *name_, *license_, *source_;
    QPlainTextEdit *description_, *citation_, *collection_;
    QLabel* origin_;
    QLabel* result_;
    QPushButton* check_;
    QTableWidget* pairs_;
    std::optional<ss::DuplicateReport> leakage_, within_;
    QFutureWatcher<std::pair<std::optional<ss::DuplicateReport>, std::optional<ss::DuplicateReport>>> watcher_;
};

} // namespace ssui
