// expert_share_chart.cpp
#include "expert_share_chart.h"

#include "plot_legend.h"
#include "plot_theme.h"

#include <qcustomplot.h>

#include <QVBoxLayout>

#include <algorithm>

namespace ssui {

ExpertShareChart::ExpertShareChart(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(plot_);
    plot_->plotLayout()->insertRow(0);
    title_ = new QCPTextElement(plot_, tr("Expert share"), QFont(font().family(), 11, QFont::Bold));
    plot_->plotLayout()->addElement(0, 0, title_);
    bars_ = new QCPBars(plot_->xAxis, plot_->yAxis);
    bars_->setWidth(0.7);
    bars_->setPen(QPen(QColor(44, 160, 44).darker(130)));
    bars_->setBrush(QColor(44, 160, 44, 170));
    bars_->setName(tr("share of (sample, slot) pairs"));
    // The uniform share 1/E as a two-point line graph, so it has a legend entry.
    uniform_ = plot_->addGraph();
    uniform_->setName(tr("uniform 1/E"));
    uniform_->setPen(QPen(Qt::gray, 1.5, Qt::DashLine));
    place_legend_below(plot_);
    follow_palette(plot_);
    plot_->xAxis->setLabel(tr("Expert"));
    plot_->yAxis->setLabel(tr("Share of routed slots (%)"));
    plot_->xAxis->grid()->setVisible(false);
    setShares(tr("Expert share"), {}, tr("No run selected"));
}

void ExpertShareChart::setShares(const QString& title, const std::vector<double>& shares, const QString& empty_reason) {
    title_->setText(shares.empty() && !empty_reason.isEmpty() ? title + QStringLiteral(" — ") + empty_reason : title);
    QVector<double> keys, values;
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    double max_share = 0.0;
    for (size_t e = 0; e < shares.size(); ++e) {
        keys.push_back(double(e));
        values.push_back(100.0 * shares[e]);
        ticker->addTick(double(e), QString::number(e));
        max_share = std::max(max_share, 100.0 * shares[e]);
    }
    plot_->xAxis->setTicker(ticker);
    bars_->setData(keys, values, true);
    const double uniform = shares.empty() ? 0.0 : 100.0 / double(shares.size());
    uniform_->setVisible(!shares.empty());
    uniform_->setData({-0.6, double(shares.size()) - 0.4}, {uniform, uniform}, true);
    plot_->xAxis->setRange(-0.6, std::max<double>(1.0, double(shares.size())) - 0.4);
    plot_->yAxis->setRange(0, std::max(uniform, max_share) * 1.2 + 1.0);
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

int ExpertShareChart::barCount() const { return bars_->dataCount(); }

} // namespace ssui
