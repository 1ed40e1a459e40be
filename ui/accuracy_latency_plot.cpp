// accuracy_latency_plot.cpp
#include "accuracy_latency_plot.h"

#include "plot_legend.h"
#include "eval/baseline_comparison.h"
#include "plot_theme.h"

#include <qcustomplot.h>

#include <QToolTip>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace ssui {

namespace {
// " (not faster)", " (inconclusive: p95 4.1x p50)" or nothing, for a run's tooltip.
QString verdictSuffix(const ss::EvalResult& e) {
    switch (ss::speed_verdict(e.comparison, e.latency_p50_ms, e.latency_p95_ms, e.others_cpus)) {
    case ss::SpeedVerdict::NotFaster: return QObject::tr(" (not faster)");
    case ss::SpeedVerdict::Inconclusive:
        return QObject::tr(" (inconclusive: %1)").arg(QString::fromStdString(ss::inconclusive_reason(e.latency_p50_ms, e.latency_p95_ms, e.others_cpus)));
    default: return {};
    }
}
} // namespace

namespace {
QCPGraph* make_scatter(QCustomPlot* p, const QString& name, QColor color, QCPScatterStyle::ScatterShape shape, double size) {
    QCPGraph* g = p->addGraph();
    g->setName(name);
    g->setLineStyle(QCPGraph::lsNone);
    g->setScatterStyle(QCPScatterStyle(shape, color, color.lighter(150), size));
    g->setPen(QPen(color));
    return g;
}
} // namespace

AccuracyLatencyPlot::AccuracyLatencyPlot(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(plot_);
    plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom | QCP::iSelectPlottables);
    plot_->xAxis->setLabel(tr("Latency p50, batch 1 (ms)"));
    plot_->yAxis->setLabel(tr("Top-1 accuracy (%)"));
    plot_->plotLayout()->insertRow(0);
    title_ = new QCPTextElement(plot_, tr("Accuracy vs latency"), QFont(font().family(), 11, QFont::Bold));
    plot_->plotLayout()->addElement(0, 0, title_);
    frontier_ = plot_->addGraph();
    frontier_->setName(tr("Pareto frontier"));
    frontier_->setLineStyle(QCPGraph::lsStepLeft);
    frontier_->setPen(QPen(QColor(120, 120, 120), 1.5, Qt::DashLine));
    frontier_->setSelectable(QCP::stNone);
    baseline_ = make_scatter(plot_, tr("dense baseline"), QColor(20, 20, 20), QCPScatterStyle::ssPlus, 16);
    baseline_->setSelectable(QCP::stNone);
    not_faster_ = plot_->addGraph();
    not_faster_->setName(tr("not shown faster than dense"));
    not_faster_->setLineStyle(QCPGraph::lsNone);
    not_faster_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(QColor(160, 60, 40), 1.5), Qt::NoBrush, 13));
    not_faster_->setSelectable(QCP::stNone);
    chosen_ = plot_->addGraph();
    chosen_->setName(tr("chosen baseline run"));
    chosen_->setLineStyle(QCPGraph::lsNone);
    chosen_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDiamond, QPen(QColor(200, 120, 0), 2.2), Qt::NoBrush, 19));
    chosen_->setSelectable(QCP::stNone);
    selected_ = make_scatter(plot_, tr("selected run"), QColor(20, 20, 20), QCPScatterStyle::ssCircle, 17);
    QCPScatterStyle sel(QCPScatterStyle::ssCircle, QPen(Qt::black, 2), Qt::NoBrush, 17);
    selected_->setScatterStyle(sel);
    place_legend_below(plot_);
    chosen_->removeFromLegend(); // listed only while a run is chosen
    follow_palette(plot_);
    plot_->xAxis->setRange(0, 1);
    plot_->yAxis->setRange(0, 100);
    connect(plot_, &QCustomPlot::mouseMove, this, [this](QMouseEvent* ev) {
        const int row = runAt(ev->position());
        if (row >= 0) QToolTip::showText(ev->globalPosition().toPoint(), describe(runs_[size_t(row)]), plot_);
        else QToolTip::hideText();
    });
    connect(plot_, &QCustomPlot::plottableClick, this, [this](QCPAbstractPlottable* p, int dataIndex, QMouseEvent*) {
        // Graph data is sorted by latency; the row maps remember which run each point is.
        auto it = rows_.find(qobject_cast<QCPGraph*>(p));
        if (it != rows_.end() && dataIndex >= 0 && dataIndex < int(it->second.size())) emit runClicked(it->second[size_t(dataIndex)]);
    });
}

