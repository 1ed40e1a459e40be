// cli_model.cpp - `sparsescope-cli info` and `export`.
#include "cli_args.h"
#include "model/matrices.h"
#include "cli_commands.h"

#include "compress/compression.h"
#include "error.h"
#include "formats/model_config.h"
#include "formats/gguf_export.h"
#include "formats/model_export.h"
#include "formats/model_io.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>

namespace cli {

namespace {
// "f32", or e.g. "int4:g32 x 16, f32 x 2": the storage of the compressible matrices.
std::string quant_summary(const ss::Model& m) {
    std::map<std::string, int> count;
    ss::for_each_matrix(m, [&](const ss::LinearWeights& l) { ++count[l.quant ? l.quant->spec.label() : "f32"]; });
    if (count.size() == 1) return count.begin()->first;
    std::string s;
    for (const auto& [k, n] : count) s += (s.empty() ? "" : ", ") + k + " x " + std::to_string(n);
    return s;
}

std::string shape_text(const std::vector<int64_t>& s) {
    std::string r = "[";
    for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
    return r + "]";
}
} // namespace

namespace {
// A language model's blocks, one line each: attention heads and the feed-forward part.
std::string block_line(const ss::DecoderBlock& b) {
    char s[256];
    if (b.is_moe) {
        const ss::MoeLayer& m = b.moe;
        const char* rule = m.rule == ss::RoutingRule::TopKSoftmax ? "softmax over top-k" : m.rule == ss::RoutingRule::SoftmaxTopKRenorm ? "softmax, top-k renormalised" : "softmax, top-k";
        std::snprintf(s, sizeof s, "%s: attention %d heads (%d kv) x %d; MoE %zu experts of %d, top-%d (%s)%s", b.name.c_str(), b.attn.heads, b.attn.kv_heads,
                      b.attn.head_dim, m.experts.size(), m.hidden, m.top_k, rule, m.has_shared ? ", shared expert" : "");
    } else {
        std::snprintf(s, sizeof s, "%s: attention %d heads (%d kv) x %d; MLP %d", b.name.c_str(), b.attn.heads, b.attn.kv_heads, b.attn.head_dim, b.mlp.fc1.out);
    }
    return s;
}

int info_language_model(const ss::Model& m, bool as_json) {
    if (as_json) {
        nlohmann::json j;
        j["path"] = m.source_path;
        j["format"] = "huggingface";
        j["architecture"] = m.lm.architecture;
        j["name"] = m.name;
        j["config"] = nlohmann::json::parse(m.lm.config_json);
        j["parameters"] = m.parameter_count();
        j["vocab"] = m.lm.vocab;
        j["max_positions"] = m.lm.max_positions;
        j["moe_layers"] = m.moe_layers().size();
        j["tokenizer"] = m.lm.tokenizer_path;
        j["files"] = m.source.files;
        j["file_bytes"] = m.source.bytes;
        nlohmann::json tensors = nlohmann::json::array();
        for (const auto& t : m.source.tensors) tensors.push_back({{"name", t.name}, {"dtype", t.dtype}, {"shape", t.shape}, {"file", t.file}});
        j["tensors"] = tensors;
        std::printf("%s\n", j.dump(1).c_str());
        return 0;
    }
    std::printf("model       %s\npath        %s\nformat      Hugging Face %s\nparameters  %lld\nvocabulary  %d tokens (%s)\ncontext     %d positions\nfiles       ",
                m.name.c_str(), m.source_path.c_str(), m.lm.architecture.c_str(), (long long)m.parameter_count(), m.lm.vocab,
                m.lm.tokenizer_path.empty() ? "no tokenizer file" : m.lm.tokenizer_path.c_str(), m.lm.max_positions);
    for (size_t i = 0; i < m.source.files.size(); ++i) std::printf("%s%s", i ? ", " : "", m.source.files[i].c_str());
    std::printf(" (%llu bytes)\n\nlayers\n", (unsigned long long)m.source.bytes);
    for (const auto& layer : m.layers)
        if (auto* b = std::get_if<ss::DecoderBlock>(&layer)) std::printf("  %s\n", block_line(*b).c_str());
    std::printf("  lm_head%s\n\ntensors\n", m.lm.tied_embeddings ? " (tied to the embeddings)" : "");
    for (const auto& t : m.source.tensors)
        std::printf("  %-56s %-5s %-16s %s\n", t.name.c_str(), t.dtype.c_str(), shape_text(t.shape).c_str(), t.file.c_str());
    return 0;
}
} // namespace

int cmd_info(int argc, char** argv) {
    const Args a(argc, argv, 2, {}, {"--json", "--allow-nonfinite"});
    if (a.positional.size() != 1) throw UsageError("info takes exactly one MODEL");
    const ss::Model m = load_model_from(a, a.positional[0]);
    if (m.task == ss::EvalTask::LanguageModeling) return info_language_model(m, a.has("--json"));
    nlohmann::json cfg = nlohmann::json::parse(ss::model_config_json(m));
    const std::string& p = m.source_path;
    const bool onnx = p.size() > 5 && p.compare(p.size() - 5, 5, ".onnx") == 0;
    const std::string source_format = onnx ? "onnx (imported as " + cfg["format"].get<std::string>() + ")" : cfg["format"].get<std::string>();
    if (a.has("--json")) {
        nlohmann::json j;
        j["path"] = m.source_path;
        j["format"] = source_format;
        j["name"] = m.name;
        j["config"] = cfg;
        j["parameters"] = m.parameter_count();
        j["quantization"] = quant_summary(m);
        j["files"] = m.source.files;
        j["file_bytes"] = m.source.bytes;
        nlohmann::json tensors = nlohmann::json::array();
        for (const auto& t : m.source.tensors) tensors.push_back({{"name", t.name}, {"dtype", t.dtype}, {"shape", t.shape}, {"file", t.file}});
        j["tensors"] = tensors;
        nlohmann::json meta = nlohmann::json::object();
        for (const auto& [k, v] : m.source.metadata) meta[k] = v;
        j["metadata"] = meta;
        std::printf("%s\n", j.dump(1).c_str());
        return 0;
    }
    std::printf("model       %s\npath        %s\nformat      %s\nweights     %s\nparameters  %lld\nfiles       ", m.name.c_str(),
                m.source_path.c_str(), source_format.c_str(), quant_summary(m).c_str(), (long long)m.parameter_count());
    for (size_t i = 0; i < m.source.files.size(); ++i) std::printf("%s%s", i ? ", " : "", m.source.files[i].c_str());
    std::printf(" (%llu bytes)\n\nlayers\n", (unsigned long long)m.source.bytes);
    for (const auto& l : cfg["layers"]) {
        std::string line = "  " + l["type"].get<std::string>();
        for (auto it = l.begin(); it != l.end(); ++it)
            if (it.key() != "type") line += " " + it.key() + "=" + it.value().dump();
        std::printf("%s\n", line.c_str());
    }
    std::printf("\ntensors\n");
    for (const auto& t : m.source.tensors)
        std::printf("  %-32s %-5s %-14s %s\n", t.name.c_str(), t.dtype.c_str(), shape_text(t.shape).c_str(), t.file.c_str());
    std::printf("\nmetadata\n");
    for (const auto& [k, v] : m.source.metadata) {
        // One line per entry: JSON compacted, other text with its line breaks shown as spaces; a
        // long value is cut at a character boundary and says where the whole of it is.
        std::string shown = v;
        const auto parsed = nlohmann::json::parse(v, nullptr, false);
        if (!parsed.is_discarded() && (parsed.is_object() || parsed.is_array())) shown = parsed.dump();
        for (char& c : shown)
            if (c == '\n' || c == '\r' || c == '\t') c = ' ';
        if (shown.size() > 72) {
            size_t cut = 60;
            while (cut > 0 && (uint8_t(shown[cut]) & 0xC0) == 0x80) --cut; // not inside a UTF-8 sequence
            shown = shown.substr(0, cut) + "... (" + std::to_string(v.size()) + " bytes; --json prints all)";
        }
        std::printf("  %-28s %s\n", k.c_str(), shown.c_str());
    }
    return 0;
}

// export MODEL [COMPRESSION] -o OUT [--format safetensors|gguf]: OUT ending in .gguf means gguf.
// For GGUF, --quant f32|f16|bf16|q8_0|q4_0 is the tensor type of the matrices the plan leaves
// unquantized (ggml's own rounding for Q8_0 / Q4_0); any other --quant is SparseScope's scheme,
// whose values the file carries unchanged (int8 as Q8_0, int4 and below as Q4_0).
int export_gguf_file(const Args& given, const std::string& out) {
    Args a = given;
    ss::GgufExportOptions options;
    if (const auto t = ss::parse_ggml_type(a.get("--quant", ""))) {
        options.dense_type = *t;
        a.options.erase("--quant");
    }
    const ss::CompressionPlan plan = compression_plan_from(a);
    const ss::Model model = load_model_from(a, a.positional[0]);
    if (model.task != ss::EvalTask::LanguageModeling)
        throw ss::Error(a.positional[0] + ": GGUF export writes language models (llama.cpp's format); write a classifier as safetensors");
    const auto calib = calibration_text_for(plan, a, model);
    const ss::CompressedModel c = ss::compress(model, plan, calib ? ss::CalibrationSet(calib.get(), std::min(512, model.lm.max_positions)) : ss::CalibrationSet());
    options.metadata = {{"sparsescope.plan", plan.to_json()}, {"sparsescope.sparsity", std::to_string(c.sparsity)}, {"sparsescope.source_name", model.name}};
    const std::vector<std::string> types = ss::export_gguf(c.model, out, options);
    for (const auto& note : c.notes) std::fprintf(stderr, "export: %s\n", note.c_str());
    std::string summary;
    for (const auto& t : types) summary += (summary.empty() ? "" : ", ") + t;
    std::fprintf(stderr, "export: wrote %s (GGUF v3, llama architecture; %s; %s, sparsity %.4f)\n", out.c_str(), summary.c_str(), plan.summary().c_str(), c.sparsity);
    return 0;
}

int cmd_export(int argc, char** argv) {
    const Args a(argc, argv, 2, {"--prune", "--quant", "--top-k", "-o", "--plan", "--quant-experts-by-use", "--calib", "--calib-samples", "--data", "--format", "--tokenizer"},
                 {"--allow-nonfinite"});
    if (a.positional.size() != 1) throw UsageError("export takes exactly one MODEL");
    const std::string out = a.get("-o", "");
    if (out.empty()) throw UsageError("export needs -o OUT (a directory, a file ending in .safetensors, or one ending in .gguf)");
    const std::string format = a.get("--format", out.size() > 5 && out.compare(out.size() - 5, 5, ".gguf") == 0 ? "gguf" : "safetensors");
    if (format == "gguf") return export_gguf_file(a, out);
    if (format != "safetensors") throw UsageError("--format '" + format + "': expected safetensors or gguf");
    const ss::CompressionPlan plan = compression_plan_from(a);
    const ss::Model model = load_model_from(a, a.positional[0]);
    const auto calib = calibration_data_for(plan, a, a.get("--data", ss::kDefaultDatasetDir));
    const ss::CompressedModel c = ss::compress(model, plan, calib.get());
    ss::export_compressed_model(c, model, out);
    for (const auto& note : c.notes) std::fprintf(stderr, "export: %s\n", note.c_str());
    std::fprintf(stderr, "export: wrote %s (%s, sparsity %.4f, %lld weight bytes)\n", out.c_str(), plan.summary().c_str(), c.sparsity,
                 (long long)c.weight_bytes);
    return 0;
}

} // namespace cli
