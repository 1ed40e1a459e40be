// cli_tokenize.cpp - `sparsescope-cli tokenize MODEL_DIR|TOKENIZER (--text T | --file F) [--json]`:
// the token ids (and pieces) a tokenizer gives a text, as evaluation would see them.
#include "cli_args.h"
#include "cli_commands.h"

#include "error.h"
#include "formats/file_io.h"
#include "formats/tokenizer.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace cli {

int cmd_tokenize(int argc, char** argv) {
    const Args a(argc, argv, 2, {"--text", "--file"}, {"--json", "--add-bos"});
    if (a.positional.size() != 1) throw UsageError("tokenize takes exactly one MODEL directory or tokenizer file");
    if (a.options.count("--text") == a.options.count("--file")) throw UsageError("tokenize needs --text TEXT or --file FILE (one of them)");
    std::string path = a.positional[0];
    if (ss::is_directory(path)) {
        path = ss::tokenizer_in_directory(path);
        if (path.empty()) throw ss::Error(a.positional[0] + ": the directory has no tokenizer.model or tokenizer.json");
    }
    const auto tok = ss::load_tokenizer(path);
    std::string text = a.get("--text", "");
    std::string source = "--text";
    if (a.options.count("--file")) {
        source = a.get("--file", "");
        text = ss::read_text_file(source, size_t(1) << 30); // plain or .gz, as evaluation text
        if (const size_t at = ss::invalid_utf8_at(text); at != std::string::npos)
            throw ss::Error(source + ": not valid UTF-8 at byte " + std::to_string(at));
    }
    std::vector<int32_t> ids;
    if (a.has("--add-bos")) {
        if (tok->bos() < 0) throw ss::Error(path + ": --add-bos given but the tokenizer has no BOS token");
        ids.push_back(tok->bos());
    }
    for (int32_t id : tok->encode(text)) ids.push_back(id);
    if (a.has("--json")) {
        nlohmann::json j;
        j["tokenizer"] = path;
        j["vocab_size"] = tok->vocab_size();
        j["count"] = ids.size();
        j["ids"] = ids;
        std::printf("%s\n", j.dump().c_str());
        return 0;
    }
    std::printf("tokenizer  %s (%d tokens in its vocabulary)\ntext       %s, %zu bytes -> %zu tokens\n", path.c_str(), tok->vocab_size(), source.c_str(),
                text.size(), ids.size());
    for (int32_t id : ids) std::printf("%8d  %s\n", id, nlohmann::json(tok->piece(id)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
}

} // namespace cli
