// cli_sessions.cpp - `sparsescope-cli sessions list|show|diff|export|merge|card|purge`: sessions
// read (read-only: the files are never modified) and joined; purge alone writes, and only the
// runs the user deleted leave.
#include "cli_args.h"
#include "cli_commands.h"

#include "error.h"
#include "formats/file_io.h"
#include "eval/model_card.h"
#include "eval/pruning_exemplars.h"
#include "formats/model_io.h"
#include "eval/result_json.h"
#include "eval/baseline_comparison.h"
#include "eval/run_diff.h"
#include "eval/runs_csv.h"
#include "session/session_db.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <map>
#include <set>

namespace cli {

namespace {

std::unique_ptr<ss::SessionDb> open_ro(const std::string& path) { return ss::SessionDb::open(path, ss::SessionAccess::ReadOnly); }

// The runs that read; each damaged one is named on stderr and left out, so one bad row does not
// make every command fail.
std::vector<ss::RunRecord> readable_runs(const ss::SessionDb& db) {
    std::vector<std::string> damaged;
    auto runs = db.runs(&damaged);
    for (const auto& d : damaged) std::fprintf(stderr, "sessions: skipped a damaged run: %s\n", d.c_str());
    return runs;
}

const ss::RunRecord& find_run(const std::vector<ss::RunRecord>& runs, const std::string& id_text, const std::string& path) {
    char* end = nullptr;
    const long long id = std::strtoll(id_text.c_str(), &end, 10);
    if (id_text.empty() || *end) throw UsageError("run '" + id_text + "' is not a run number");
    for (const auto& r : runs)
        if (r.id == id) return r;
    throw ss::Error(path + ": has no run " + id_text + " (runs " + (runs.empty() ? "none" : std::to_string(runs.front().id) + ".." + std::to_string(runs.back().id)) + ")");
}

std::string speed_text(const ss::EvalResult& e) {
    if (!e.has_comparison || e.comparison.throughput_ratio <= 0) return "-";
    char buf[64];
    const ss::SpeedVerdict v = ss::speed_verdict(e.comparison, e.latency_p50_ms, e.latency_p95_ms, e.others_cpus);
    std::snprintf(buf, sizeof buf, "%sx%.2f/x%.2f", v == ss::SpeedVerdict::NotFaster ? "(not faster) " : v == ss::SpeedVerdict::Inconclusive ? "(inconclusive) " : "",
                  e.comparison.throughput_ratio, e.comparison.latency_ratio);
    return buf;
}

int list(const std::string& path) {
    const auto db = open_ro(path);
    const auto runs = readable_runs(*db);
    // Classifiers: accuracy and its change in points; language models: perplexity and its ratio to dense.
    std::printf("%5s  %-20s  %-40s %9s %9s %9s  %s\n", "run", "created", "plan", "acc / ppl", "vs dense", "p50 ms", "speed (thru/lat)");
    for (const auto& r : runs) {
        const auto& e = r.result;
        char delta[32] = "-", quality[32];
        if (e.task == ss::EvalTask::LanguageModeling && e.metrics.count("perplexity")) { // perplexity, and its ratio to dense
            std::snprintf(quality, sizeof quality, "ppl %.3f", e.metrics.at("perplexity"));
            if (e.metrics.count("ppl_ratio")) std::snprintf(delta, sizeof delta, "x%.4f", e.metrics.at("ppl_ratio"));
        } else {
            std::snprintf(quality, sizeof quality, "%.2f%%", 100.0 * e.accuracy);
            if (e.has_comparison) std::snprintf(delta, sizeof delta, "%+.2f", 100.0 * e.comparison.accuracy_delta);
        }
        std::printf("%5lld  %-20s  %-40s %9s %9s %9.3f  %s%s%s%s\n", (long long)r.id, r.created_at.c_str(), r.plan.summary().c_str(), quality, delta,
                    e.latency_p50_ms, speed_text(e).c_str(), r.hidden ? "  (hidden)" : "", r.note.empty() ? "" : "  # ", r.note.c_str());
    }
    std::fprintf(stderr, "%zu runs\n", runs.size());
    if (const int64_t deleted = db->deleted_count(); deleted > 0)
        std::fprintf(stderr, "%lld deleted run(s) not listed, still in the file (sparsescope-cli sessions purge %s removes them)\n",
                     (long long)deleted, path.c_str());
    return 0;
}

int show(const std::string& path, const std::vector<std::string>& rest, bool as_json) {
    auto db = open_ro(path);
    const auto runs = readable_runs(*db);
    if (!rest.empty()) {
        const ss::RunRecord& r = find_run(runs, rest[0], path);
        std::printf("%s\n", ss::run_record_json(r, {}, 2).c_str());
        return 0;
    }
    std::map<std::string, int> models, datasets, machines, versions;
    for (const auto& r : runs) {
        ++models[r.model_name + "  " + r.model_path + (r.model_sha256.empty() ? "" : "  sha256 " + r.model_sha256)];
        ++datasets[r.dataset_path + (r.dataset_sha256.empty() ? "" : "  sha256 " + r.dataset_sha256)];
        ++machines[r.result.machine.empty() ? "(not recorded)" : r.result.machine];
        ++versions[r.app_version.empty() ? "(not recorded)" : r.app_version];
    }
    if (as_json) {
        nlohmann::json j = {{"path", path}, {"schema_version", db->found_version()}, {"runs", runs.size()},
                            {"models", models}, {"datasets", datasets}, {"machines", machines}, {"app_versions", versions}};
        if (auto b = db->meta("baseline_run")) j["baseline_run"] = *b;
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
    }
    std::printf("session   %s (schema %d%s)\n", path.c_str(), db->found_version(),
                db->found_version() < ss::session_schema_version() ? ", older: opens read-only here, migrates when opened for writing" : "");
    std::printf("runs      %zu", runs.size());
    if (!runs.empty()) std::printf(" (%s .. %s)", runs.front().created_at.c_str(), runs.back().created_at.c_str());
    std::printf("\n");
    auto section = [](const char* name, const std::map<std::string, int>& m) {
        for (const auto& [k, n] : m) std::printf("%-9s %s  (%d run%s)\n", name, k.c_str(), n, n == 1 ? "" : "s");
    };
    section("model", models);
    section("dataset", datasets);
    section("machine", machines);
    section("app", versions);
    if (auto b = db->meta("baseline_run")) std::printf("baseline  run %s\n", b->c_str());
    return 0;
}

// "FILE.db:ID" or, with a default file, "ID".
std::pair<std::string, std::string> run_ref(const std::string& s, const std::string& default_file) {
    const size_t colon = s.rfind(':');
    if (colon != std::string::npos && colon + 1 < s.size() && s.find_first_not_of("0123456789", colon + 1) == std::string::npos)
        return {s.substr(0, colon), s.substr(colon + 1)};
    if (default_file.empty()) throw UsageError("run '" + s + "': give FILE:RUN, or the file first and then run numbers");
    return {default_file, s};
}

int diff(const std::vector<std::string>& args, bool as_json) {
    std::pair<std::string, std::string> ra, rb;
    if (args.size() == 3) {
        ra = run_ref(args[1], args[0]);
        rb = run_ref(args[2], args[0]);
    } else if (args.size() == 2) {
        ra = run_ref(args[0], "");
        rb = run_ref(args[1], "");
    } else {
        throw UsageError("sessions diff takes FILE RUN_A RUN_B, or FILE_A:RUN FILE_B:RUN");
    }
    const auto runs_a = readable_runs(*open_ro(ra.first));
    const auto runs_b = ra.first == rb.first ? runs_a : readable_runs(*open_ro(rb.first));
    const ss::RunDiff d = ss::diff_runs(find_run(runs_a, ra.second, ra.first), find_run(runs_b, rb.second, rb.first));
    if (as_json) {
        nlohmann::json j = {{"a", ra.first + ":" + ra.second}, {"b", rb.first + ":" + rb.second}, {"warnings", d.warnings}};
        nlohmann::json rows = nlohmann::json::array();
        for (const auto& r : d.rows)
            rows.push_back({{"section", r.section}, {"field", r.field}, {"a", r.a}, {"b", r.b}, {"delta", r.delta}, {"differs", r.differs}});
        j["rows"] = rows;
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
    }
    for (const auto& w : d.warnings) std::printf("warning: %s\n", w.c_str());
    std::printf("%-8s %-34s %-28s %-28s %s\n", "", "", (ra.first + ":" + ra.second).c_str(), (rb.first + ":" + rb.second).c_str(), "delta");
    for (const auto& r : d.rows)
        std::printf("%c %-7s %-34s %-28s %-28s %s\n", r.differs ? '*' : ' ', r.section.c_str(), r.field.c_str(), r.a.c_str(), r.b.c_str(),
                    r.delta.c_str());
    std::fprintf(stderr, "%d of %zu fields differ\n", d.differing(), d.rows.size());
    return 0;
}

int export_runs(const std::string& path, const Args& a) {
    const auto runs = readable_runs(*open_ro(path));
    const std::string format = a.get("--format", "json");
    std::string out;
    if (format == "json") {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& r : runs) arr.push_back(nlohmann::json::parse(ss::run_record_json(r, {})));
        out = arr.dump(2) + "\n";
    } else if (format == "csv") {
        out = ss::runs_to_csv(runs);
    } else {
        throw UsageError("--format '" + format + "': expected json or csv");
    }
    const std::string dest = a.get("-o", "");
    if (dest.empty()) std::fputs(out.c_str(), stdout);
    else ss::write_file_bytes(dest, std::vector<uint8_t>(out.begin(), out.end()));
    return 0;
}

// A run's identity across sessions: its sweep grid point, else when and what it measured.
std::string identity(const ss::RunRecord& r) {
    if (!r.grid_key.empty()) return "grid:" + r.grid_key;
    return "run:" + r.created_at + "|" + r.model_path + "|" + r.model_sha256 + "|" + r.dataset_sha256 + "|" + r.plan.to_json() + "|" +
           std::to_string(r.result.accuracy) + "|" + std::to_string(r.result.latency_p50_ms);
}

int merge(const std::vector<std::string>& args) {
    if (args.size() < 2) throw UsageError("sessions merge takes OUT.db and at least one IN.db");
    const std::string out_path = args[0];
    for (size_t i = 1; i < args.size(); ++i)
        if (args[i] == out_path) throw UsageError("sessions merge: " + out_path + " is both the output and an input");
    // Every input is read (and so validated) before the output is touched.
    std::vector<std::vector<ss::RunRecord>> inputs;
    for (size_t i = 1; i < args.size(); ++i) inputs.push_back(readable_runs(*open_ro(args[i])));
    auto out = ss::SessionDb::open(out_path, ss::SessionAccess::ReadWrite);
    std::set<std::string> have;
    for (const auto& r : readable_runs(*out)) have.insert(identity(r));
    for (size_t i = 0; i < inputs.size(); ++i) {
        std::vector<ss::RunRecord> add;
        size_t dup = 0;
        for (ss::RunRecord r : inputs[i]) {
            if (!have.insert(identity(r)).second) {
                ++dup;
                continue;
            }
            r.id = 0; // renumbered after the runs already in OUT
            add.push_back(std::move(r));
        }
        out->add_runs(add); // one transaction per input
        std::fprintf(stderr, "merge: %s: %zu runs added, %zu already in %s\n", args[i + 1].c_str(), add.size(), dup, out_path.c_str());
    }
    std::fprintf(stderr, "merge: %s now holds %lld runs\n", out_path.c_str(), (long long)out->run_count());
    return 0;
}

int card(const std::vector<std::string>& p, const Args& a) {
    if (p.size() != 2) throw UsageError("sessions card takes FILE RUN");
    const auto runs = readable_runs(*open_ro(p[0]));
    const ss::RunRecord& r = find_run(runs, p[1], p[0]);
    ss::ModelCardOptions o;
    o.session_path = p[0];
    const std::string model = a.get("--model", "");
    if (!model.empty()) o.labels = ss::load_model(model).labels; // class names
    const std::string md = ss::model_card_markdown(r, o);
    const std::string dest = a.get("-o", "");
    if (dest.empty()) std::fputs(md.c_str(), stdout);
    else ss::write_file_bytes(dest, std::vector<uint8_t>(md.begin(), md.end()));
    return 0;
}

// sessions exemplars FILE [RUN...]: samples lost by every run given; without RUNs, by every pruned
// run on the model and data of the session's last pruned run (a sparsity sweep).
int exemplars(const std::vector<std::string>& p, const Args& a) {
    if (p.empty()) throw UsageError("sessions exemplars takes FILE [RUN...]");
    const auto runs = readable_runs(*open_ro(p[0]));
    std::vector<const ss::RunRecord*> chosen;
    for (size_t i = 1; i < p.size(); ++i) chosen.push_back(&find_run(runs, p[i], p[0]));
    if (chosen.empty()) {
        const ss::RunRecord* last = nullptr;
        for (const ss::RunRecord& r : runs)
            if (r.plan.prune.method != ss::PruneMethod::None && r.result.has_comparison) last = &r;
        if (!last) throw ss::Error(p[0] + ": no pruned run compared with the dense model");
        for (const ss::RunRecord& r : runs)
            if (r.plan.prune.method != ss::PruneMethod::None && r.result.has_comparison && r.model_sha256 == last->model_sha256 &&
                r.model_name == last->model_name && r.dataset_sha256 == last->dataset_sha256 && r.dataset_path == last->dataset_path &&
                r.result.samples == last->result.samples)
                chosen.push_back(&r);
    }
    const ss::ExemplarReport rep = ss::pruning_identified_exemplars(chosen);
    std::vector<std::string> labels;
    if (a.given("--model")) labels = ss::load_model(a.get("--model", "")).labels;
    auto name = [&](int c) { return size_t(c) < labels.size() ? labels[size_t(c)] : std::to_string(c); };
    if (a.has("--json")) {
        nlohmann::json j;
        j["runs"] = rep.run_ids;
        j["samples"] = rep.samples;
        j["count"] = rep.exemplars.size();
        j["per_class"] = rep.per_class;
        nlohmann::json list = nlohmann::json::array();
        for (const ss::PruningExemplar& e : rep.exemplars)
            list.push_back({{"sample", e.sample}, {"label", e.label}, {"preds", e.preds}, {"mean_p_true", e.mean_p_true}, {"dense_p_true", e.dense_p_true}});
        j["exemplars"] = list;
        std::printf("%s\n", j.dump(1).c_str());
        return 0;
    }
    std::string ids;
    for (int64_t id : rep.run_ids) ids += (ids.empty() ? "" : ", ") + std::to_string(id);
    std::printf("%zu of %d samples are right under dense and wrong under every one of runs %s (pruning-identified exemplars)\n", rep.exemplars.size(),
                rep.samples, ids.c_str());
    std::printf("  per class:");
    for (size_t c = 0; c < rep.per_class.size(); ++c)
        if (rep.per_class[c]) std::printf("  %s %d", name(int(c)).c_str(), rep.per_class[c]);
    std::printf("\n  %-7s %-14s %-10s %s\n", "sample", "true class", "mean p", "predictions, run by run");
    const size_t show = size_t(a.get_int("--limit", 20, 0, 1 << 30));
    for (size_t i = 0; i < rep.exemplars.size() && i < show; ++i) {
        const ss::PruningExemplar& e = rep.exemplars[i];
        std::string preds;
        for (int q : e.preds) preds += (preds.empty() ? "" : ", ") + name(q);
        std::printf("  %-7d %-14s %-10.3f %s\n", e.sample, name(e.label).c_str(), e.mean_p_true, preds.c_str());
    }
    if (rep.exemplars.size() > show) std::printf("  ... %zu more (--limit N, --json)\n", rep.exemplars.size() - show);
    return 0;
}

} // namespace