double AccuracyLatencyPlot::yOf(const ss::RunRecord& run) {
    if (run.result.task != ss::EvalTask::LanguageModeling) return 100.0 * run.result.accuracy;
    const auto it = run.result.metrics.find("perplexity");
    return it == run.result.metrics.end() ? 0.0 : it->second;
}

void AccuracyLatencyPlot::setTask(ss::EvalTask task) {
    if (task == task_) return;
    task_ = task;
    const bool lm = task == ss::EvalTask::LanguageModeling;
    plot_->xAxis->setLabel(lm ? tr("Generation, ms per token (p50, batch 1)") : tr("Latency p50, batch 1 (ms)"));
    plot_->yAxis->setLabel(lm ? tr("Perplexity (lower is better)") : tr("Top-1 accuracy (%)"));
    setRuns(std::vector<ss::RunRecord>(runs_), {}, show_hidden_);
}

void AccuracyLatencyPlot::refreshTitle() {
    QString t = task_ == ss::EvalTask::LanguageModeling ? tr("Perplexity vs generation speed") : tr("Accuracy vs latency");
    if (hidden_ > 0)
        t += task_ == ss::EvalTask::LanguageModeling ? tr(" (%n classifier run(s) not shown)", nullptr, hidden_)
                                                      : tr(" (%n language-model run(s) not shown)", nullptr, hidden_);
    title_->setText(t);
}

QString AccuracyLatencyPlot::seriesOf(const ss::RunRecord& run) {
    const std::string q = run.plan.quant.label();
    if (q == "none") return QStringLiteral("fp32");
    return QString::fromStdString(q.substr(0, q.find(':')));
}

void AccuracyLatencyPlot::seriesStyle(const QString& name, QColor* out_color, int* out_shape) {
    struct Style {
        const char* name;
        QColor color;
        QCPScatterStyle::ScatterShape shape;
    };
    static const Style styles[] = {
        {"fp32", QColor(31, 119, 180), QCPScatterStyle::ssDisc},      {"fp16", QColor(23, 190, 207), QCPScatterStyle::ssDiamond},
        {"bf16", QColor(148, 103, 189), QCPScatterStyle::ssDiamond},  {"int8", QColor(214, 39, 40), QCPScatterStyle::ssSquare},
        {"int4", QColor(255, 127, 14), QCPScatterStyle::ssTriangle}, {"int3", QColor(140, 86, 75), QCPScatterStyle::ssTriangleInverted},
        {"int2", QColor(127, 127, 127), QCPScatterStyle::ssCross},
    };
    QColor color(44, 160, 44);
    QCPScatterStyle::ScatterShape shape = QCPScatterStyle::ssStar;
    for (const auto& st : styles)
        if (name == QLatin1String(st.name)) {
            color = st.color;
            shape = st.shape;
        }
    *out_color = color;
    *out_shape = int(shape);
}

QCPGraph* AccuracyLatencyPlot::series(const QString& name, const QString& group, int group_index) {
    const QString key = group.isEmpty() ? name : group + QStringLiteral(" · ") + name;
    auto it = series_.find(key);
    if (it != series_.end()) return it->second;
    QColor color;
    int shape = 0;
    seriesStyle(name, &color, &shape);
    if (!group.isEmpty()) { // one color per session or model
        static const QColor palette[] = {QColor(31, 119, 180), QColor(214, 39, 40),  QColor(44, 160, 44),  QColor(148, 103, 189),
                                         QColor(255, 127, 14), QColor(140, 86, 75), QColor(227, 119, 194), QColor(23, 190, 207)};
        color = palette[size_t(std::max(0, group_index)) % (sizeof palette / sizeof palette[0])];
    }
    QCPGraph* g = make_scatter(plot_, group.isEmpty() ? tr("%1 weights").arg(name) : tr("%1, %2").arg(group, name), color,
                               QCPScatterStyle::ScatterShape(shape), 9);
    series_[key] = g;
    return g;
}

