// expert_atlas.cpp
#include "expert_atlas.h"

#include "plot_theme.h"

#include <qcustomplot.h>

#include <QToolTip>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace ssui {

namespace {
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

// A layer's expert ids by position: the evaluation's, else positions (runs read from a session).
std::vector<int> ids_of(const ss::EvalResult& e, size_t layer) {
    if (layer < e.expert_ids.size() && e.expert_ids[layer].size() == e.expert_share[layer].size()) return e.expert_ids[layer];
    std::vector<int> ids(e.expert_share[layer].size());
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = int(i);
    return ids;
}

QString short_layer(const std::string& name) { // "model.layers.3.block_sparse_moe" -> "layers.3"
    const QString n = QString::fromStdString(name);
    const int at = n.indexOf(QLatin1String("layers."));
    if (at < 0) return n;
    return n.mid(at).section(QLatin1Char('.'), 0, 1);
}
} // namespace

ExpertAtlas::ExpertAtlas(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this)) {
    auto* box = new QVBoxLayout(this);
    box->setContentsMargins(0, 0, 0, 0);
    box->addWidget(plot_);
    plot_->plotLayout()->insertRow(0);
    title_ = new QCPTextElement(plot_, tr("Expert atlas"), QFont(font().family(), 11, QFont::Bold));
    plot_->plotLayout()->addElement(0, 0, title_);
    plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    map_ = new QCPColorMap(plot_->xAxis, plot_->yAxis);
    scale_ = new QCPColorScale(plot_);
    plot_->plotLayout()->addElement(1, 1, scale_);
    scale_->setType(QCPAxis::atRight);
    map_->setColorScale(scale_);
    map_->setInterpolate(false);
    map_->setTightBoundary(false);
    auto* group = new QCPMarginGroup(plot_);
    plot_->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, group);
    scale_->setMarginGroup(QCP::msBottom | QCP::msTop, group);
    plot_->xAxis->setLabel(tr("Expert (✝ dead: under 1 % of the layer's slots; ▲ over twice the uniform share)"));
    plot_->yAxis->setLabel(tr("MoE layer"));
    plot_->xAxis->grid()->setVisible(false);
    plot_->yAxis->grid()->setVisible(false);
    plot_->yAxis->setRangeReversed(true); // the first layer on top
    follow_palette(plot_);
    connect(plot_, &QCustomPlot::mouseMove, this, [this](QMouseEvent* ev) {
        const QString text = describeAt(ev->position());
        if (text.isEmpty()) QToolTip::hideText();
        else QToolTip::showText(ev->globalPosition().toPoint(), text, plot_);
    });
    clear(tr("no run selected"));
}

void ExpertAtlas::setGradient(bool diverging) {
    if (!diverging) return map_->setGradient(viridis_gradient()); // as the class x expert map
    QCPColorGradient g; // blue - white - red: fewer / same / more slots than the first run
    g.setColorStopAt(0.0, QColor(33, 102, 172));
    g.setColorStopAt(0.5, QColor(247, 247, 247));
    g.setColorStopAt(1.0, QColor(178, 24, 43));
    g.setNanHandling(QCPColorGradient::nhTransparent);
    map_->setGradient(g);
}

