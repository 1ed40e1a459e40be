// dataset_card_dialog.cpp - the dataset's card, its provenance and its leakage check (dataset_card_dialog.h).
#include "dataset_card_dialog.h"

#include "sample_image.h"

#include "formats/file_io.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QPixmap>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QThread>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <filesystem>

namespace ssui {

namespace {
constexpr int kPairsShown = 200;

QString class_name(const ss::Dataset& d, int index) {
    const int l = d.labels[size_t(index)];
    return size_t(l) < d.class_names.size() ? QString::fromStdString(d.class_names[size_t(l)]) : QString::number(l);
}
} // namespace

DatasetCardDialog::DatasetCardDialog(std::shared_ptr<const ss::Dataset> data, std::function<std::shared_ptr<const ss::Dataset>()> train_split,
                                     const ss::DatasetProvenance& provenance, const std::optional<ss::DuplicateReport>& leakage, QWidget* parent)
    : QDialog(parent), data_(std::move(data)), train_split_(std::move(train_split)), original_(provenance), leakage_(leakage) {
    setWindowTitle(tr("Dataset Card"));
    const ss::Dataset& d = *data_;
    auto* layout = new QVBoxLayout(this);

    auto* facts = new QGroupBox(tr("What SparseScope measured"), this);
    auto* ff = new QFormLayout(facts);
    ff->addRow(tr("Path"), new QLabel(QString::fromStdString(d.source_path), facts));
    auto* sha = new QLabel(QString::fromStdString(d.sha256), facts);
    sha->setTextInteractionFlags(Qt::TextSelectableByMouse);
    ff->addRow(tr("SHA-256"), sha);
    ff->addRow(tr("Format"), new QLabel(tr("%1, %2 samples of %3 values").arg(QString::fromStdString(d.format)).arg(d.count).arg(d.features), facts));
    QStringList balance;
    const std::vector<int> counts = d.class_counts();
    for (size_t c = 0; c < counts.size(); ++c)
        balance << QStringLiteral("%1 %2").arg(c < d.class_names.size() ? QString::fromStdString(d.class_names[c]) : QString::number(c)).arg(counts[c]);
    auto* bal = new QLabel(balance.join(QStringLiteral(", ")), facts);
    bal->setWordWrap(true);
    ff->addRow(tr("Classes"), bal);
    layout->addWidget(facts);

    auto* prov = new QGroupBox(tr("Provenance (what only a person can say)"), this);
    auto* pf = new QFormLayout(prov);
    origin_ = new QLabel(prov);
    origin_->setWordWrap(true);
    origin_->setText(provenance.origin.empty()
                         ? tr("<b>Nothing found beside the data.</b> Please state at least its licence and source: they go into every run's "
                              "model card. Save writes them as dataset-card.json beside the data.")
                         : tr("Read from %1.").arg(QString::fromStdString(provenance.origin).toHtmlEscaped()));
    pf->addRow(origin_);
    name_ = new QLineEdit(QString::fromStdString(provenance.name), prov);
    license_ = new QLineEdit(QString::fromStdString(provenance.license), prov);
    license_->setPlaceholderText(tr("an SPDX identifier, e.g. MIT or CC-BY-4.0"));
    source_ = new QLineEdit(QString::fromStdString(provenance.source), prov);
    source_->setPlaceholderText(tr("a URL, or where the files came from"));
    auto text_box = [&](const std::string& v, const QString& hint) {
        auto* e = new QPlainTextEdit(QString::fromStdString(v), prov);
        e->setPlaceholderText(hint);
        e->setFixedHeight(e->fontMetrics().lineSpacing() * 3 + 10);
        return e;
    };
    description_ = text_box(provenance.description, tr("what the samples are"));
    citation_ = text_box(provenance.citation, tr("how to cite it"));
    collection_ = text_box(provenance.collection, tr("how the samples were collected and labelled"));
    pf->addRow(tr("&Name"), name_);
    pf->addRow(tr("&Licence"), license_);
    pf->addRow(tr("&Source"), source_);
    pf->addRow(tr("&Description"), description_);
    pf->addRow(tr("&Citation"), citation_);
    pf->addRow(tr("C&ollection"), collection_);
    layout->addWidget(prov);

    auto* leak = new QGroupBox(tr("Duplicates and train/test leakage"), this);
    auto* lv = new QVBoxLayout(leak);
    auto* row = new QHBoxLayout;
    check_ = new QPushButton(tr("C&heck"), leak);
    check_->setToolTip(tr("Exact copies (identical values) and near duplicates (difference hash within 4 bits, then pixels within 4 % RMS),\n"
                          "within this split and against the training split beside it. A few seconds for Fashion-MNIST."));
    result_ = new QLabel(tr("Not checked yet."), leak);
    result_->setWordWrap(true);
    row->addWidget(check_);
    row->addWidget(result_, 1);
    lv->addLayout(row);
    pairs_ = new QTableWidget(0, 6, leak);
    pairs_->setHorizontalHeaderLabels({tr("This split"), tr("Other"), tr("Kind"), tr("dHash bits"), tr("RMS"), tr("Labels")});
    pairs_->verticalHeader()->hide();
    pairs_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    pairs_->setIconSize(QSize(56, 56));
    pairs_->horizontalHeader()->setStretchLastSection(true);
    lv->addWidget(pairs_, 1);
    layout->addWidget(leak, 1);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    auto* save = buttons->addButton(tr("Save dataset-card.json"), QDialogButtonBox::ActionRole);
    save->setToolTip(tr("Writes the provenance beside the data, where SparseScope and sparsescope-cli data --card find it next time"));
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(save, &QPushButton::clicked, this, [this] {
        QString err;
        if (saveSidecar(&err)) origin_->setText(tr("Saved beside the data."));
        else origin_->setText(tr("<b>Not saved:</b> %1").arg(err.toHtmlEscaped()));
    });
    connect(check_, &QPushButton::clicked, this, &DatasetCardDialog::checkDuplicates);
    connect(&watcher_, &QFutureWatcherBase::finished, this, [this] {
        check_->setEnabled(true);
        try {
            auto [within, leakage] = watcher_.result();
            within_ = std::move(within);
            if (leakage) leakage_ = std::move(leakage);
            showReports();
        } catch (const std::exception& e) {
            result_->setText(tr("The check failed: %1").arg(QString::fromStdString(e.what())));
        }
        emit searchFinished();
    });
    if (leakage_) showReports();
    resize(760, 820);
}

DatasetCardDialog::~DatasetCardDialog() { watcher_.waitForFinished(); }

ss::DatasetProvenance DatasetCardDialog::provenance() const {
    ss::DatasetProvenance p;
    p.name = name_->text().trimmed().toStdString();
    p.license = license_->text().trimmed().toStdString();
    p.source = source_->text().trimmed().toStdString();
    p.description = description_->toPlainText().trimmed().toStdString();
    p.citation = citation_->toPlainText().trimmed().toStdString();
    p.collection = collection_->toPlainText().trimmed().toStdString();
    const bool same = p.name == original_.name && p.license == original_.license && p.source == original_.source &&
                      p.description == original_.description && p.citation == original_.citation && p.collection == original_.collection;
    p.origin = same ? original_.origin : std::string("entered by the user");
    return p;
}

bool DatasetCardDialog::saveSidecar(QString* error) {
    if (data_->files.empty()) return (*error = tr("the data has no file to save beside")), false;
    const std::string path = (std::filesystem::path(data_->files.front()).parent_path() / ss::kDatasetCardFile).string();
    try {
        const std::string json = ss::provenance_json(provenance()) + "\n";
        ss::write_file_bytes(path, std::vector<uint8_t>(json.begin(), json.end()));
    } catch (const std::exception& e) {
        return (*error = QString::fromStdString(e.what())), false;
    }
    original_ = provenance();
    original_.origin = path;
    return true;
}

void DatasetCardDialog::checkDuplicates() {
    if (watcher_.isRunning()) return;
    check_->setEnabled(false);
    result_->setText(tr("Checking…"));
    const int threads = std::max(1, QThread::idealThreadCount());
    auto data = data_;
    auto train_split = train_split_;
    watcher_.setFuture(QtConcurrent::run([data, train_split, threads, this]() {
        ss::DuplicateOptions o;
        o.threads = threads;
        std::optional<ss::DuplicateReport> within = ss::find_duplicates(*data, o, "this split"), leakage;
        std::shared_ptr<const ss::Dataset> train = train_split ? train_split() : nullptr;
        if (train && train->features == data->features && train->sha256 != data->sha256) {
            leakage = ss::find_leakage(*data, *train, o, "test", "train");
            train_ = train; // read back on the GUI thread after finished
        }
        return std::make_pair(std::move(within), std::move(leakage));
    }));
}

void DatasetCardDialog::showReports() {
    QStringList lines;
    auto describe = [&](const ss::DuplicateReport& r) {
        const QString what = r.second.empty() ? tr("Within this split") : tr("Against the training split (%1 samples)").arg(r.second_count);
        lines << tr("<b>%1:</b> %2 exact and %3 near-duplicate pairs (%4 look-alike candidates rejected by the pixels), %5 label conflicts; "
                    "%6 samples of this split affected.")
                     .arg(what)
                     .arg(r.exact_pairs)
                     .arg(r.near_pairs)
                     .arg(r.near_candidates - r.near_pairs)
                     .arg(r.label_conflicts)
                     .arg(r.first_affected);
    };
    if (within_) describe(*within_);
    if (leakage_) describe(*leakage_);
    if (!leakage_ && within_) lines << tr("No training split beside the data to check leakage against.");
    result_->setText(lines.join(QStringLiteral("<br>")));
    pairs_->setRowCount(0);
    const int side = ss::square_image_side(*data_);
    auto add = [&](const ss::DuplicateReport& r, const ss::Dataset* other) {
        for (const ss::DuplicatePair& p : r.pairs) {
            if (pairs_->rowCount() >= kPairsShown) return;
            const int row = pairs_->rowCount();
            pairs_->insertRow(row);
            auto* a = new QTableWidgetItem(QString::number(p.a));
            auto* b = new QTableWidgetItem(r.second.empty() ? QString::number(p.b) : tr("train %1").arg(p.b));
            if (side > 0) a->setIcon(QIcon(sample_pixmap(*data_, p.a, side, 2)));
            if (side > 0 && other && p.b < other->count) b->setIcon(QIcon(sample_pixmap(*other, p.b, side, 2)));
            pairs_->setItem(row, 0, a);
            pairs_->setItem(row, 1, b);
            pairs_->setItem(row, 2, new QTableWidgetItem(p.exact ? tr("exact") : tr("near")));
            pairs_->setItem(row, 3, new QTableWidgetItem(QString::number(p.hamming)));
            pairs_->setItem(row, 4, new QTableWidgetItem(QString::number(p.rms, 'f', 2)));
            const QString la = class_name(*data_, p.a), lb = other && p.b < other->count ? class_name(*other, p.b) : QString();
            pairs_->setItem(row, 5, new QTableWidgetItem(p.same_label ? la : tr("%1 / %2 (conflict)").arg(la, lb)));
            pairs_->setRowHeight(row, side > 0 ? 60 : pairs_->rowHeight(row));
        }
    };
    if (leakage_) add(*leakage_, train_.get());
    if (within_) add(*within_, data_.get());
    pairs_->resizeColumnsToContents();
}

} // namespace ssui