void AccuracyLatencyPlot::setRuns(const std::vector<ss::RunRecord>& runs, const std::vector<QString>& groups, bool show_hidden) {
    runs_ = runs;
    show_hidden_ = show_hidden;
    std::vector<QString> group_names; // in order of first appearance
    for (const QString& g : groups)
        if (std::find(group_names.begin(), group_names.end(), g) == group_names.end()) group_names.push_back(g);
    const bool grouped = groups.size() == runs.size() && group_names.size() > 1;
    std::vector<int> order(runs_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = int(i);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
        return runs_[size_t(a)].result.latency_p50_ms < runs_[size_t(b)].result.latency_p50_ms;
    });
    std::map<QCPGraph*, std::pair<QVector<double>, QVector<double>>> points;
    rows_.clear();
    for (auto& [name, g] : series_) points[g];
    double max_x = 0.0, min_y = 1e300, max_y = 0.0;
    hidden_ = drawn_ = 0;
    for (int row : order) {
        const auto& r = runs_[size_t(row)];
        if (!RunListModel::shown(r, show_hidden_)) continue; // hidden or deleted by the user
        if (!shown(r)) {
            ++hidden_;
            continue;
        }
        ++drawn_;
        const double x = r.result.latency_p50_ms, y = yOf(r);
        QCPGraph* g = grouped ? series(seriesOf(r), groups[size_t(row)],
                                       int(std::find(group_names.begin(), group_names.end(), groups[size_t(row)]) - group_names.begin()))
                              : series(seriesOf(r));
        points[g].first.push_back(x);
        points[g].second.push_back(y);
        rows_[g].push_back(row);
        max_x = std::max(max_x, x);
        min_y = std::min(min_y, y);
        max_y = std::max(max_y, y);
    }
    for (auto& [g, xy] : points) {
        g->setData(xy.first, xy.second, true);
        if (xy.first.isEmpty()) g->removeFromLegend(); // series of runs no longer shown
        else g->addToLegend();
    }
    QVector<double> fx, fy, bx, by, nx, ny;
    for (int row : paretoFront(runs_, task_, show_hidden_)) {
        fx.push_back(runs_[size_t(row)].result.latency_p50_ms);
        fy.push_back(yOf(runs_[size_t(row)]));
    }
    for (const auto& r : runs_) {
        if (!shown(r)) continue;
        const double x = r.result.latency_p50_ms, y = yOf(r);
        if (r.plan.is_identity()) {
            bx.push_back(x);
            by.push_back(y);
        } else if (r.result.has_comparison && r.result.comparison.throughput_ratio > 0 &&
                   ss::speed_verdict(r.result.comparison, r.result.latency_p50_ms, r.result.latency_p95_ms, r.result.others_cpus) != ss::SpeedVerdict::Faster) {
            nx.push_back(x);
            ny.push_back(y);
        }
    }
    // Every run is measured beside the dense model: with no dense run of its own, the dense point
    // comes from the latest run's comparison (its accuracy or perplexity, and p50 x the latency ratio).
    if (bx.isEmpty()) {
        for (auto it = runs_.rbegin(); it != runs_.rend(); ++it) {
            const auto& r = *it;
            if (!shown(r) || !r.result.has_comparison || !(r.result.comparison.latency_ratio > 0.0)) continue;
            double y = 100.0 * r.result.comparison.baseline_accuracy;
            if (task_ == ss::EvalTask::LanguageModeling) {
                const auto d = r.result.metrics.find("dense_perplexity");
                if (d == r.result.metrics.end()) continue;
                y = d->second;
            }
            bx.push_back(r.result.comparison.latency_ratio * r.result.latency_p50_ms);
            by.push_back(y);
            max_x = std::max(max_x, bx.back());
            min_y = std::min(min_y, y);
            max_y = std::max(max_y, y);
            break;
        }
    }
    if (bx.isEmpty()) baseline_->removeFromLegend(); // not known yet: no legend entry for it
    else baseline_->addToLegend();
    if (chosen_row_ >= int(runs_.size())) chosen_row_ = -1;
    setBaselineRun(chosen_row_);
    // An arrow from each one-shot run to the run fine-tuned from it (same model, plan and data).
    for (QCPItemLine* a : recovery_arrows_) plot_->removeItem(a);
    recovery_arrows_.clear();
    for (const auto& rec : runs_) {
        if (!shown(rec) || !rec.recovery.present()) continue;
        const ss::RunRecord* from = nullptr;
        for (const auto& o : runs_)
            if (shown(o) && !o.recovery.present() && o.model_sha256 == rec.model_sha256 && o.dataset_sha256 == rec.dataset_sha256 &&
                o.plan.to_json() == rec.plan.to_json())
                from = &o; // the newest
        if (!from) continue;
        auto* a = new QCPItemLine(plot_);
        a->start->setCoords(from->result.latency_p50_ms, yOf(*from));
        a->end->setCoords(rec.result.latency_p50_ms, yOf(rec));
        a->setHead(QCPLineEnding(QCPLineEnding::esSpikeArrow, 9, 12));
        QColor c = plot_->xAxis->basePen().color();
        c.setAlpha(150);
        a->setPen(QPen(c, 1.2, Qt::DashLine));
        a->setSelectable(false);
        recovery_arrows_.push_back(a);
    }
    frontier_->setData(fx, fy, true);
    baseline_->setData(bx, by);
    not_faster_->setData(nx, ny);
    if (drawn_ > 0 || !bx.isEmpty()) {
        plot_->xAxis->setRange(0, max_x * 1.15 + 1e-3);
        if (task_ == ss::EvalTask::LanguageModeling) { // perplexity: no upper bound, often close together
            const double pad = std::max(0.01 * max_y, (max_y - min_y) * 0.15);
            plot_->yAxis->setRange(std::max(0.0, min_y - pad), max_y + pad);
        } else {
            const double pad = std::max(1.0, (max_y - min_y) * 0.15);
            plot_->yAxis->setRange(std::max(0.0, min_y - pad), std::min(100.0, max_y + pad));
        }
    }
    refreshTitle();
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void AccuracyLatencyPlot::setBaselineRun(int row) {
    chosen_row_ = row >= 0 && row < int(runs_.size()) && shown(runs_[size_t(row)]) ? row : -1;
    if (chosen_row_ < 0) {
        chosen_->data()->clear();
        chosen_->removeFromLegend();
    } else {
        const auto& r = runs_[size_t(chosen_row_)].result;
        chosen_->setData(QVector<double>{r.latency_p50_ms}, QVector<double>{yOf(runs_[size_t(chosen_row_)])});
        chosen_->setName(tr("baseline: run %1").arg(runs_[size_t(chosen_row_)].id));
        chosen_->addToLegend();
    }
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void AccuracyLatencyPlot::setSelectedRun(int row) { setSelectedRuns(row < 0 ? std::vector<int>{} : std::vector<int>{row}); }

void AccuracyLatencyPlot::setSelectedRuns(const std::vector<int>& rows) {
    QVector<double> xs, ys;
    for (int row : rows)
        if (row >= 0 && row < int(runs_.size()) && shown(runs_[size_t(row)])) {
            xs.push_back(runs_[size_t(row)].result.latency_p50_ms);
            ys.push_back(yOf(runs_[size_t(row)]));
        }
    selected_->setData(xs, ys);
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

std::vector<int> AccuracyLatencyPlot::paretoFront(const std::vector<ss::RunRecord>& runs, ss::EvalTask task, bool show_hidden) {
    // Quality: higher is better (accuracy, or minus perplexity).
    auto quality = [task](const ss::RunRecord& r) { return task == ss::EvalTask::LanguageModeling ? -yOf(r) : r.result.accuracy; };
    std::vector<int> order;
    for (size_t i = 0; i < runs.size(); ++i)
        if (runs[i].result.task == task && RunListModel::shown(runs[i], show_hidden)) order.push_back(int(i));
    // By latency, and at equal latency the better first, so it alone can be on the front.
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
        const auto &ra = runs[size_t(a)], &rb = runs[size_t(b)];
        return ra.result.latency_p50_ms != rb.result.latency_p50_ms ? ra.result.latency_p50_ms < rb.result.latency_p50_ms : quality(ra) > quality(rb);
    });
    std::vector<int> front;
    double best = -1e300;
    for (int row : order)
        if (quality(runs[size_t(row)]) > best) {
            best = quality(runs[size_t(row)]);
            front.push_back(row);
        }
    return front;
}

