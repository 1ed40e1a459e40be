// app_settings.cpp
#include "app_settings.h"

#include <QFileInfo>
#include <QSettings>

namespace ssui {

namespace {
QString recent_key(AppSettings::Recent kind) {
    switch (kind) {
    case AppSettings::Recent::Model: return QStringLiteral("recent/models");
    case AppSettings::Recent::Dataset: return QStringLiteral("recent/datasets");
    case AppSettings::Recent::Session: return QStringLiteral("recent/sessions");
    }
    return QStringLiteral("recent/other");
}
} // namespace

QByteArray AppSettings::windowGeometry() { return QSettings().value(QStringLiteral("window/geometry")).toByteArray(); }
void AppSettings::setWindowGeometry(const QByteArray& g) { QSettings().setValue(QStringLiteral("window/geometry"), g); }
QByteArray AppSettings::splitterState(const QString& name) { return QSettings().value(QStringLiteral("window/splitter/") + name).toByteArray(); }
void AppSettings::setSplitterState(const QString& name, const QByteArray& s) { QSettings().setValue(QStringLiteral("window/splitter/") + name, s); }
int AppSettings::detailTab() { return QSettings().value(QStringLiteral("window/detail_tab"), 0).toInt(); }
void AppSettings::setDetailTab(int t) { QSettings().setValue(QStringLiteral("window/detail_tab"), t); }

QStringList AppSettings::recent(Recent kind) {
    QStringList list = QSettings().value(recent_key(kind)).toStringList();
    list.removeDuplicates();
    while (list.size() > kMaxRecent) list.removeLast();
    return list;
}

void AppSettings::addRecent(Recent kind, const QString& path) {
    const QString abs = QFileInfo(path).absoluteFilePath();
    QStringList list = recent(kind);
    list.removeAll(abs);
    list.prepend(abs);
    while (list.size() > kMaxRecent) list.removeLast();
    QSettings().setValue(recent_key(kind), list);
}

} // namespace ssui
