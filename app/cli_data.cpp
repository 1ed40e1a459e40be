// cli_data.cpp - `sparsescope-cli data PATH [--labels FILE] [--label-column C] [--classes FILE] [--json]`.
#include "cli_args.h"
#include "cli_commands.h"

#include "data/dataset.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

namespace cli {

int cmd_data(int argc, char** argv) {
    const Args a(argc, argv, 2, {"--labels", "--label-column", "--classes"}, {"--json"});
    if (a.positional.size() != 1) throw UsageError("data takes exactly one PATH");
    ss::DatasetOptions options;
    options.labels_path = a.get("--labels", "");
    options.label_column = a.get("--label-column", "");
    options.classes_path = a.get("--classes", "");
    const ss::Dataset d = ss::load_dataset(a.positional[0], options);
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
    return 0;
}

} // namespace cli
