// flipped_gallery.cpp - images of flipped samples (flipped_gallery.h).
#include "flipped_gallery.h"

#include "sample_image.h"

#include "data/duplicates.h"
#include "eval/pruning_exemplars.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QImage>
#include <QLabel>
#include <QListWidget>
#include <QPixmap>
#include <QVBoxLayout>

#include <algorithm>

namespace ssui {

namespace {
constexpr int kZoom = 3;

} // namespace

FlippedGallery::FlippedGallery(QWidget* parent) : QWidget(parent), filter_(new QComboBox(this)), summary_(new QLabel(this)), list_(new QListWidget(this)) {
    filter_->addItem(tr("Lost: right under dense, wrong now"));
    filter_->addItem(tr("Gained: wrong under dense, right now"));
    filter_->addItem(tr("Both"));
    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Show:"), this));
    top->addWidget(filter_);
    top->addWidget(summary_, 1);
    summary_->setWordWrap(true);
    list_->setViewMode(QListView::IconMode);
    list_->setResizeMode(QListView::Adjust);
    list_->setMovement(QListView::Static);
    list_->setWordWrap(true);
    list_->setIconSize(QSize(28 * kZoom, 28 * kZoom));
    list_->setGridSize(QSize(28 * kZoom + 100, 28 * kZoom + 100)); // four lines of caption
    list_->setUniformItemSizes(true);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(top);
    layout->addWidget(list_, 1);
    connect(filter_, &QComboBox::currentIndexChanged, this, &FlippedGallery::refill);
    setRun(nullptr, nullptr, {});
}

void FlippedGallery::setRun(const ss::RunRecord* run, std::shared_ptr<const ss::Dataset> data, const std::vector<std::string>& labels) {
    has_run_ = run != nullptr;
    several_.clear();
    if (run) run_ = *run;
    data_ = std::move(data);
    labels_ = labels;
    refill();
}

void FlippedGallery::setRuns(const std::vector<const ss::RunRecord*>& runs, std::shared_ptr<const ss::Dataset> data, const std::vector<std::string>& labels) {
    if (runs.size() < 2) return setRun(runs.empty() ? nullptr : runs.front(), std::move(data), labels);
    several_.clear();
    for (const ss::RunRecord* r : runs) several_.push_back(*r);
    has_run_ = false;
    data_ = std::move(data);
    labels_ = labels;
    refill();
}

void FlippedGallery::fillExemplars() {
    filter_->setEnabled(false);
    std::vector<const ss::RunRecord*> runs;
    for (const ss::RunRecord& r : several_) runs.push_back(&r);
    ss::ExemplarReport rep;
    try {
        rep = ss::pruning_identified_exemplars(runs);
    } catch (const std::exception& e) {
        summary_->setText(tr("The selected runs cannot be compared sample by sample: %1").arg(QString::fromStdString(e.what())));
        return;
    }
    const bool same_data = data_ && data_->sha256 == several_.front().dataset_sha256;
    const int side = same_data ? ss::square_image_side(*data_) : 0;
    auto name = [&](int c) { return size_t(c) < labels_.size() ? QString::fromStdString(labels_[size_t(c)]) : QString::number(c); };
    for (size_t i = 0; i < rep.exemplars.size() && int(i) < kMaxShown; ++i) {
        const ss::PruningExemplar& e = rep.exemplars[i];
        auto* item = new QListWidgetItem(tr("#%1\n%2\nnow %3\nmean p %4").arg(e.sample).arg(name(e.label)).arg(name(e.preds.back())).arg(e.mean_p_true, 0, 'f', 2));
        QStringList preds;
        for (size_t k = 0; k < e.preds.size(); ++k) preds << tr("run %1: %2").arg(rep.run_ids[k]).arg(name(e.preds[k]));
        item->setToolTip(tr("Sample %1, true class %2, right under dense (p %3); wrong under every selected run:\n%4")
                             .arg(e.sample).arg(name(e.label)).arg(double(e.dense_p_true), 0, 'f', 3).arg(preds.join(QLatin1Char('\n'))));
        if (side > 0 && e.sample < data_->count) item->setIcon(QIcon(sample_pixmap(*data_, e.sample, side, kZoom)));
        item->setData(Qt::UserRole, e.sample);
        list_->addItem(item);
    }
    QString text = tr("%1 of %2 samples were right under dense and wrong under every one of the %3 selected runs (pruning-identified exemplars).")
                       .arg(rep.exemplars.size()).arg(rep.samples).arg(rep.run_ids.size());
    if (!same_data) text += tr(" Open the data these runs measured to see the images.");
    summary_->setText(text);
}

void FlippedGallery::refill() {
    list_->clear();
    filter_->setEnabled(true);
    if (!has_run_ && several_.size() >= 2) return fillExemplars();
    if (!has_run_ || !run_.result.has_comparison) {
        summary_->setText(has_run_ ? tr("Run %1 has no comparison with the dense model.").arg(run_.id) : tr("Select a run to see the samples it flipped."));
        return;
    }
    const std::vector<ss::FlippedSample>& all = run_.result.comparison.flipped;
    const int lost = int(std::count_if(all.begin(), all.end(), [](const ss::FlippedSample& s) { return s.lost(); }));
    // Images only from the very data the run measured.
    const bool same_data = data_ && !run_.dataset_sha256.empty() && data_->sha256 == run_.dataset_sha256;
    const int side = same_data ? ss::square_image_side(*data_) : 0;
    auto name = [&](int c) { return size_t(c) < labels_.size() ? QString::fromStdString(labels_[size_t(c)]) : QString::number(c); };
    int shown = 0, matching = 0;
    for (const ss::FlippedSample& s : all) {
        const int mode = filter_->currentIndex();
        if ((mode == 0 && !s.lost()) || (mode == 1 && s.lost())) continue;
        ++matching;
        if (shown >= kMaxShown) continue;
        // Lost: dense said the true class, the run says another; gained: the reverse.
        auto* item = new QListWidgetItem((s.lost() ? tr("#%1\n%2\nnow %3") : tr("#%1\n%2\nwas %3"))
                                             .arg(s.sample)
                                             .arg(name(s.label))
                                             .arg(name(s.lost() ? s.pred : s.dense_pred)) +
                                         tr("\np %1 → %2").arg(double(s.dense_p_true), 0, 'f', 2).arg(double(s.p_true), 0, 'f', 2));
        item->setToolTip(tr("Sample %1 of the evaluation data, true class %2.\nDense predicted %3 (p(true) %4); run %5 predicts %6 (p(true) %7).")
                             .arg(s.sample)
                             .arg(name(s.label))
                             .arg(name(s.dense_pred))
                             .arg(double(s.dense_p_true), 0, 'f', 3)
                             .arg(run_.id)
                             .arg(name(s.pred))
                             .arg(double(s.p_true), 0, 'f', 3));
        if (side > 0 && s.sample < data_->count) item->setIcon(QIcon(sample_pixmap(*data_, s.sample, side, kZoom)));
        item->setData(Qt::UserRole, s.sample);
        list_->addItem(item);
        ++shown;
    }
    QString text = tr("Run %1 flipped %2 samples: %3 lost, %4 gained; the largest change in p(true class) first.").arg(run_.id).arg(all.size()).arg(lost).arg(int(all.size()) - lost);
    if (matching > shown) text += tr(" Showing the first %1 of %2.").arg(shown).arg(matching);
    if (!same_data) text += tr(" Open the data this run measured to see the images.");
    else if (side == 0) text += tr(" The samples are not square images, so none are drawn.");
    summary_->setText(text);
}

} // namespace ssui
