// eval_task.h - what an evaluation measures, and the names of the metrics each task reports.
//
// A run's headline figures go into EvalResult::metrics by name, so sessions (table run_metric),
// JSON and diffs carry any task's metrics without knowing the task. Metric names:
//   classification:    accuracy (top-1, 0..1); against dense: agreement, mean_kl (nats), accuracy_delta
//   language_modeling: perplexity, mean_nll, ... (the language-model evaluator's own list)
#pragma once

#include <string>
#include <vector>

namespace ss {

enum class EvalTask { Classification, LanguageModeling };

const char* eval_task_name(EvalTask t); // "classification", "language_modeling"
bool parse_eval_task(const std::string& s, EvalTask* out);

// How a task's headline metric is shown: diffs, CSV columns and model cards list these in order.
struct TaskMetric {
    const char* key;    // EvalResult::metrics name
    const char* label;  // for people: "perplexity", "mean KL vs dense"
    const char* format; // printf format of value * scale, with its unit: "%.2f %%", "%.0f tokens/s"
    double scale;       // 100 for shares shown as percentages
    const char* delta;  // printf format of a difference (same scale); nullptr: show a ratio instead
};
const std::vector<TaskMetric>& task_metrics(EvalTask t);

} // namespace ss
