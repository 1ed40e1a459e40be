// chart_export.cpp
#include "chart_export.h"

#include <qcustomplot.h>

#include <QFileInfo>
#include <QSvgGenerator>

namespace ssui {

bool export_plot(QCustomPlot* plot, const QString& path, int width, int height, QString* error) {
    const QString suffix = QFileInfo(path).suffix().toLower();
    bool ok = false;
    if (suffix == QLatin1String("png")) {
        ok = plot->savePng(path, width, height, 1.0);
    } else if (suffix == QLatin1String("pdf")) {
        ok = plot->savePdf(path, width, height);
    } else if (suffix == QLatin1String("svg")) {
        QSvgGenerator svg;
        svg.setFileName(path);
        svg.setSize(QSize(width, height));
        svg.setViewBox(QRect(0, 0, width, height));
        svg.setTitle(QStringLiteral("SparseScope chart"));
        QCPPainter painter;
        ok = painter.begin(&svg);
        if (ok) {
            plot->toPainter(&painter, width, height);
            ok = painter.end();
        }
        ok = ok && QFileInfo(path).size() > 0;
    } else {
        if (error) *error = QObject::tr("%1: unsupported chart format '%2' (use .png, .pdf or .svg)").arg(path, suffix);
        return false;
    }
    if (!ok && error) {
        const QFileInfo dir(QFileInfo(path).absolutePath());
        *error = !dir.exists()       ? QObject::tr("%1: could not write the chart: folder %2 does not exist").arg(path, dir.filePath())
                 : !dir.isWritable() ? QObject::tr("%1: could not write the chart: folder %2 is not writable").arg(path, dir.filePath())
                                     : QObject::tr("%1: could not write the chart (disk full, or the file is in use?)").arg(path);
    }
    return ok;
}

} // namespace ssui
