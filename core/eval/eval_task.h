// eval_task.h - what an evaluation measures, and the names of the metrics each task reports.
//
// A run's headline figures go into EvalResult::metrics by name, so sessions (table run_metric),
// JSON and diffs carry any task's metrics without knowing the task. Metric names:
//   classification:    accuracy (top-1, 0..1); against dense: agreement, mean_kl (nats), accuracy_delta
//   language_modeling: perplexity, mean_nll, ... (the language-model evaluator's own list)
#pragma once

#include <string>

namespace ss {

enum class EvalTask { Classification, LanguageModeling };

const char* eval_task_name(EvalTask t); // "classification", "language_modeling"
bool parse_eval_task(const std::string& s, EvalTask* out);

} // namespace ss
