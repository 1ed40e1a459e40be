// eval_task.cpp
#include "eval/eval_task.h"

namespace ss {

const char* eval_task_name(EvalTask t) {
    switch (t) {
    case EvalTask::Classification: return "classification";
    case EvalTask::LanguageModeling: return "language_modeling";
    }
    return "?";
}

bool parse_eval_task(const std::string& s, EvalTask* out) {
    for (EvalTask t : {EvalTask::Classification, EvalTask::LanguageModeling})
        if (s == eval_task_name(t)) {
            *out = t;
            return true;
        }
    return false;
}

const std::vector<TaskMetric>& task_metrics(EvalTask t) {
    static const std::vector<TaskMetric> classification = {
        {"accuracy", "accuracy", "%.2f %%", 100.0, "%+.2f points"},
        {"accuracy_delta", "change vs dense", "%+.2f points", 100.0, "%+.2f points"},
        {"agreement", "agreement with dense", "%.2f %%", 100.0, "%+.2f points"},
        {"mean_kl", "mean KL vs dense", "%.4f nats", 1.0, "%+.4f"},
    };
    static const std::vector<TaskMetric> language_modeling = {
        {"perplexity", "perplexity", "%.4f", 1.0, nullptr},
        {"perplexity_error", "perplexity +-", "%.4f", 1.0, nullptr},
        {"dense_perplexity", "dense perplexity", "%.4f", 1.0, nullptr},
        {"ppl_ratio", "perplexity vs dense", "x%.4f", 1.0, "%+.4f"},
        {"mean_nll", "mean NLL", "%.5f nats", 1.0, "%+.5f"},
        {"kld_mean", "mean KL vs dense", "%.5f nats", 1.0, "%+.5f"},
        {"kld_p90", "KL p90", "%.5f nats", 1.0, "%+.5f"},
        {"kld_p95", "KL p95", "%.5f nats", 1.0, "%+.5f"},
        {"kld_p99", "KL p99", "%.5f nats", 1.0, "%+.5f"},
        {"same_top_p", "same top token as dense", "%.2f %%", 100.0, "%+.2f points"},
        {"delta_p_mean", "mean delta p of the right token", "%+.5f", 1.0, "%+.5f"},
        {"top1", "next-token top-1", "%.2f %%", 100.0, "%+.2f points"},
        {"ece", "next-token ECE", "%.2f %%", 100.0, "%+.2f points"},
        {"dense_ece", "dense next-token ECE", "%.2f %%", 100.0, "%+.2f points"},
        {"prompt_tps", "prompt tokens/s", "%.0f tokens/s", 1.0, nullptr},
        {"gen_tps", "generation tokens/s", "%.1f tokens/s", 1.0, nullptr},
        {"tokens_scored", "tokens scored", "%.0f", 1.0, "%+.0f"},
        {"ctx", "chunk length", "%.0f tokens", 1.0, "%+.0f"},
        {"chunks", "chunks", "%.0f", 1.0, "%+.0f"},
    };
    return t == EvalTask::LanguageModeling ? language_modeling : classification;
}

} // namespace ss
