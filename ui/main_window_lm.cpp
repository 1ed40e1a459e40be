// main_window_lm.cpp - MainWindow: a language model and its evaluation text.
#include "main_window.h"

#include "compression_panel.h"
#include "evaluation_runner.h"
#include "generation_panel.h"
#include "lm_eval_panel.h"
#include "run_list_model.h"
#include "token_inspector.h"
#include "input_panel.h"

#include <QLocale>
#include <QStatusBar>

#include <algorithm>

namespace ssui {

bool MainWindow::loadText(const QString& path, QString* error) {
    if (!isLanguageModel()) {
        if (error) *error = tr("%1: text is tokenized with a language model's tokenizer; open the language model first (File ▸ Open Model)").arg(path);
        return false;
    }
    try {
        setTokens(std::make_shared<const ss::TokenData>(ss::load_token_data(path.toStdString(), model_->lm.vocab, model_->lm.tokenizer_path, {})));
        return true;
    } catch (const std::exception& e) {
        if (error) *error = QString::fromStdString(e.what());
        return false;
    }
}

bool MainWindow::loadCalibrationText(const QString& path, QString* error) {
    if (!isLanguageModel()) {
        if (error) *error = tr("Calibration text is for language models; a classifier calibrates on its dataset's train split");
        return false;
    }
    try {
        calib_tokens_ = std::make_shared<const ss::TokenData>(ss::load_token_data(path.toStdString(), model_->lm.vocab, model_->lm.tokenizer_path, {}));
    } catch (const std::exception& e) {
        if (error) *error = QString::fromStdString(e.what());
        return false;
    }
    inspector_->setCalibration(calib_tokens_);
    generation_->setCalibration(calib_tokens_, lmContext());
    statusBar()->showMessage(tr("Calibration text: %1 (%2 tokens)").arg(path).arg(calib_tokens_->tokens.size()), 5000);
    refreshLmViews();
    return true;
}

void MainWindow::setTokens(std::shared_ptr<const ss::TokenData> tokens) {
    tokens_ = std::move(tokens);
    inspector_->setSource(isLanguageModel() ? model_ : nullptr, tokens_, lmContext());
    if (isLanguageModel()) lm_eval_->setLimits(model_->lm.max_positions, tokens_ ? int(tokens_->tokens.size()) : 0);
    refreshStatus();
    refreshLmViews();
}

void MainWindow::refreshLmViews() {
    if (!isLanguageModel()) return;
    const std::vector<int> sel = selectedRuns();
    const ss::RunRecord* run = sel.empty() ? nullptr : &runs_->run(sel.front());
    if (run && run->result.task != ss::EvalTask::LanguageModeling) run = nullptr;
    ss::CompressionPlan plan;
    QString label = run ? tr("run %1 (%2)").arg(run->id).arg(QString::fromStdString(run->plan.summary())) : tr("the controls' settings");
    if (run) {
        plan = run->plan;
    } else {
        try {
            plan = panel_->plan();
        } catch (const std::exception&) {
            return;
        }
    }
    generation_->setPlan(plan, label);
    if (main_tabs_->currentWidget() == inspector_) {
        if (run) inspector_->setPlan(plan, label);
        else inspector_->clear(tr("Select a run (or evaluate one) to see its tokens."));
    }
}

void MainWindow::setLanguageModelEvaluation(int ctx, int chunks, int gen_tokens) {
    lm_ctx_ = std::max(4, ctx);
    lm_chunks_ = std::max(2, chunks);
    lm_gen_tokens_ = std::max(0, gen_tokens);
    lm_eval_->setValues(lm_ctx_, lm_chunks_, lm_gen_tokens_);
    generation_->setCalibration(calib_tokens_, lmContext());
    if (isLanguageModel()) inspector_->setSource(model_, tokens_, lmContext());
}

int MainWindow::lmContext() const { return model_ ? std::min(lm_ctx_, model_->lm.max_positions) : lm_ctx_; }

bool MainWindow::makeLmJob(EvaluationJob* job, QString* error) {
    job->tokens = tokens_;
    job->lm.ctx = lmContext();
    job->lm.chunks = lm_chunks_;
    job->lm.gen_tokens = lm_gen_tokens_;
    job->lm_retime_dense = lm_dense_timed_ != std::pair<const void*, const void*>{model_.get(), tokens_.get()};
    lm_dense_timed_ = {model_.get(), tokens_.get()};
    if (int64_t(tokens_->tokens.size()) < 2 * int64_t(job->lm.ctx)) {
        *error = tr("%1: %2 tokens make fewer than two chunks of %3; perplexity needs at least %4 tokens")
                     .arg(QString::fromStdString(tokens_->source_path)).arg(tokens_->tokens.size()).arg(job->lm.ctx).arg(2 * job->lm.ctx);
        return false;
    }
    if (job->plan.needs_calibration()) {
        if (!calib_tokens_) {
            *error = tr("The plan (%1) needs calibration text: open some with File ▸ Open Calibration Text… "
                        "(not the evaluation text; the demo ships kjv-calib.txt)")
                         .arg(QString::fromStdString(job->plan.summary()));
            return false;
        }
        job->calibration_text = calib_tokens_;
    }
    return true;
}

QString MainWindow::lmModelText() const {
    const QLocale loc;
    const ss::Model& m = *model_;
    QString moe;
    const auto moes = m.moe_layers();
    if (!moes.empty())
        moe = tr("<br>%1 MoE layers: %2 experts, top-%3").arg(moes.size()).arg(moes.front()->experts.size()).arg(moes.front()->top_k);
    return tr("<b>Model</b> %1 (%2)<br>%3 parameters, vocabulary %4, context %5%6")
        .arg(QString::fromStdString(m.name).toHtmlEscaped(), QString::fromStdString(m.lm.architecture).toHtmlEscaped(),
             loc.toString(qlonglong(m.parameter_count())), loc.toString(m.lm.vocab), loc.toString(m.lm.max_positions), moe);
}

QString MainWindow::lmDataText() const {
    const QLocale loc;
    const ss::TokenData& t = *tokens_;
    const int ctx = lmContext();
    const int64_t available = int64_t(t.tokens.size()) / std::max(1, ctx);
    return tr("<b>Text</b> %1<br>%2 tokens; each evaluation scores %3 of %4 chunks of %5<br>SHA-256 %6…")
        .arg(QString::fromStdString(t.source_path).toHtmlEscaped(), loc.toString(qlonglong(t.tokens.size())))
        .arg(std::min<int64_t>(lm_chunks_, available)).arg(available).arg(ctx)
        .arg(QString::fromStdString(t.sha256.substr(0, 16)));
}

} // namespace ssui
