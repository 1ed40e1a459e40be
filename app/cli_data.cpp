// cli_data.cpp - `sparsescope-cli data PATH [--labels FILE] [--label-column C] [--json]`.
#include "cli_args.h"
#include "cli_commands.h"

#include "data/dataset.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

namespace cli {

int cmd_data(int argc, char** argv) {
    const Args a(argc, argv, 2, {"--labels", "--label-column"}, {"--json"});
    if (a.positional.size() != 1) throw UsageError("data takes exactly one PATH");
    const ss::Dataset d = ss::load_dataset(a.positional[0], {a.get("--labels", ""), a.get("--label-column", "")});
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
        j["value_range"] = {lo, hi};
        std::printf("%s\n", j.dump(1).c_str());
        return 0;
    }
    std::printf("path      %s\nformat    %s\nsha256    %s\nsamples   %d\nfeatures  %d\nvalues    %g .. %g\nclasses   %d\n", d.source_path.c_str(),
                d.format.c_str(), d.sha256.c_str(), d.count, d.features, double(lo), double(hi), d.num_classes);
    for (size_t c = 0; c < counts.size(); ++c)
        std::printf("  class %-4zu %7d  %5.2f %%\n", c, counts[c], 100.0 * counts[c] / std::max(1, d.count));
    return 0;
}

} // namespace cli
