// cli_eval.cpp - `sparsescope-cli eval`.
#include "cli_args.h"
#include "cli_commands.h"

#include "data/class_names.h"
#include "eval/machine_load.h"

#include "compress/compression.h"
#include "kernels/kernel_plan.h"
#include "kernels/thread_pool.h"
#include "data/dataset.h"
#include "error.h"
#include "eval/baseline_cache.h"
#include "eval/evaluate.h"
#include "formats/model_io.h"
#include "eval/result_json.h"
#include "eval/run_evaluation.h"
#include "data/token_data.h"
#include "eval/lm_evaluate.h"
#include "eval/lm_baseline_cache.h"
#include "eval/run_record.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <ctime>
#include <fstream>
#include <cstdio>
#include <optional>

#include "eval/lm_robustness.h"
#include "eval/token_inspection.h"
#include "formats/tokenizer.h"
#include "formats/file_io.h"
#include <nlohmann/json.hpp>

namespace cli {

namespace {
// The speed verdict in words (baseline_comparison.h: faster, not faster, or withheld as noisy).
const char* verdict_text(const ss::EvalResult& e) {
    switch (ss::speed_verdict(e.comparison, e.latency_p50_ms, e.latency_p95_ms, e.others_cpus)) {
    case ss::SpeedVerdict::Faster: return "FASTER than dense";
    case ss::SpeedVerdict::Inconclusive: return "INCONCLUSIVE against dense";
    default: return "NOT faster than dense";
    }
}
} // namespace

// The installed data (share/sparsescope beside bin/), else the source tree's resources/.
std::string resource_path(const std::string& relative) {
    std::error_code ec;
    const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const std::filesystem::path installed = exe.parent_path().parent_path() / "share" / "sparsescope" / relative;
        if (std::filesystem::exists(installed, ec)) return installed.string();
    }
    return std::string(SPARSESCOPE_RESOURCE_DIR) + "/" + relative;
}

namespace {

void print_ood(const ss::OodEvaluation& o) {
    std::printf("ood        test split (%d) against %s (%d): max-softmax AUROC %.3f (dense %.3f), FPR at 95%% TPR %.3f (dense %.3f); "
                "energy AUROC %.3f (dense %.3f)\n",
                o.in_count, o.set.c_str(), o.out_count, o.msp.auroc, o.dense_msp.auroc, o.msp.fpr95, o.dense_msp.fpr95, o.energy.auroc,
                o.dense_energy.auroc);
}

} // namespace

