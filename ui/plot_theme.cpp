// plot_theme.cpp
#include "plot_theme.h"

#include <qcustomplot.h>

#include <QEvent>
#include <QPalette>

namespace ssui {

namespace {

void theme_axis(QCPAxis* a, const QColor& text, const QColor& grid) {
    const QPen pen(text, 1);
    a->setBasePen(pen);
    a->setTickPen(pen);
    a->setSubTickPen(pen);
    a->setTickLabelColor(text);
    a->setLabelColor(text);
    a->grid()->setPen(QPen(grid, 1, Qt::DotLine));
    a->grid()->setSubGridPen(QPen(grid, 1, Qt::DotLine));
    a->grid()->setZeroLinePen(QPen(text, 1));
}

void theme_layout(QCPLayout* layout, const QColor& text) {
    for (int i = 0; i < layout->elementCount(); ++i) {
        QCPLayoutElement* el = layout->elementAt(i);
        if (!el) continue;
        if (auto* title = qobject_cast<QCPTextElement*>(el)) title->setTextColor(text);
        if (auto* inner = qobject_cast<QCPLayout*>(el)) theme_layout(inner, text);
    }
}

class PaletteFollower : public QObject {
public:
    explicit PaletteFollower(QCustomPlot* plot) : QObject(plot), plot_(plot) {}
    bool eventFilter(QObject* watched, QEvent* e) override {
        if (watched == plot_ && (e->type() == QEvent::PaletteChange || e->type() == QEvent::ApplicationPaletteChange)) {
            apply_plot_theme(plot_, plot_->palette());
            plot_->replot(QCustomPlot::rpQueuedReplot);
        }
        return false;
    }

private:
    QCustomPlot* plot_;
};

} // namespace

void apply_plot_theme(QCustomPlot* plot, const QPalette& palette) {
    const QColor base = palette.color(QPalette::Base), text = palette.color(QPalette::Text);
    QColor grid = palette.color(QPalette::Mid);
    grid.setAlpha(140);
    plot->setBackground(base);
    for (QCPAxisRect* rect : plot->axisRects()) {
        rect->setBackground(base);
        for (QCPAxis* a : rect->axes()) theme_axis(a, text, grid);
    }
    for (int i = 0; i < plot->plotLayout()->elementCount(); ++i)
        if (auto* scale = qobject_cast<QCPColorScale*>(plot->plotLayout()->elementAt(i))) theme_axis(scale->axis(), text, grid);
    plot->legend->setBrush(base);
    plot->legend->setTextColor(text);
    theme_layout(plot->plotLayout(), text);
}

void follow_palette(QCustomPlot* plot) {
    apply_plot_theme(plot, plot->palette());
    plot->installEventFilter(new PaletteFollower(plot));
}

QCPColorGradient viridis_gradient() {
    QCPColorGradient g;
    g.setColorStopAt(0.0, QColor(68, 1, 84));
    g.setColorStopAt(0.25, QColor(59, 82, 139));
    g.setColorStopAt(0.5, QColor(33, 145, 140));
    g.setColorStopAt(0.75, QColor(94, 201, 98));
    g.setColorStopAt(1.0, QColor(253, 231, 37));
    g.setNanHandling(QCPColorGradient::nhTransparent);
    return g;
}

} // namespace ssui
