// flipped_gallery.cpp - images of flipped samples (flipped_gallery.h).
#include "flipped_gallery.h"

#include "data/duplicates.h"

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

// A square grayscale image, values as stored (0..255 for image sets), scaled up kZoom times.
QPixmap sample_pixmap(const ss::Dataset& d, int index, int side) {
    QImage img(side, side, QImage::Format_Grayscale8);
    const float* p = d.sample(index);
    for (int y = 0; y < side; ++y) {
        uchar* row = img.scanLine(y);
        for (int x = 0; x < side; ++x) row[x] = uchar(std::clamp(p[size_t(y) * size_t(side) + size_t(x)], 0.0f, 255.0f));
    }
    return QPixmap::fromImage(img.scaled(side * kZoom, side * kZoom, Qt::IgnoreAspectRatio, Qt::FastTransformation));
}
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
    if (run) run_ = *run;
    data_ = std::move(data);
    labels_ = labels;
    refill();
}

void FlippedGallery::refill() {
    list_->clear();
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
        if (side > 0 && s.sample < data_->count) item->setIcon(QIcon(sample_pixmap(*data_, s.sample, side)));
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
