// plot_theme.h - QCustomPlot colors from the Qt palette, so plots follow a light or dark system
// theme (QCustomPlot draws white with black text by default, whatever the palette).
#pragma once

class QCustomPlot;
class QCPColorGradient;
class QPalette;

namespace ssui {

// Background, axes, tick labels, grids, legend and titles of `plot` from `palette`.
void apply_plot_theme(QCustomPlot* plot, const QPalette& palette);
// Applies the plot's palette now and again whenever it changes (a light/dark switch).
void follow_palette(QCustomPlot* plot);

// Viridis for heat maps: perceptually even, readable in grayscale and by most color-blind
// viewers; NaN cells transparent.
QCPColorGradient viridis_gradient();

} // namespace ssui
