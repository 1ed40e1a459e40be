// chart_export.h - writing a QCustomPlot as PNG, PDF or SVG, chosen by the file suffix.
#pragma once

#include <QString>

class QCustomPlot;

namespace ssui {

// Writes `plot` at width x height (pixels for PNG and SVG, points for PDF). False with a message
// naming the file and the rule on an unknown suffix or a failed write.
bool export_plot(QCustomPlot* plot, const QString& path, int width, int height, QString* error);

} // namespace ssui
