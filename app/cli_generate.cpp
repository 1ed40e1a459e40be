// cli_generate.cpp - `sparsescope-cli generate`: the dense and the compressed model continue the
// same prompt side by side (greedy unless --temp), and where they first part ways.
#include "cli_args.h"
#include "cli_commands.h"

#include "compress/compression.h"
#include "error.h"
#include "eval/generate.h"
#include "formats/model_io.h"
#include "formats/tokenizer.h"
#include "kernels/thread_pool.h"

#include <cstdio>

namespace cli {

int cmd_generate(int argc, char** argv) {
    const Args a(argc, argv, 2, {"--prompt", "-n", "--temp", "--top-p", "--seed", "--prune", "--quant", "--top-k", "--plan", "--threads", "--tokenizer",
                  "--quant-experts-by-use", "--calib", "--calib-samples", "--ctx"},
                 {"--add-bos", "--allow-nonfinite"});
    if (a.positional.size() != 1) throw UsageError("generate takes exactly one MODEL directory");
    if (!a.options.count("--prompt")) throw UsageError("generate needs --prompt TEXT");
    const ss::CompressionPlan plan = compression_plan_from(a);
    ss::set_compute_threads(int(a.get_int("--threads", 1, 1, 256)));
    const ss::Model model = load_model_from(a, a.positional[0]);
    if (model.task != ss::EvalTask::LanguageModeling) throw UsageError("generate works on language models; " + model.name + " is a classifier");
    const std::string tok_path = a.get("--tokenizer", model.lm.tokenizer_path);
    if (tok_path.empty()) throw ss::Error(model.source_path + ": no tokenizer.model or tokenizer.json in the directory (name one with --tokenizer)");
    const auto tok = ss::load_tokenizer(tok_path);
    ss::check_tokenizer_fits(*tok, model.lm.vocab);
    std::vector<int32_t> prompt;
    if (a.has("--add-bos") && tok->bos() >= 0) prompt.push_back(tok->bos());
    for (int32_t id : tok->encode(a.get("--prompt", ""))) prompt.push_back(id);
    ss::SamplingOptions opt;
    opt.max_tokens = int(a.get_int("-n", 48, 1, 1 << 20));
    opt.temperature = a.get_double("--temp", 0.0, 0.0, 100.0);
    opt.top_p = a.get_double("--top-p", 1.0, 1e-6, 1.0);
    opt.seed = uint64_t(a.get_int("--seed", 0, 0, 1L << 62));
    const auto calib = calibration_text_for(plan, a, model);
    const int ctx = int(a.get_int("--ctx", std::min(512, model.lm.max_positions), 2, model.lm.max_positions));
    const ss::CompressedModel cm = ss::compress(model, plan, calib ? ss::CalibrationSet(calib.get(), ctx) : ss::CalibrationSet());
    const std::vector<int32_t> dense = ss::generate(model, prompt, opt);
    const std::vector<int32_t> small = ss::generate(cm.model, prompt, opt);
    size_t same = 0;
    while (same < dense.size() && same < small.size() && dense[same] == small[same]) ++same;
    const std::string prompt_text = a.get("--prompt", "");
    std::printf("prompt      %s\n", prompt_text.c_str());
    std::printf("dense       %s\n", tok->decode(dense).c_str());
    std::printf("compressed  %s   [%s]\n", tok->decode(small).c_str(), plan.summary().c_str());
    if (same == dense.size() && same == small.size()) {
        std::printf("same        all %zu tokens identical\n", same);
    } else {
        const std::vector<int32_t> common(dense.begin(), dense.begin() + long(same));
        std::printf("differ      from token %zu on (after \"%s\"): dense '%s', compressed '%s'\n", same, tok->decode(common).c_str(),
                    same < dense.size() ? tok->piece(dense[same]).c_str() : "(end)", same < small.size() ? tok->piece(small[same]).c_str() : "(end)");
    }
    return 0;
}

} // namespace cli