std::vector<std::string> split_list(const std::string& s, char separator) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= s.size()) {
        const size_t end = std::min(s.find(separator, start), s.size());
        if (end > start) out.push_back(s.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

// --robustness [--severities 1,3,5] [--corruptions gaussian_noise,...] [--robustness-samples N]
ss::RobustnessOptions robustness_options_from(const Args& a) {
    ss::RobustnessOptions o;
    o.limit = int(a.get_int("--robustness-samples", ss::kDefaultRobustnessSamples, 0, 1L << 30));
    if (a.given("--severities")) {
        o.severities.clear();
        for (const std::string& t : split_list(a.get("--severities", ""))) {
            char* end = nullptr;
            const long v = std::strtol(t.c_str(), &end, 10);
            if (*end || v < 1 || v > 5) throw UsageError("--severities: '" + t + "' is not a severity 1..5");
            o.severities.push_back(int(v));
        }
        if (o.severities.empty()) throw UsageError("--severities needs at least one of 1..5");
    }
    if (a.given("--corruptions")) {
        o.corruptions.clear();
        for (const std::string& t : split_list(a.get("--corruptions", ""))) {
            ss::Corruption c;
            if (!ss::parse_corruption(t, &c)) {
                std::string known;
                for (ss::Corruption k : ss::kAllCorruptions) known += std::string(known.empty() ? "" : ", ") + ss::corruption_name(k);
                throw UsageError("--corruptions: '" + t + "' is not one of " + known);
            }
            o.corruptions.push_back(c);
        }
        if (o.corruptions.empty()) throw UsageError("--corruptions needs at least one name");
    }
    return o;
}

bool wants_robustness(const Args& a) {
    return a.has("--robustness") || a.given("--severities") || a.given("--corruptions") || a.given("--robustness-samples");
}

ss::Dataset ood_samples_from(const Args& a, const ss::Model& model) {
    const std::string what = a.get("--ood", "");
    if (what == "noise") return ss::uniform_noise_images(1000, model.input_features(), 0);
    return ss::load_dataset(what == "glyphs" ? resource_path("ood/glyphs") : what);
}

namespace {

void print_robustness(const ss::RobustnessResult& r) {
    const size_t S = r.ce.empty() ? 0 : r.cells.size() / r.ce.size();
    std::printf("robustness %d samples per corrupted set (seed %llu); accuracy %%, compressed / dense%s\n", r.samples,
                (unsigned long long)r.seed, r.dense_from_cache ? " (dense from the robustness cache)" : "");
    std::printf("  %-17s", "corruption");
    for (size_t s = 0; s < S; ++s) std::printf("   severity %-9d", r.cells[s].severity);
    std::printf("  %6s %8s\n", "CE", "gap pt");
    for (size_t c = 0; c < r.ce.size(); ++c) {
        std::printf("  %-17s", ss::corruption_name(r.cells[c * S].corruption));
        for (size_t s = 0; s < S; ++s) {
            const ss::CorruptionCell& cell = r.cells[c * S + s];
            std::printf("   %6.2f / %6.2f   ", 100.0 * cell.accuracy, 100.0 * cell.dense_accuracy);
        }
        std::printf("  %6.3f %+8.2f\n", r.ce[c], r.gap_points[c]);
    }
    std::printf("  mCE %.3f against dense (1: as robust as dense); mean accuracy under corruption %.2f %% (dense %.2f %%)\n", r.mce,
                100.0 * r.mean_accuracy, 100.0 * r.dense_mean_accuracy);
}

// How busy other processes kept the machine while the run was measured (machine_load.h).
void print_machine_load(const ss::EvalResult& e) {
    if (std::isnan(e.others_cpus)) return; // a run shorter than the clock's resolution
    std::printf("load       other processes kept %.2f CPUs busy during the run%s\n", e.others_cpus,
                ss::machine_was_busy(e.others_cpus) ? ": a busy machine, timings noisier than usual" : "");
}
std::string noise_note(const ss::EvalResult& e) {
    if (ss::speed_verdict(e.comparison, e.latency_p50_ms, e.latency_p95_ms, e.others_cpus) != ss::SpeedVerdict::Inconclusive) return {};
    return "; only the latency beats dense, and it was noisy (" + ss::inconclusive_reason(e.latency_p50_ms, e.latency_p95_ms, e.others_cpus) +
           "): rerun on a quieter machine";
}
// Peak and current resident memory of this process (/proc/self/status VmHWM, VmRSS), bytes.
std::pair<int64_t, int64_t> resident_bytes() {
    std::ifstream in("/proc/self/status");
    std::string key;
    int64_t peak = 0, now = 0;
    while (in >> key) {
        int64_t kb = 0;
        if (key == "VmHWM:" && in >> kb) peak = kb * 1024;
        else if (key == "VmRSS:" && in >> kb) now = kb * 1024;
        in.ignore(1 << 20, '\n');
    }
    return {peak, now};
}

// The Jargon File as Debian's jargon-text installs it: public-domain hacker slang, out of domain for
// a model that read the Bible.
constexpr const char* kJargonFile = "/usr/share/doc/jargon-text/jargon.txt.gz";

int eval_language_model(const Args& a, ss::Model& model, const ss::CompressionPlan& plan, const ss::EvalOptions& opt) {
    if (!a.options.count("--data"))
        throw UsageError("a language model needs --data FILE.txt (tokenized with the model's tokenizer) or FILE.npy (token ids)");
    ss::TokenDataOptions topt;
    topt.tokenizer = a.get("--tokenizer", "");
    topt.add_bos = a.has("--add-bos");
    const ss::TokenData data = ss::load_token_data(a.get("--data", ""), model.lm.vocab, model.lm.tokenizer_path, topt);
    ss::RunRequest req;
    req.dense = &model;
    req.tokens = &data;
    req.plan = plan;
    req.options = opt;
    req.lm.ctx = int(a.get_int("--ctx", std::min(512, model.lm.max_positions), 1, 1 << 24));
    req.lm.chunks = int(a.get_int("--chunks", 0, 1, 1 << 30));
    req.lm.gen_tokens = int(a.get_int("--gen-tokens", 32, 0, 1 << 20));
    const auto calib = calibration_text_for(plan, a, model);
    if (calib) req.calibration = ss::CalibrationSet(calib.get(), req.lm.ctx);
    // --cached-baseline: the dense distributions and speed from the cache when this evaluation was
    // measured before - the model (loaded with its BF16 / F16 matrices deferred in the mapping) is
    // then only compressed, never held or run dense; on a miss it is made fp32 and measured as
    // usual, and the cache written.
    std::optional<ss::LmBaselineCache> cache;
    std::unique_ptr<ss::LmBaselineWriter> writer;
    std::string baseline_note;
    if (a.has("--cached-baseline")) {
        const int chunks = ss::lm_chunk_count(data.tokens.size(), req.lm.ctx, req.lm.chunks);
        const int rows = req.lm.ctx - 1 - req.lm.ctx / 2;
        const std::string dir = ss::baseline_cache_dir();
        const std::string key = ss::lm_baseline_cache_key(model, data, req.lm.ctx, chunks, req.lm.gen_tokens, opt.threads);
        if (key.empty()) throw UsageError("--cached-baseline: " + model.name + " has no file hash to key the cache with");
        cache = ss::LmBaselineCache::open(dir, key, chunks, rows, model.lm.vocab);
        if (cache) {
            req.lm.cached = &*cache;
            req.side_by_side = false;
            char when[64];
            const std::time_t t = std::time_t(cache->measured_at);
            std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&t));
            baseline_note = "dense distributions and speed from the baseline cache (measured " + std::string(when) + "; " + cache->path +
                            "); the dense model was not run or held; embeddings, lm_head and routers stay BF16 as stored " +
                            "(bf16-gemv / bf16-tiles), where the dense timing ran them in fp32";
        } else {
            ss::materialize_deferred(model);
            if (chunks >= 2) {
                writer = std::make_unique<ss::LmBaselineWriter>(dir, key, chunks, rows, model.lm.vocab, opt.threads);
                req.lm.record = writer.get();
            }
            baseline_note = "dense baseline measured now and cached in " + dir;
        }
    }
    std::vector<std::string> notes;
    const ss::RunRecord r = ss::run_evaluation(req, &notes);
    const auto [peak, now] = resident_bytes();
    // --robustness (or --ood-text, --typos): the same comparison on out-of-domain text and on the
    // evaluation text with typing errors.
    std::vector<ss::LmRobustnessRow> text_rows;
    if (a.has("--robustness") || a.given("--ood-text") || a.given("--typos")) {
        ss::materialize_deferred(model);
        std::vector<ss::LmTextVariant> variants;
        // Default: the demo's excerpt beside the model, else Debian's whole Jargon File.
        const std::string beside = (std::filesystem::path(model.source_path) / "jargon-ood.txt").string();
        const std::string ood = a.get("--ood-text", ss::file_exists(beside) ? beside : ss::file_exists(kJargonFile) ? kJargonFile : "");
        if (!ood.empty()) variants.push_back({"out of domain: " + std::filesystem::path(ood).filename().string(), ss::load_token_data(ood, model.lm.vocab, model.lm.tokenizer_path, topt)});
        const std::string data_path = a.get("--data", "");
        if (std::filesystem::path(data_path).extension() == ".npy") {
            std::fprintf(stderr, "eval: typos need text; %s holds token ids, so only the out-of-domain text is measured\n", data_path.c_str());
        } else {
            for (const std::string& t : split_list(a.get("--typos", "1,5,10"))) {
                char* end = nullptr;
                const double pct = std::strtod(t.c_str(), &end);
                if (*end || !(pct > 0.0 && pct <= 100.0)) throw UsageError("--typos: '" + t + "' is not a rate in percent, above 0 and at most 100");
                ss::TokenDataOptions noisy = topt;
                noisy.typo_rate = pct / 100.0;
                variants.push_back({"typos " + t + " %", ss::load_token_data(data_path, model.lm.vocab, model.lm.tokenizer_path, noisy)});
            }
        }
        const ss::CompressedModel cm = ss::compress(model, plan, calib ? ss::CalibrationSet(calib.get(), req.lm.ctx) : ss::CalibrationSet());
        ss::LmEvalOptions lo = req.lm;
        lo.threads = opt.threads;
        lo.progress = {};
        text_rows = ss::lm_text_robustness(cm, model, variants, lo);
        const ss::LmRobustnessRow base = ss::lm_robustness_row("evaluation text", r.result);
        text_rows.insert(text_rows.begin(), base);
    }
    // --flipped N: the next tokens of the first chunks that one model predicted and the other did
    // not, the largest change in p(token) first, with the text before them.
    std::vector<ss::FlippedToken> flipped;
    int flipped_chunks = 0;
    std::unique_ptr<ss::Tokenizer> tokenizer;
    if (a.given("--flipped")) {
        ss::materialize_deferred(model);
        const ss::CompressedModel cm = ss::compress(model, plan, calib ? ss::CalibrationSet(calib.get(), req.lm.ctx) : ss::CalibrationSet());
        flipped_chunks = std::min(4, ss::lm_chunk_count(data.tokens.size(), req.lm.ctx, req.lm.chunks)); // bounded: each chunk runs both models again
        for (int c = 0; c < flipped_chunks; ++c) {
            const std::vector<ss::FlippedToken> f = ss::flipped_tokens(ss::inspect_tokens(model, cm.model, data.tokens, req.lm.ctx, c));
            flipped.insert(flipped.end(), f.begin(), f.end());
        }
        std::stable_sort(flipped.begin(), flipped.end(), [](const ss::FlippedToken& x, const ss::FlippedToken& y) {
            return std::fabs(x.dense_p - x.p) > std::fabs(y.dense_p - y.p);
        });
        if (!data.tokenizer.empty()) tokenizer = ss::load_tokenizer(data.tokenizer);
    }
    auto piece = [&](int32_t id) { return tokenizer ? tokenizer->decode({id}) : std::to_string(id); };
    if (a.has("--json")) {
        nlohmann::json j = nlohmann::json::parse(ss::lm_run_json(r, peak));
        if (a.given("--flipped")) {
            int lost = 0;
            nlohmann::json list = nlohmann::json::array();
            for (const ss::FlippedToken& f : flipped) {
                lost += f.lost() ? 1 : 0;
                if (list.size() < size_t(a.get_int("--flipped", 20, 0, 1 << 20)))
                    list.push_back({{"position", f.position}, {"token", piece(f.id)}, {"dense_pred", piece(f.dense_pred)}, {"pred", piece(f.pred)},
                                    {"dense_p", f.dense_p}, {"p", f.p}, {"lost", f.lost()}});
            }
            j["flipped_tokens"] = {{"chunks", flipped_chunks}, {"count", flipped.size()}, {"lost", lost}, {"tokens", list}};
        }
        if (!text_rows.empty()) {
            nlohmann::json rows = nlohmann::json::array();
            for (const ss::LmRobustnessRow& t : text_rows)
                rows.push_back({{"text", t.text}, {"tokens_scored", t.tokens_scored}, {"perplexity", t.perplexity}, {"dense_perplexity", t.dense_perplexity},
                                {"ppl_ratio", t.ppl_ratio}, {"kld_mean", t.kld_mean}, {"same_top_p", t.same_top_p}, {"ece", t.ece}, {"dense_ece", t.dense_ece}});
            j["text_robustness"] = rows;
        }
        std::printf("%s\n", j.dump(-1).c_str());
        return 0;
    }
    const ss::EvalResult& e = r.result;
    const auto& M = e.metrics;
    std::printf("model      %s (%s, %s)\n", model.name.c_str(), model.lm.architecture.c_str(), model.source_path.c_str());
    std::printf("data       %s: %d tokens scored in %d chunks of %d\n", data.source_path.c_str(), e.samples, int(M.at("chunks")), int(M.at("ctx")));
    std::printf("compress   prune %s, quant %s, top-k %d\n", plan.prune_label().c_str(), plan.quant_label().c_str(), e.top_k);
    for (const auto& note : notes) std::printf("           %s\n", note.c_str());
    std::printf("perplexity %.4f +- %.4f (mean NLL %.5f nats; next-token top-1 %.2f %%)\n", M.at("perplexity"), M.at("perplexity_error"), M.at("mean_nll"),
                100.0 * e.accuracy);
    if (M.count("dense_perplexity"))
        std::printf("vs dense   perplexity %.4f (ratio %.4f); KL mean %.5f, p99 %.5f nats; same top token %.2f %%; delta p %+.5f\n", M.at("dense_perplexity"),
                    M.at("ppl_ratio"), M.at("kld_mean"), M.at("kld_p99"), 100.0 * M.at("same_top_p"), M.at("delta_p_mean"));
    for (size_t l = 0; l < e.expert_share.size(); ++l) {
        std::printf("experts    %s:", e.moe_layers[l].c_str());
        for (double s : e.expert_share[l]) std::printf(" %.3f", s);
        std::printf("  (dead %zu)\n", e.expert_stats[l].dead.size());
    }
    std::printf("kernels    %s\n", e.kernels.c_str());
    std::printf("speed      prompt %.0f tokens/s, generation %.1f tokens/s (%d thread%s)\n", M.at("prompt_tps"), M.at("gen_tps"), e.threads, e.threads > 1 ? "s" : "");
    if (e.has_comparison)
        std::printf("           %s on this machine: prompt x%.2f, generation x%.2f (noise margin %.0f %%)%s\n", verdict_text(e),
                    e.comparison.throughput_ratio, e.comparison.latency_ratio, 100 * ss::kSpeedNoise, noise_note(e).c_str());
    print_machine_load(e);
    std::printf("memory     weights %lld bytes, peak resident %lld bytes; sparsity %.4f\n", (long long)e.weight_bytes, (long long)peak, e.sparsity);
    if (M.count("ece")) {
        char dense[48] = "";
        if (M.count("dense_ece")) std::snprintf(dense, sizeof dense, ", dense %.2f %%", 100.0 * M.at("dense_ece"));
        std::printf("calibration next-token ECE %.2f %%%s (15 bins of the top token's probability)\n", 100.0 * M.at("ece"), dense);
    }
    if (a.given("--flipped")) {
        int lost = 0;
        for (const ss::FlippedToken& f : flipped) lost += f.lost() ? 1 : 0;
        std::printf("flipped    %zu next tokens in the first %d chunks: %d lost (dense right, compressed wrong), %zu gained; the largest change in p first\n",
                    flipped.size(), flipped_chunks, lost, flipped.size() - size_t(lost));
        const size_t show = size_t(a.get_int("--flipped", 20, 0, 1 << 20));
        for (size_t i = 0; i < flipped.size() && i < show; ++i) {
            const ss::FlippedToken& f = flipped[i];
            const std::vector<int32_t> span(data.tokens.begin() + std::max(0, f.position - 8), data.tokens.begin() + f.position);
            std::string before = tokenizer ? tokenizer->decode(span) : std::string(); // the text just before, on one line
            for (char& ch : before)
                if (ch == '\n') ch = ' ';
            std::printf("  %-6s %7d  ...%s[%s]  dense %s (p %.2f) -> %s (p %.2f)\n", f.lost() ? "lost" : "gained", f.position, before.c_str(), piece(f.id).c_str(),
                        piece(f.dense_pred).c_str(), double(f.dense_p), piece(f.pred).c_str(), double(f.p));
        }
    }
    if (!text_rows.empty()) {
        std::printf("robustness the same comparison on other text (ctx %d, up to %d chunks each)\n", req.lm.ctx, ss::lm_chunk_count(1u << 30, req.lm.ctx, req.lm.chunks));
        std::printf("  %-30s %7s %11s %11s %8s %9s %9s %13s\n", "text", "tokens", "perplexity", "dense", "ratio", "KL mean", "same top", "ECE / dense");
        for (const ss::LmRobustnessRow& t : text_rows)
            std::printf("  %-30s %7d %11.4f %11.4f %8.4f %9.5f %8.2f%% %5.2f / %5.2f %%\n", t.text.c_str(), t.tokens_scored, t.perplexity, t.dense_perplexity,
                        t.ppl_ratio, t.kld_mean, 100.0 * t.same_top_p, 100.0 * t.ece, 100.0 * t.dense_ece);
    }
    if (!baseline_note.empty()) std::printf("baseline   %s\n", baseline_note.c_str());
    return 0;
}
} // namespace

