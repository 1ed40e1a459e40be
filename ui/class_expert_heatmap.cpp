// class_expert_heatmap.cpp
#include "class_expert_heatmap.h"

#include "plot_theme.h"

#include <qcustomplot.h>

#include <QToolTip>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>

namespace ssui {

ClassExpertHeatmap::ClassExpertHeatmap(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(plot_);
    plot_->plotLayout()->insertRow(0);
    title_ = new QCPTextElement(plot_, tr("Class × expert"), QFont(font().family(), 11, QFont::Bold));
    plot_->plotLayout()->addElement(0, 0, title_);
    plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    map_ = new QCPColorMap(plot_->xAxis, plot_->yAxis);
    scale_ = new QCPColorScale(plot_);
    plot_->plotLayout()->addElement(1, 1, scale_);
    scale_->setType(QCPAxis::atRight);
    scale_->axis()->setLabel(tr("% of the class's routed slots"));
    map_->setColorScale(scale_);
    map_->setGradient(viridis_gradient());
    map_->setInterpolate(false);
    map_->setTightBoundary(false); // whole cells at the edges too
    auto* group = new QCPMarginGroup(plot_);
    plot_->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, group);
    scale_->setMarginGroup(QCP::msBottom | QCP::msTop, group);
    plot_->xAxis->setLabel(tr("Expert (✝ = dead: under 1 % of all slots)"));
    plot_->yAxis->setLabel(tr("True class"));
    plot_->xAxis->grid()->setVisible(false);
    plot_->yAxis->grid()->setVisible(false);
    plot_->yAxis->setRangeReversed(true); // class 0 on top, as in a confusion matrix
    follow_palette(plot_);
    connect(plot_, &QCustomPlot::mouseMove, this, [this](QMouseEvent* ev) {
        const QString text = describeAt(ev->position());
        if (text.isEmpty()) QToolTip::hideText();
        else QToolTip::showText(ev->globalPosition().toPoint(), text, plot_);
    });
    clear(tr("no run selected"));
}

void ClassExpertHeatmap::clear(const QString& reason) {
    classes_ = experts_ = 0;
    map_->data()->clear();
    map_->setVisible(false);
    scale_->setVisible(false);
    title_->setText(tr("Class × expert — %1").arg(reason));
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void ClassExpertHeatmap::setRun(const ss::RunRecord* run, const std::vector<std::string>& labels) {
    if (!run) return clear(tr("no run selected"));
    const ss::EvalResult& e = run->result;
    if (e.expert_stats.empty() || e.expert_share.empty())
        return clear(e.expert_share.empty() ? tr("model has no MoE layer") : tr("per-class routing was not kept for this run"));
    const ss::ExpertLayerStats& s = e.expert_stats.front();
    const int experts = int(e.expert_share.front().size());
    const int classes = experts ? int(s.class_expert.size()) / experts : 0;
    if (classes == 0) return clear(tr("no routed samples"));
    classes_ = classes;
    experts_ = experts;
    map_->data()->setSize(experts, classes);
    map_->data()->setRange(QCPRange(0, experts - 1), QCPRange(0, classes - 1));
    for (int c = 0; c < classes; ++c) {
        int64_t total = 0;
        for (int x = 0; x < experts; ++x) total += s.class_expert[size_t(c) * experts + x];
        for (int x = 0; x < experts; ++x)
            map_->data()->setCell(x, c, total ? 100.0 * double(s.class_expert[size_t(c) * experts + x]) / double(total)
                                              : std::numeric_limits<double>::quiet_NaN());
    }
    map_->setVisible(true);
    scale_->setVisible(true);
    map_->rescaleDataRange(true);
    QSharedPointer<QCPAxisTickerText> xt(new QCPAxisTickerText), yt(new QCPAxisTickerText);
    for (int x = 0; x < experts; ++x) {
        const bool dead = std::find(s.dead.begin(), s.dead.end(), x) != s.dead.end();
        xt->addTick(x, QString::number(x) + (dead ? QStringLiteral("✝") : QString()));
    }
    class_names_.clear();
    for (int c = 0; c < classes; ++c) {
        class_names_.push_back(c < int(labels.size()) ? QString::fromStdString(labels[size_t(c)]) : QString::number(c));
        yt->addTick(c, class_names_.back());
    }
    plot_->xAxis->setTicker(xt);
    plot_->yAxis->setTicker(yt);
    plot_->xAxis->setRange(-0.5, experts - 0.5);
    plot_->yAxis->setRange(-0.5, classes - 0.5);
    title_->setText(tr("Class × expert — run %1, layer '%2'").arg(run->id).arg(QString::fromStdString(e.moe_layers.empty() ? "" : e.moe_layers.front())));
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

QString ClassExpertHeatmap::describeAt(const QPointF& pos) const {
    const int x = int(std::lround(plot_->xAxis->pixelToCoord(pos.x())));
    const int c = int(std::lround(plot_->yAxis->pixelToCoord(pos.y())));
    const double v = cell(c, x);
    if (std::isnan(v)) return {};
    const QString cls = c < int(class_names_.size()) ? class_names_[size_t(c)] : QString::number(c);
    return tr("%1 → expert %2: %3 % of the class's routed slots").arg(cls).arg(x).arg(v, 0, 'f', 1);
}

double ClassExpertHeatmap::cell(int cls, int expert) const {
    if (cls < 0 || cls >= classes_ || expert < 0 || expert >= experts_) return std::numeric_limits<double>::quiet_NaN();
    return map_->data()->cell(expert, cls);
}

} // namespace ssui
