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

} // namespace ss