void ExpertAtlas::clear(const QString& reason) {
    layers_ = experts_ = dead_ = overloaded_ = 0;
    difference_ = false;
    ids_.clear();
    plot_->clearItems();
    map_->data()->clear();
    map_->setVisible(false);
    scale_->setVisible(false);
    title_->setText(tr("Expert atlas — %1").arg(reason));
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void ExpertAtlas::layout(const ss::EvalResult& e, int columns) {
    layers_ = int(e.expert_share.size());
    experts_ = columns;
    map_->data()->setSize(columns, layers_);
    map_->data()->setRange(QCPRange(0, columns - 1), QCPRange(0, layers_ - 1));
    QSharedPointer<QCPAxisTickerText> yt(new QCPAxisTickerText);
    layer_names_.clear();
    for (int l = 0; l < layers_; ++l) {
        layer_names_.push_back(l < int(e.moe_layers.size()) ? QString::fromStdString(e.moe_layers[size_t(l)]) : QString::number(l));
        yt->addTick(l, l < int(e.moe_layers.size()) ? short_layer(e.moe_layers[size_t(l)]) : QString::number(l));
    }
    plot_->yAxis->setTicker(yt);
    QSharedPointer<QCPAxisTickerFixed> xt(new QCPAxisTickerFixed);
    xt->setTickStep(columns > 32 ? 8 : columns > 16 ? 4 : 1);
    plot_->xAxis->setTicker(xt);
    plot_->xAxis->setRange(-0.5, columns - 0.5);
    plot_->yAxis->setRange(-0.5, layers_ - 0.5);
    plot_->clearItems();
    map_->setVisible(true);
    scale_->setVisible(true);
}

void ExpertAtlas::setRun(const ss::RunRecord* run) {
    if (!run) return clear(tr("no run selected"));
    const ss::EvalResult& e = run->result;
    if (e.expert_share.empty()) return clear(tr("model has no MoE layer"));
    int columns = 0;
    for (const auto& s : e.expert_share) columns = std::max(columns, int(s.size()));
    if (columns == 0) return clear(tr("no routed slots"));
    difference_ = false;
    setGradient(false);
    layout(e, columns);
    dead_ = overloaded_ = 0;
    ids_.assign(size_t(layers_), std::vector<int>(size_t(columns), -1));
    for (int l = 0; l < layers_; ++l) {
        const std::vector<double>& share = e.expert_share[size_t(l)];
        const std::vector<int> ids = ids_of(e, size_t(l));
        const double uniform = 1.0 / double(std::max<size_t>(1, share.size()));
        for (int x = 0; x < columns; ++x) {
            const bool present = x < int(share.size());
            map_->data()->setCell(x, l, present ? 100.0 * share[size_t(x)] : kNan);
            if (!present) continue;
            ids_[size_t(l)][size_t(x)] = ids[size_t(x)];
            const bool dead = share[size_t(x)] < ss::kDeadShare, over = share[size_t(x)] > 2.0 * uniform;
            if (!dead && !over) continue;
            (dead ? dead_ : overloaded_) += 1;
            auto* mark = new QCPItemText(plot_);
            mark->position->setCoords(x, l);
            mark->setText(dead ? QStringLiteral("✝") : QStringLiteral("▲"));
            mark->setColor(dead ? QColor(255, 255, 255) : QColor(0, 0, 0));
            mark->setFont(QFont(font().family(), 10, QFont::Bold));
        }
    }
    map_->rescaleDataRange(true);
    scale_->axis()->setLabel(tr("% of the layer's routed slots"));
    title_->setText(tr("Run %1, top-%2: %3 dead, %4 overloaded").arg(run->id).arg(e.top_k).arg(dead_).arg(overloaded_));
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void ExpertAtlas::setRuns(const ss::RunRecord& from, const ss::RunRecord& to) {
    const ss::EvalResult &a = from.result, &b = to.result;
    if (a.expert_share.empty() || b.expert_share.empty()) return clear(tr("a run without MoE layers"));
    if (a.expert_share.size() != b.expert_share.size() || a.moe_layers != b.moe_layers)
        return clear(tr("runs %1 and %2 have different MoE layers").arg(from.id).arg(to.id));
    // Columns: the union of both runs' expert ids, in id order; an expert one run dropped is NaN.
    std::vector<std::vector<int>> ids(a.expert_share.size());
    int columns = 0;
    for (size_t l = 0; l < ids.size(); ++l) {
        std::vector<int> u = ids_of(a, l), v = ids_of(b, l);
        u.insert(u.end(), v.begin(), v.end());
        std::sort(u.begin(), u.end());
        u.erase(std::unique(u.begin(), u.end()), u.end());
        ids[l] = u;
        columns = std::max(columns, int(u.size()));
    }
    difference_ = true;
    setGradient(true);
    layout(a, columns);
    dead_ = overloaded_ = 0;
    ids_.assign(size_t(layers_), std::vector<int>(size_t(columns), -1));
    double span = 1e-9;
    for (int l = 0; l < layers_; ++l) {
        std::map<int, double> sa, sb;
        const std::vector<int> ia = ids_of(a, size_t(l)), ib = ids_of(b, size_t(l));
        for (size_t i = 0; i < ia.size(); ++i) sa[ia[i]] = a.expert_share[size_t(l)][i];
        for (size_t i = 0; i < ib.size(); ++i) sb[ib[i]] = b.expert_share[size_t(l)][i];
        for (int x = 0; x < columns; ++x) {
            double v = kNan;
            if (x < int(ids[size_t(l)].size())) {
                const int id = ids[size_t(l)][size_t(x)];
                ids_[size_t(l)][size_t(x)] = id;
                if (sa.count(id) && sb.count(id)) v = 100.0 * (sb[id] - sa[id]);
            }
            map_->data()->setCell(x, l, v);
            if (!std::isnan(v)) span = std::max(span, std::fabs(v));
        }
    }
    map_->setDataRange(QCPRange(-span, span)); // symmetric: white is "no change"
    scale_->axis()->setLabel(tr("run %1 − run %2, points of the layer's slots").arg(to.id).arg(from.id));
    title_->setText(tr("Run %1 against run %2 (blank: dropped in one)").arg(to.id).arg(from.id));
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

double ExpertAtlas::cell(int layer, int expert) const {
    if (layer < 0 || layer >= layers_ || expert < 0 || expert >= experts_) return kNan;
    return map_->data()->cell(expert, layer);
}

QString ExpertAtlas::describeAt(const QPointF& pos) const {
    const int x = int(std::lround(plot_->xAxis->pixelToCoord(pos.x())));
    const int l = int(std::lround(plot_->yAxis->pixelToCoord(pos.y())));
    const double v = cell(l, x);
    if (std::isnan(v)) return {};
    const int id = ids_[size_t(l)][size_t(x)];
    return difference_ ? tr("%1, expert %2: %3%4 points of the layer's routed slots").arg(layer_names_[size_t(l)]).arg(id).arg(v >= 0 ? "+" : "").arg(v, 0, 'f', 2)
                       : tr("%1, expert %2: %3 % of the layer's routed slots").arg(layer_names_[size_t(l)]).arg(id).arg(v, 0, 'f', 2);
}

} // namespace ssui
