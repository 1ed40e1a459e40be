// expert_share_chart.h - bars of one run's expert shares (first MoE layer), with the uniform
// share 1/E drawn as a reference line.
#pragma once

#include <QWidget>

#include <vector>

class QCustomPlot;
class QCPBars;
class QCPGraph;
class QCPTextElement;

namespace ssui {

class ExpertShareChart : public QWidget {
    Q_OBJECT
public:
    explicit ExpertShareChart(QWidget* parent = nullptr);

    // shares (E) sum to 1; an empty vector clears the chart and shows `empty_reason`.
    void setShares(const QString& title, const std::vector<double>& shares, const QString& empty_reason = {});
    int barCount() const;
    QCustomPlot* plot() const { return plot_; }

private:
    QCustomPlot* plot_;
    QCPBars* bars_;
    QCPGraph* uniform_;
    QCPTextElement* title_;
};

} // namespace ssui
