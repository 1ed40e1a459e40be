// run_diff_dialog.cpp
#include "run_diff_dialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>

namespace ssui {

RunDiffDialog::RunDiffDialog(const ss::RunDiff& diff, const QString& name_a, const QString& name_b, QWidget* parent)
    : QDialog(parent), diff_(diff), table_(new QTableWidget(this)), only_diff_(new QCheckBox(tr("Only fields that differ"), this)),
      warnings_(new QLabel(this)) {
    setWindowTitle(tr("%1 vs %2").arg(name_a, name_b));
    auto* layout = new QVBoxLayout(this);
    QStringList w;
    for (const auto& s : diff.warnings) w << QStringLiteral("⚠ ") + QString::fromStdString(s);
    warnings_->setText(w.join(QLatin1Char('\n')));
    warnings_->setWordWrap(true);
    warnings_->setVisible(!w.isEmpty());
    warnings_->setStyleSheet(QStringLiteral("QLabel { background: #fff3cd; color: #664d03; border: 1px solid #e0c36a; padding: 6px; }"));
    layout->addWidget(warnings_);
    auto* summary = new QLabel(tr("%1 of %2 fields differ; differing fields are bold, deltas are %3 minus %4 (ratios: %3 / %4).")
                                   .arg(diff.differing()).arg(diff.rows.size()).arg(name_b, name_a),
                               this);
    summary->setWordWrap(true);
    layout->addWidget(summary);
    layout->addWidget(only_diff_);
    table_->setColumnCount(5);
    table_->setHorizontalHeaderLabels({tr("Section"), tr("Field"), name_a, name_b, tr("Change")});
    table_->setRowCount(int(diff.rows.size()));
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->verticalHeader()->hide();
    for (int i = 0; i < int(diff.rows.size()); ++i) {
        const ss::DiffRow& r = diff.rows[size_t(i)];
        const QString cells[] = {QString::fromStdString(r.section), QString::fromStdString(r.field), QString::fromStdString(r.a),
                                 QString::fromStdString(r.b), QString::fromStdString(r.delta)};
        for (int c = 0; c < 5; ++c) {
            auto* item = new QTableWidgetItem(cells[c]);
            item->setToolTip(cells[c]);
            if (r.differs) {
                QFont f = item->font();
                f.setBold(true);
                item->setFont(f);
            }
            table_->setItem(i, c, item);
        }
    }
    // Section, field and change as wide as their text (the change is what the dialog is for, never
    // cut); the two runs' values share the rest and wrap.
    QHeaderView* h = table_->horizontalHeader();
    for (int c : {0, 1, 4}) h->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    for (int c : {2, 3}) h->setSectionResizeMode(c, QHeaderView::Stretch);
    table_->setWordWrap(true);
    table_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    connect(h, &QHeaderView::sectionResized, table_, [this] { table_->resizeRowsToContents(); });
    layout->addWidget(table_);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    connect(only_diff_, &QCheckBox::toggled, this, &RunDiffDialog::filter);
    resize(1120, 720);
}

void RunDiffDialog::filter() {
    for (int i = 0; i < table_->rowCount(); ++i) table_->setRowHidden(i, only_diff_->isChecked() && !diff_.rows[size_t(i)].differs);
}

int RunDiffDialog::visibleRows() const {
    int n = 0;
    for (int i = 0; i < table_->rowCount(); ++i) n += !table_->isRowHidden(i);
    return n;
}

} // namespace ssui
