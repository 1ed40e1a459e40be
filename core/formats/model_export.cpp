// model_export.cpp
#include "formats/model_export.h"

#include "formats/byte_source.h"
#include "formats/file_io.h"
#include "formats/hf_model.h"
#include "formats/model_io.h"
#include "formats/sha256.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

namespace ss {

std::string model_source_sha256(const Model& model) {
    namespace fs = std::filesystem;
    if (model.source_path.empty()) return {};
    Sha256 h;
    auto add = [&h](const std::string& path) {
        const auto bytes = map_file(path);
        h.update(bytes->data(), bytes->size());
    };
    if (is_directory(model.source_path)) {
        add((fs::path(model.source_path) / "config.json").string());
        std::vector<std::string> files = model.source.files;
        std::sort(files.begin(), files.end());
        for (const auto& f : files) add((fs::path(model.source_path) / f).string());
    } else {
        add(model.source_path);
    }
    return h.finish_hex();
}

void export_compressed_model(const CompressedModel& c, const Model& source, const std::string& out) {
    char sparsity[32];
    std::snprintf(sparsity, sizeof sparsity, "%.6f", c.sparsity);
    std::string notes;
    for (const auto& n : c.notes) notes += (notes.empty() ? "" : "; ") + n;
    const std::map<std::string, std::string> metadata{
                {"sparsescope.plan", c.plan.to_json()},
                {"sparsescope.prune", c.plan.prune_label()},
                {"sparsescope.quant", c.plan.quant_label()},
                {"sparsescope.sparsity", sparsity},
                {"sparsescope.notes", notes},
                {"sparsescope.source_name", source.name},
                {"sparsescope.source_sha256", model_source_sha256(source)}};
    if (c.model.task == EvalTask::LanguageModeling) save_hf_model(c.model, out, metadata);
    else save_model(c.model, out, metadata);
}

} // namespace ss