int cmd_sessions(int argc, char** argv) {
    if (argc < 3) throw UsageError("sessions needs a subcommand: list, show, diff, export, merge, card, exemplars or purge");
    const std::string sub = argv[2];
    const Args a(argc, argv, 3, {"--format", "-o", "--model", "--limit"}, {"--json"});
    const auto& p = a.positional;
    if (sub == "list") {
        if (p.size() != 1) throw UsageError("sessions list takes one FILE");
        return list(p[0]);
    }
    if (sub == "show") {
        if (p.empty() || p.size() > 2) throw UsageError("sessions show takes FILE [RUN]");
        return show(p[0], std::vector<std::string>(p.begin() + 1, p.end()), a.has("--json"));
    }
    if (sub == "diff") return diff(p, a.has("--json"));
    if (sub == "export") {
        if (p.size() != 1) throw UsageError("sessions export takes one FILE");
        return export_runs(p[0], a);
    }
    if (sub == "merge") return merge(p);
    if (sub == "card") return card(p, a);
    if (sub == "exemplars") return exemplars(p, a);
    if (sub == "purge") { // the one subcommand that writes: runs deleted in the window leave the file for good
        if (p.size() != 1) throw UsageError("sessions purge takes one FILE");
        auto db = ss::SessionDb::open(p[0], ss::SessionAccess::ReadWrite);
        const int64_t n = db->purge_deleted();
        std::fprintf(stderr, "purge: %lld deleted run(s) removed from %s; %lld runs remain\n", (long long)n, p[0].c_str(), (long long)db->run_count());
        return 0;
    }
    throw UsageError("unknown sessions subcommand '" + sub + "' (list, show, diff, export, merge, card, exemplars, purge)");
}

} // namespace cli
