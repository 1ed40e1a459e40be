// app_settings.h - what SparseScope remembers between runs (QSettings, typed): window geometry
// and splitter layout, recent models, datasets and sessions, and the last detail tab.
#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>

namespace ssui {

class AppSettings {
public:
    static constexpr int kMaxRecent = 8;
    enum class Recent { Model, Dataset, Session };

    static QByteArray windowGeometry();
    static void setWindowGeometry(const QByteArray& g);
    static QByteArray splitterState(const QString& name);
    static void setSplitterState(const QString& name, const QByteArray& s);
    static int detailTab();
    static void setDetailTab(int t);

    // Most recent first, without duplicates, at most kMaxRecent.
    static QStringList recent(Recent kind);
    static void addRecent(Recent kind, const QString& path);
};

} // namespace ssui
