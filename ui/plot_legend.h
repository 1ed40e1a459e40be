// plot_legend.h - the legend style shared by SparseScope's plots: one row under the axes, so it
// never hides a data point, without a frame.
#pragma once

#include <qcustomplot.h>

namespace ssui {

// Expects the plot layout to be: row 0 title, row 1 axis rect; adds row 2 for the legend.
inline void place_legend_below(QCustomPlot* plot) {
    plot->legend->setVisible(true);
    plot->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    plot->legend->setWrap(3); // at most three entries per row: long legends take more rows, and the plot fits a 1366-pixel screen
    plot->legend->setBorderPen(Qt::NoPen);
    auto* row = new QCPLayoutGrid;
    plot->plotLayout()->addElement(2, 0, row);
    row->addElement(0, 0, plot->legend);
    plot->plotLayout()->setRowStretchFactor(2, 0.001);
}

} // namespace ssui
