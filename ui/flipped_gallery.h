// flipped_gallery.h - the samples that flipped between the dense model and a run (Comparison::
// flipped): each image with its true class and both predictions, the largest change in the
// probability of the true class first. Lost (right under dense, wrong now), gained, or both.
#pragma once

#include "data/dataset.h"
#include "eval/run_record.h"

#include <QWidget>

#include <memory>
#include <string>
#include <vector>

class QComboBox;
class QLabel;
class QListWidget;

namespace ssui {

class FlippedGallery : public QWidget {
    Q_OBJECT
public:
    explicit FlippedGallery(QWidget* parent = nullptr);
    // `data` must be the data the run was measured on (its SHA-256) to show images; otherwise the
    // gallery lists the samples without them and says why.
    void setRun(const ss::RunRecord* run, std::shared_ptr<const ss::Dataset> data, const std::vector<std::string>& labels);
    // Two or more runs: the samples every one of them lost (pruning-identified exemplars,
    // eval/pruning_exemplars.h), the most surely forgotten first; the filter does not apply.
    void setRuns(const std::vector<const ss::RunRecord*>& runs, std::shared_ptr<const ss::Dataset> data, const std::vector<std::string>& labels);
    QListWidget* list() const { return list_; }
    QComboBox* filterCombo() const { return filter_; }
    QLabel* summary() const { return summary_; }

    static constexpr int kMaxShown = 300;

private:
    void refill();
    void fillExemplars();
    std::vector<ss::RunRecord> several_; // two or more runs: their common lost samples
    QComboBox* filter_;
    QLabel* summary_;
    QListWidget* list_;
    ss::RunRecord run_;
    bool has_run_ = false;
    std::shared_ptr<const ss::Dataset> data_;
    std::vector<std::string> labels_;
};

} // namespace ssui