int AccuracyLatencyPlot::frontierCount() const { return frontier_->dataCount(); }

int AccuracyLatencyPlot::runAt(const QPointF& pos, double radius) const {
    int best = -1;
    double best_d2 = radius * radius;
    for (size_t i = 0; i < runs_.size(); ++i) {
        if (!shown(runs_[i])) continue;
        const double px = plot_->xAxis->coordToPixel(runs_[i].result.latency_p50_ms);
        const double py = plot_->yAxis->coordToPixel(yOf(runs_[i]));
        const double d2 = (px - pos.x()) * (px - pos.x()) + (py - pos.y()) * (py - pos.y());
        if (d2 <= best_d2) {
            best_d2 = d2;
            best = int(i);
        }
    }
    return best;
}

QString AccuracyLatencyPlot::describe(const ss::RunRecord& r) {
    const ss::EvalResult& e = r.result;
    if (e.task == ss::EvalTask::LanguageModeling) {
        auto m = [&](const char* k) { return e.metrics.count(k) ? e.metrics.at(k) : 0.0; };
        QString s = tr("Run %1: %2\nperplexity %3, %4 ms per generated token, %5 MB")
                        .arg(r.id).arg(QString::fromStdString(r.plan.summary()))
                        .arg(m("perplexity"), 0, 'f', 3).arg(e.latency_p50_ms, 0, 'f', 3).arg(double(e.weight_bytes) / 1e6, 0, 'f', 2);
        if (e.has_comparison)
            s += tr("\nvs dense: perplexity ×%1, KL %2 nats, same top token %3 %, prompt ×%4, generation ×%5%6")
                     .arg(m("ppl_ratio"), 0, 'f', 4).arg(m("kld_mean"), 0, 'f', 5).arg(100.0 * m("same_top_p"), 0, 'f', 1)
                     .arg(e.comparison.throughput_ratio, 0, 'f', 2).arg(e.comparison.latency_ratio, 0, 'f', 2)
                     .arg(verdictSuffix(e));
        return s;
    }
    QString s = tr("Run %1: %2\n%3 % top-1, p50 %4 ms, %5 MB")
                    .arg(r.id).arg(QString::fromStdString(r.plan.summary()))
                    .arg(100.0 * e.accuracy, 0, 'f', 2).arg(e.latency_p50_ms, 0, 'f', 3).arg(double(e.weight_bytes) / 1e6, 0, 'f', 2);
    if (e.has_comparison && e.comparison.throughput_ratio > 0)
        s += tr("\nvs dense: %1 points, ×%2 throughput, ×%3 batch-1%4")
                 .arg(100.0 * e.comparison.accuracy_delta, 0, 'f', 2).arg(e.comparison.throughput_ratio, 0, 'f', 2)
                 .arg(e.comparison.latency_ratio, 0, 'f', 2).arg(verdictSuffix(e));
    if (r.recovery.present() && !r.recovery.curve.empty() && !std::isnan(r.recovery.curve.front().test_accuracy))
        s += tr("\nrecovered by fine-tuning from %1 % (%2)").arg(100.0 * r.recovery.curve.front().test_accuracy, 0, 'f', 2)
                 .arg(QString::fromStdString(r.recovery.method));
    return s;
}
int AccuracyLatencyPlot::notFasterCount() const { return not_faster_->dataCount(); }

int AccuracyLatencyPlot::pointCount() const {
    int n = 0;
    for (const auto& [name, g] : series_) n += g->dataCount();
    return n;
}

} // namespace ssui
