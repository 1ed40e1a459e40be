// cli_data.cpp - `sparsescope-cli data PATH [--labels FILE] [--label-column C] [--classes FILE]
// [--card] [--duplicates] [--leakage TRAIN] [--pairs N] [--threads N] [--json]`.
#include "cli_args.h"
#include "cli_commands.h"

#include "data/dataset.h"
#include "data/class_names.h"
#include "data/dataset_card.h"
#include "data/duplicates.h"
#include "data/idx_dataset.h"
#include "data/text_overlap.h"
#include "formats/sha256.h"
#include "formats/file_io.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <optional>

namespace cli {

namespace {

nlohmann::json report_json(const ss::DuplicateReport& r) {
    nlohmann::json j;
    j["first"] = r.first;
    j["first_samples"] = r.first_count;
    if (!r.second.empty()) {
        j["second"] = r.second;
        j["second_samples"] = r.second_count;
    }
    j["exact_pairs"] = r.exact_pairs;
    j["near_searched"] = r.images;
    j["near_candidates"] = r.near_candidates;
    j["near_pairs"] = r.near_pairs;
    j["rms_limit"] = r.rms_limit;
    j["label_conflicts"] = r.label_conflicts;
    j["samples_affected"] = r.first_affected;
    nlohmann::json pairs = nlohmann::json::array();
    for (const ss::DuplicatePair& p : r.pairs)
        pairs.push_back({{"a", p.a}, {"b", p.b}, {"exact", p.exact}, {"hamming", p.hamming}, {"rms", p.rms}, {"same_label", p.same_label}});
    j["pairs"] = pairs;
    return j;
}

void print_report(const ss::DuplicateReport& r, const ss::Dataset& first, const ss::Dataset& second, size_t show) {
    const std::string what = r.second.empty() ? "duplicates within " + r.first : r.first + " samples also in " + r.second;
    std::printf("\n%s (%d%s samples)\n", what.c_str(), r.first_count, r.second.empty() ? "" : (" against " + std::to_string(r.second_count)).c_str());
    std::printf("  exact pairs       %lld\n", (long long)r.exact_pairs);
    if (r.images)
        std::printf("  near pairs        %lld   (dHash within 4 bits: %lld candidates; confirmed at RMS difference <= %.1f)\n", (long long)r.near_pairs,
                    (long long)(r.near_candidates), r.rms_limit);
    else
        std::printf("  near pairs        not searched (the samples are not square images)\n");
    std::printf("  label conflicts   %lld   (pairs whose labels differ)\n", (long long)r.label_conflicts);
    std::printf("  %s affected  %d (%.2f %%)\n", r.first.c_str(), r.first_affected, 100.0 * r.first_affected / std::max(1, r.first_count));
    if (r.pairs.empty()) return;
    std::printf("  %-8s %-8s %-6s %7s %7s  %s\n", r.first.c_str(), r.second.empty() ? r.first.c_str() : r.second.c_str(), "kind", "dHash", "RMS", "labels");
    auto label = [](const ss::Dataset& d, int i) {
        const int l = d.labels[size_t(i)];
        return size_t(l) < d.class_names.size() ? d.class_names[size_t(l)] : std::to_string(l);
    };
    for (size_t k = 0; k < r.pairs.size() && k < show; ++k) {
        const ss::DuplicatePair& p = r.pairs[k];
        std::printf("  %-8d %-8d %-6s %7d %7.2f  %s%s%s\n", p.a, p.b, p.exact ? "exact" : "near", p.hamming, p.rms, label(first, p.a).c_str(),
                    p.same_label ? "" : " / ", p.same_label ? "" : label(second, p.b).c_str());
    }
    if (r.pairs.size() > show) std::printf("  ... %zu more kept (--pairs N shows more; --json lists them all)\n", r.pairs.size() - show);
}

} // namespace

bool is_text(const std::string& path) {
    auto ends = [&](const char* s) { return path.size() >= std::strlen(s) && path.compare(path.size() - std::strlen(s), std::string::npos, s) == 0; };
    return ends(".txt") || ends(".txt.gz");
}

// data TEXT [--leakage TRAIN_TEXT] [--ngram N]: text, and its word n-grams also in the training text.
int text_data(const Args& a) {
    constexpr size_t kMaxText = size_t(1) << 30;
    const std::string path = a.positional[0];
    const std::string text = ss::read_text_file(path, kMaxText);
    const int n = int(a.get_int("--ngram", 13, 1, 64));
    std::optional<ss::TextOverlap> overlap;
    if (a.given("--leakage")) overlap = ss::text_overlap(text, ss::read_text_file(a.get("--leakage", ""), kMaxText), n);
    const ss::TextOverlap self = overlap ? *overlap : ss::text_overlap(text, "", n);
    if (a.has("--json")) {
        nlohmann::json j;
        j["path"] = path;
        j["sha256"] = ss::sha256_files_hex({path});
        j["bytes"] = text.size();
        j["lines"] = self.test_lines;
        j["windows"] = self.test_windows;
        if (overlap)
            j["leakage"] = {{"against", a.get("--leakage", "")}, {"n", n}, {"shared_windows", overlap->shared_windows}, {"lines_touched", overlap->lines_touched},
                            {"examples", overlap->examples}};
        std::printf("%s\n", j.dump(1).c_str());
        return 0;
    }
    std::printf("path      %s\nformat    text\nsha256    %s\nbytes     %zu\nlines     %lld (not empty)\n", path.c_str(), ss::sha256_files_hex({path}).c_str(),
                text.size(), (long long)self.test_lines);
    if (!overlap) return 0;
    std::printf("\n%d-word windows also in %s\n", n, a.get("--leakage", "").c_str());
    std::printf("  shared windows    %lld of %lld (%.2f %%)\n", (long long)overlap->shared_windows, (long long)overlap->test_windows,
                100.0 * double(overlap->shared_windows) / double(std::max<int64_t>(1, overlap->test_windows)));
    std::printf("  lines touched     %lld of %lld (%.2f %%)\n", (long long)overlap->lines_touched, (long long)overlap->test_lines,
                100.0 * double(overlap->lines_touched) / double(std::max<int64_t>(1, overlap->test_lines)));
    for (const std::string& e : overlap->examples) std::printf("    \"%s\"\n", e.c_str());
    return 0;
}

int cmd_data(int argc, char** argv) {
    const Args a(argc, argv, 2, {"--labels", "--label-column", "--classes", "--leakage", "--pairs", "--threads", "--ngram"}, {"--json", "--card", "--duplicates"});
    if (a.positional.size() != 1) throw UsageError("data takes exactly one PATH");
    if (is_text(a.positional[0])) return text_data(a);
    ss::DatasetOptions options;
    options.labels_path = a.get("--labels", "");
    options.label_column = a.get("--label-column", "");
    options.classes_path = a.get("--classes", "");
    const size_t show = size_t(a.get_int("--pairs", 10, 0, 1000000));
    ss::DuplicateOptions dup;
    dup.threads = int(a.get_int("--threads", 2, 1, 256));
    dup.max_pairs = int(std::max<size_t>(show, 2000));
    const ss::Dataset d = ss::load_dataset(a.positional[0], options);

    // TRAIN: a dataset path; an IDX directory gives its train split (so PATH and TRAIN may be the same directory).
    std::optional<ss::Dataset> train;
    if (a.given("--leakage")) {
        const std::string t = a.get("--leakage", "");
        if (ss::is_directory(t) && ss::idx_dir_has_split(t, "train")) {
            train = ss::load_idx_dir(t, "train");
            train->class_names = ss::find_class_names(*train).names;
        } else {
            ss::DatasetOptions to;
            to.classes_path = options.classes_path;
            train = ss::load_dataset(t, to);
        }
    }
    const auto t0 = std::chrono::steady_clock::now();
    std::optional<ss::DuplicateReport> within, leakage;
    if (a.has("--duplicates") || train) within = ss::find_duplicates(d, dup, "this split");
    if (train) leakage = ss::find_leakage(d, *train, dup, "test", "train");
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const ss::DatasetProvenance prov = a.has("--card") || a.has("--json") ? ss::find_dataset_provenance(d) : ss::DatasetProvenance{};

    const std::vector<int> counts = d.class_counts();
    float lo = 0.0f, hi = 0.0f;
    if (!d.raw.empty()) {
        const auto [mn, mx] = std::minmax_element(d.raw.begin(), d.raw.end());
        lo = *mn;
        hi = *mx;
    }
    if (a.has("--json")) {
        nlohmann::json j;
        j["path"] = d.source_path;
        j["format"] = d.format;
        j["files"] = d.files;
        j["sha256"] = d.sha256;
        j["samples"] = d.count;
        j["features"] = d.features;
        j["classes"] = d.num_classes;
        j["class_counts"] = counts;
        j["class_names"] = d.class_names;
        j["class_names_source"] = d.class_names.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.class_names_source);
        j["value_range"] = {lo, hi};
        if (a.has("--card")) j["card"] = nlohmann::json::parse(ss::dataset_card_json(d, prov, leakage ? &*leakage : nullptr));
        if (within) j["duplicates"] = report_json(*within);
        if (leakage) j["leakage"] = report_json(*leakage);
        std::printf("%s\n", j.dump(1).c_str());
        return 0;
    }
    std::printf("path      %s\nformat    %s\nsha256    %s\nsamples   %d\nfeatures  %d\nvalues    %g .. %g\nclasses   %d\n", d.source_path.c_str(),
                d.format.c_str(), d.sha256.c_str(), d.count, d.features, double(lo), double(hi), d.num_classes);
    std::printf("names     %s\n", d.class_names.empty() ? "not known (a classes.txt beside the data, one name per line, gives them; or --classes FILE)"
                                                         : d.class_names_source.c_str());
    size_t width = 4; // the name column, as wide as the longest name
    for (size_t c = 0; c < counts.size() && c < d.class_names.size(); ++c) width = std::max(width, d.class_names[c].size());
    std::printf("  %-5s %-*s %8s %8s\n", "class", int(width), d.class_names.empty() ? "" : "name", "samples", "share");
    for (size_t c = 0; c < counts.size(); ++c)
        std::printf("  %-5zu %-*s %8d %6.2f %%\n", c, int(width), c < d.class_names.size() ? d.class_names[c].c_str() : "", counts[c],
                    100.0 * counts[c] / std::max(1, d.count));
    if (a.has("--card")) {
        std::printf("\ncard      %s\n", prov.origin.empty() ? "no provenance found (write a dataset-card.json beside the data: name, description, license, "
                                                              "source, citation, collection)"
                                                            : ("from " + prov.origin).c_str());
        auto line = [](const char* k, const std::string& v) { std::printf("  %-12s %s\n", k, v.empty() ? "(not stated)" : v.c_str()); };
        line("name", prov.name);
        line("license", prov.license);
        line("source", prov.source);
        line("citation", prov.citation);
        line("collection", prov.collection);
        line("description", prov.description.size() > 300 ? prov.description.substr(0, 300) + " ..." : prov.description);
    }
    if (within) print_report(*within, d, d, show);
    if (leakage) print_report(*leakage, d, *train, show);
    if (within || leakage) std::printf("\nsearched in %.1f s with %d thread%s\n", seconds, dup.threads, dup.threads > 1 ? "s" : "");
    return 0;
}

} // namespace cli
