// help_menu.cpp - Help: the documentation, every keyboard shortcut, and About (the versions of
// what a run depends on, and the machine it measures on).
#include "main_window.h"

#include "eval/machine_info.h"

#include <QAction>
#include <QCoreApplication>
#include <QDesktopServices>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFileInfo>
#include <QHeaderView>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QTableWidget>
#include <QUrl>
#include <QVBoxLayout>

namespace ssui {

namespace {
// README.md of the installed documentation (share/doc/sparsescope beside bin/), else the source tree's.
QString documentation_index() {
    const QString installed = QCoreApplication::applicationDirPath() + QStringLiteral("/../share/doc/sparsescope/README.md");
    if (QFileInfo::exists(installed)) return QFileInfo(installed).canonicalFilePath();
    return QStringLiteral(SPARSESCOPE_SOURCE_DIR "/README.md");
}
} // namespace

QString MainWindow::aboutText() const {
    QString versions = QString::fromStdString(ss::version_report()).trimmed().toHtmlEscaped();
    versions.replace(QLatin1Char('\n'), QStringLiteral("<br>"));
    return tr("<h3>SparseScope</h3>"
              "<p>Explore sparse, quantized and mixture-of-experts neural networks: compress a model with the controls, "
              "and see what it costs in accuracy or perplexity, latency and expert use against the dense model, "
              "measured on this machine.</p>"
              "<p>%1<br>Qt %2</p><p>Documentation: %3</p>")
        .arg(versions, QString::fromLatin1(qVersion()), documentation_index().toHtmlEscaped());
}

std::vector<std::pair<QString, QString>> MainWindow::shortcuts() const {
    std::vector<std::pair<QString, QString>> out;
    for (QAction* top : menuBar()->actions()) {
        QMenu* menu = top->menu();
        if (!menu) continue;
        const QString where = top->text().remove(QLatin1Char('&'));
        for (QAction* a : menu->actions())
            if (!a->shortcut().isEmpty())
                out.push_back({where + QStringLiteral(" ▸ ") + a->text().remove(QLatin1Char('&')), a->shortcut().toString(QKeySequence::NativeText)});
    }
    return out;
}

void MainWindow::buildHelpMenu() {
    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&Documentation"), QKeySequence::HelpContents, this,
                    [] { QDesktopServices::openUrl(QUrl::fromLocalFile(documentation_index())); })
        ->setObjectName(QStringLiteral("helpDocumentation"));
    help->addAction(tr("&Keyboard Shortcuts"), QKeySequence(Qt::CTRL | Qt::Key_Slash), this, [this] {
        QDialog dialog(this);
        dialog.setWindowTitle(tr("Keyboard shortcuts"));
        const auto list = shortcuts();
        auto* table = new QTableWidget(int(list.size()), 2, &dialog);
        table->setHorizontalHeaderLabels({tr("Action"), tr("Shortcut")});
        for (int i = 0; i < int(list.size()); ++i) {
            table->setItem(i, 0, new QTableWidgetItem(list[size_t(i)].first));
            table->setItem(i, 1, new QTableWidgetItem(list[size_t(i)].second));
        }
        table->verticalHeader()->setVisible(false);
        table->setEditTriggers(QAbstractItemView::NoEditTriggers);
        table->resizeColumnsToContents();
        table->horizontalHeader()->setStretchLastSection(true);
        auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, &dialog);
        connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
        auto* box = new QVBoxLayout(&dialog);
        box->addWidget(table);
        box->addWidget(buttons);
        dialog.resize(460, 520);
        dialog.exec();
    })->setObjectName(QStringLiteral("helpShortcuts"));
    help->addSeparator();
    help->addAction(tr("&About SparseScope"), this, [this] { QMessageBox::about(this, tr("About SparseScope"), aboutText()); })
        ->setObjectName(QStringLiteral("helpAbout"));
}

} // namespace ssui