int cmd_eval(int argc, char** argv) {
    const Args a(argc, argv, 2, {"--data", "--labels", "--label-column", "--prune", "--quant", "--top-k", "--limit", "--threads",
                                 "--input-scale", "--input-mean", "--input-std", "--plan", "--quant-experts-by-use", "--calib",
                                 "--calib-samples", "--ctx", "--chunks", "--tokenizer", "--gen-tokens", "--severities", "--corruptions", "--robustness-samples", "--ood",
                                 "--slices", "--slice-labels", "--ood-text", "--typos", "--flipped"},
                 {"--json", "--static-kernels", "--add-bos", "--allow-nonfinite", "--cached-baseline", "--robustness"});
    if (a.positional.size() != 1) throw UsageError("eval takes exactly one MODEL");
    const ss::CompressionPlan plan = compression_plan_from(a);
    ss::EvalOptions opt;
    opt.limit = int(a.get_int("--limit", 0, 1, 1L << 30));
    opt.threads = int(a.get_int("--threads", 1, 1, 256));
    ss::set_compute_threads(opt.threads); // kernel choices are measured at this thread count
    if (a.has("--static-kernels")) ss::set_kernel_selection(ss::KernelSelection::Static);

    // --cached-baseline: a language model's 16-bit matrices stay in the file until compression reads them.
    ss::Model model = load_model_from(a, a.positional[0], a.has("--cached-baseline"));
    if (model.task == ss::EvalTask::LanguageModeling) return eval_language_model(a, model, plan, opt);
    // Preprocessing overrides (ONNX models carry none: their default is x = raw / 255).
    model.input.scale = a.get_double("--input-scale", model.input.scale, -1e30, 1e30);
    model.input.mean = a.get_double("--input-mean", model.input.mean, -1e30, 1e30);
    model.input.std = a.get_double("--input-std", model.input.std, 1e-30, 1e30);
    if (plan.top_k > 0) {
        for (const ss::MoeLayer* moe : model.moe_layers())
            if (plan.top_k > int(moe->experts.size()))
                throw UsageError("--top-k " + std::to_string(plan.top_k) + " exceeds the " + std::to_string(moe->experts.size()) +
                                 " experts of MoE layer '" + moe->name + "'");
        if (model.moe_layers().empty()) throw UsageError("--top-k given but the model has no MoE layer");
    }
    const std::string data_path = a.get("--data", ss::kDefaultDatasetDir);
    // --limit also bounds what is read: an IDX file is not inflated past the samples evaluated.
    const ss::Dataset data = ss::load_dataset(data_path, {a.get("--labels", ""), a.get("--label-column", ""), opt.limit, ""});
    const auto calib = calibration_data_for(plan, a, data_path);
    ss::RunRequest req;
    ss::RobustnessOptions robustness;
    if (wants_robustness(a)) {
        robustness = robustness_options_from(a);
        req.robustness = &robustness;
    }
    ss::Dataset ood;
    if (a.given("--ood")) {
        ood = ood_samples_from(a, model);
        req.ood = &ood;
        req.ood_name = a.get("--ood", "");
    }
    // --slices FILE.csv:COLUMN (row i describes sample i), --slice-labels NAME=L1,L2[;NAME=...].
    const int evaluated = opt.limit > 0 ? std::min(opt.limit, data.count) : data.count;
    if (a.given("--slices")) {
        const std::string spec = a.get("--slices", "");
        const size_t colon = spec.rfind(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size())
            throw UsageError("--slices '" + spec + "': expected FILE.csv:COLUMN");
        for (ss::Slice& s : ss::slices_from_csv(spec.substr(0, colon), spec.substr(colon + 1), evaluated)) req.slices.push_back(std::move(s));
    }
    if (a.given("--slice-labels")) {
        const std::string all = a.get("--slice-labels", "");
        const std::vector<std::string> names = ss::class_labels(model.labels, data.class_names);
        for (const std::string& spec : split_list(all, ';')) req.slices.push_back(ss::slice_from_labels(spec, data.labels, names, evaluated));
    }
    req.dense = &model;
    req.data = &data;
    req.plan = plan;
    req.calibration = calib.get();
    req.options = opt;
    // --cached-baseline: the dense model's outputs and speed from the baseline cache when this
    // (model, data, samples, preprocessing, threads, CPU) was measured before - the dense model is
    // then neither run nor kept resident; on a miss they are measured as usual and cached.
    std::string baseline_note;
    if (a.has("--cached-baseline")) {
        const int samples = opt.limit > 0 ? std::min(opt.limit, data.count) : data.count;
        const std::string dir = ss::baseline_cache_dir(), key = ss::baseline_cache_key(model, data, samples, opt.threads);
        if (key.empty()) throw UsageError("--cached-baseline: " + model.name + " has no file hash to key the cache with");
        if (auto hit = ss::read_cached_baseline(dir, key)) {
            auto b = std::make_shared<const ss::BaselineOutputs>(std::move(hit->outputs));
            req.baseline = [b](const ss::Model&, int, int) { return b; };
            req.side_by_side = false;
            char when[64];
            const std::time_t t = std::time_t(hit->measured_at);
            std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&t));
            baseline_note = "dense outputs and speed from the baseline cache (measured " + std::string(when) + "; " + hit->path +
                            "); the dense model was not run";
        } else {
            req.baseline = [&, dir, key](const ss::Model& dense, int n, int threads) {
                auto b = std::make_shared<const ss::BaselineOutputs>(ss::compute_baseline(dense, data, n, threads));
                baseline_note = "dense baseline measured now and cached as " + ss::write_cached_baseline(dir, key, *b);
                return b;
            };
        }
    }
    std::vector<std::string> notes;
    const ss::RunRecord r = ss::run_evaluation(req, &notes);

    if (a.has("--json")) {
        std::printf("%s\n", ss::run_record_json(r, ss::class_labels(model.labels, data.class_names)).c_str());
        return 0;
    }
    const ss::EvalResult& e = r.result;
    std::printf("model      %s (%s)\n", model.name.c_str(), model.source_path.c_str());
    std::printf("data       %s, %d samples\n", data.source_path.c_str(), e.samples);
    std::printf("compress   prune %s, quant %s, top-k %d\n", plan.prune_label().c_str(), plan.quant_label().c_str(), e.top_k);
    for (const auto& note : notes) std::printf("           %s\n", note.c_str());
    const ss::Comparison& c = e.comparison;
    std::printf("accuracy   %.2f%%  (dense %.2f%%, delta %+.2f points, 95%% CI [%+.2f, %+.2f]; %d gained, %d lost)\n", 100.0 * e.accuracy,
                100.0 * c.baseline_accuracy, 100.0 * c.accuracy_delta, 100.0 * c.delta_ci_low, 100.0 * c.delta_ci_high, c.gained, c.lost);
    std::printf("agreement  %.2f%% top-1 with the dense model, mean KL %.4f nats\n", 100.0 * c.agreement, c.mean_kl);
    if (!e.per_class_accuracy.empty())
        std::printf("  %-14s %7s  %13s  %7s  %11s  %s\n", "class", "accuracy", "vs dense (pt)", "samples", "lost/gained", "McNemar p (Holm)");
    const std::vector<std::string> names = ss::class_labels(model.labels, data.class_names);
    for (size_t k = 0; k < e.per_class_accuracy.size(); ++k) {
        char delta[32] = "-", p[48] = "-"; // a class with no samples has no change
        if (std::isfinite(c.per_class_delta[k])) std::snprintf(delta, sizeof delta, "%+.2f", 100.0 * c.per_class_delta[k]);
        const bool tested = k < c.class_p_holm.size() && std::isfinite(c.class_p_holm[k]);
        if (tested) std::snprintf(p, sizeof p, "%.3g%s", c.class_p_holm[k], c.class_p_holm[k] < 0.05 ? "  REGRESSION" : "");
        if (tested && c.class_p_holm[k] < 0.05 && c.class_gained[k] > c.class_lost[k]) std::snprintf(p, sizeof p, "%.3g  improved", c.class_p_holm[k]);
        std::printf("  %-14s %6.2f%%  %13s  %7d  %5d/%-5d  %s\n", names[k].c_str(), 100.0 * e.per_class_accuracy[k], delta, e.per_class_count[k],
                    k < c.class_lost.size() ? c.class_lost[k] : 0, k < c.class_gained.size() ? c.class_gained[k] : 0, p);
    }
    std::printf("calibration ECE %.2f %% (dense %.2f %%), 15 bins of the max softmax; mean confidence %.2f %% at %.2f %% accuracy\n",
                100.0 * c.calibration.ece, 100.0 * c.dense_calibration.ece, 100.0 * c.calibration.mean_confidence, 100.0 * c.calibration.accuracy);
    int lost = 0;
    for (const ss::FlippedSample& f : c.flipped) lost += f.lost();
    std::printf("flipped    %d samples: %d right under dense and now wrong, %d the reverse", int(c.flipped.size()), lost, int(c.flipped.size()) - lost);
    int shown = 0;
    for (const ss::FlippedSample& f : c.flipped) {
        if (!f.lost() || shown == 3) continue;
        std::printf("%s #%d %s->%s (p(true) %.2f->%.2f)", shown++ ? "," : "; most confident losses:", f.sample, names[size_t(f.label)].c_str(),
                    names[size_t(f.pred)].c_str(), double(f.dense_p_true), double(f.p_true));
    }
    std::printf("\n");
    for (size_t l = 0; l < e.expert_share.size(); ++l) {
        std::printf("experts    %s:", e.moe_layers[l].c_str());
        for (double s : e.expert_share[l]) std::printf(" %.3f", s);
        const ss::ExpertLayerStats& st = e.expert_stats[l];
        std::printf("\n           entropy %.3f of %.3f bits, max/mean %.2f, dead %zu\n", st.entropy_bits,
                    std::log2(double(e.expert_share[l].size())), st.max_over_mean, st.dead.size());
    }
    std::printf("flops      %.3g per sample (dense-equivalent)\n", e.flops_per_sample);
    std::printf("kernels    %s\n", e.kernels.c_str());
    std::printf("speed      %s on this machine: throughput x%.2f, batch-1 latency x%.2f (noise margin %.0f %%)%s\n", verdict_text(e),
                c.throughput_ratio, c.latency_ratio, 100 * ss::kSpeedNoise, noise_note(e).c_str());
    std::printf("latency    p50 %.3f ms, p95 %.3f ms (batch 1, %d thread%s)\n", e.latency_p50_ms, e.latency_p95_ms, e.threads,
                e.threads > 1 ? "s" : "");
    std::printf("throughput %.0f samples/s\n", e.throughput_sps);
    print_machine_load(e);
    if (!e.slices.empty()) {
        std::printf("slices     (McNemar against dense, Holm-corrected over the slices)\n");
        std::printf("  %-24s %7s  %11s  %9s  %s\n", "slice", "samples", "lost/gained", "change", "Holm p");
        for (const ss::SliceResult& s : e.slices) {
            char p[48] = "-";
            if (!std::isnan(s.p_holm)) std::snprintf(p, sizeof p, "%.3g%s", s.p_holm, s.regression() ? "  REGRESSION" : s.p_holm < 0.05 ? "  improved" : "");
            std::printf("  %-24s %7d  %5d/%-5d  %+8.2f  %s\n", s.name.c_str(), s.count, s.lost, s.gained, s.delta_points, p);
        }
    }
    if (e.has_ood) print_ood(e.ood);
    if (e.has_robustness) print_robustness(e.robustness);
    std::printf("weights    %lld bytes, sparsity %.4f\n", (long long)e.weight_bytes, e.sparsity);
    int64_t model_resident = 0;
    for (const ss::LayerCost& l : e.layers) model_resident += l.resident_bytes;
    std::printf("memory     compressed model resident %lld bytes; process peak resident %lld bytes\n", (long long)model_resident,
                (long long)resident_bytes().first);
    if (!baseline_note.empty()) std::printf("baseline   %s\n", baseline_note.c_str());
    return 0;
}

} // namespace cli
