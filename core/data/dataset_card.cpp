// dataset_card.cpp - provenance from a sidecar, a Debian copyright file or a README (dataset_card.h).
#include "data/dataset_card.h"

#include "data/duplicates.h"
#include "error.h"
#include "formats/file_io.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <sstream>

namespace ss {

namespace {

constexpr size_t kCardMaxBytes = size_t(1) << 20;
constexpr size_t kFieldMaxBytes = size_t(64) << 10;
constexpr const char* kFields[] = {"name", "description", "license", "source", "citation", "collection"};

std::string* field(DatasetProvenance& p, const std::string& key) {
    if (key == "name") return &p.name;
    if (key == "description") return &p.description;
    if (key == "license") return &p.license;
    if (key == "source") return &p.source;
    if (key == "citation") return &p.citation;
    if (key == "collection") return &p.collection;
    return nullptr;
}

std::string trim(const std::string& s) {
    const size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

// Markdown's inline marks dropped: `code` -> code, [text](url) -> text.
std::string plain_markdown(const std::string& line) {
    std::string out;
    for (size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '`') continue;
        if (line[i] == ']' && i + 1 < line.size() && line[i + 1] == '(') {
            const size_t close = line.find(')', i);
            if (close != std::string::npos) {
                i = close;
                continue;
            }
        }
        if (line[i] == '[') continue;
        out += line[i];
    }
    return out;
}

// Debian's machine-readable copyright format (DEP-5): "Source:" in the header paragraph, and the
// "Files: *" paragraph's "Copyright:" and "License:" (its first line: the short name).
DatasetProvenance from_debian_copyright(const std::string& path, const std::string& name) {
    DatasetProvenance p;
    const std::string text = read_text_file(path, kCardMaxBytes);
    std::istringstream in(text);
    std::string line, files;
    bool header = true;
    while (std::getline(in, line)) {
        if (trim(line).empty()) {
            header = false;
            files.clear();
            continue;
        }
        if (line[0] == ' ' || line[0] == '\t') continue; // continuation line
        const size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        const std::string key = lower(line.substr(0, colon)), value = trim(line.substr(colon + 1));
        if (header && key == "source") p.source = value;
        if (key == "files") files = value;
        if (files == "*" && key == "license" && p.license.empty()) p.license = value == "Expat" ? "MIT" : value;
        if (files == "*" && key == "copyright" && p.citation.empty()) p.citation = "Copyright " + value;
    }
    p.name = name;
    p.origin = path;
    return p;
}

// README / README.md beside the data: the first heading (or line) names it, the first paragraph
// after describes it, a "License:" or "Licence:" line gives the licence.
DatasetProvenance from_readme(const std::string& path) {
    DatasetProvenance p;
    const std::string text = read_text_file(path, kCardMaxBytes);
    std::istringstream in(text);
    std::string line, paragraph;
    bool in_paragraph = false, done_paragraph = false;
    while (std::getline(in, line)) {
        const std::string t = trim(line);
        const std::string l = lower(t);
        if (l.rfind("license:", 0) == 0 || l.rfind("licence:", 0) == 0) {
            p.license = trim(t.substr(8));
            continue;
        }
        if (p.name.empty() && !t.empty()) {
            p.name = trim(t.substr(t.find_first_not_of('#') == std::string::npos ? 0 : t.find_first_not_of('#')));
            continue;
        }
        if (done_paragraph) continue;
        if (t.empty()) {
            if (in_paragraph) done_paragraph = true;
            continue;
        }
        if (std::string("#![<*-|>").find(t[0]) != std::string::npos) { // headings, badges, images, HTML, lists, tables
            if (in_paragraph) done_paragraph = true;
            continue;
        }
        if (!paragraph.empty()) paragraph += ' ';
        paragraph += plain_markdown(t);
        in_paragraph = true;
    }
    if (paragraph.size() > 2000) paragraph = paragraph.substr(0, 2000) + " ...";
    p.description = paragraph;
    p.origin = path;
    return p;
}

} // namespace

DatasetProvenance parse_dataset_card(const std::string& json_text, const std::string& origin) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(json_text);
    } catch (const nlohmann::json::exception& e) {
        throw Error(origin + ": not JSON (" + e.what() + ")");
    }
    if (!j.is_object()) throw Error(origin + ": a dataset card is one JSON object, with keys among name, description, license, source, citation, collection");
    DatasetProvenance p;
    for (const auto& [key, value] : j.items()) {
        std::string* f = field(p, key);
        if (!f) throw Error(origin + ": key '" + key + "' is not a dataset card field (name, description, license, source, citation, collection)");
        if (!value.is_string()) throw Error(origin + ": '" + key + "' must be a string");
        const std::string s = value.get<std::string>();
        if (s.size() > kFieldMaxBytes) throw Error(origin + ": '" + key + "' is " + std::to_string(s.size()) + " bytes; at most 65536");
        *f = s;
    }
    p.origin = origin;
    return p;
}

DatasetProvenance read_dataset_card_file(const std::string& path) { return parse_dataset_card(read_text_file(path, kCardMaxBytes), path); }

DatasetProvenance find_dataset_provenance(const Dataset& d) {
    namespace fs = std::filesystem;
    if (d.files.empty()) return {};
    const fs::path dir = fs::path(d.files.front()).parent_path();
    const std::string card = (dir / kDatasetCardFile).string();
    if (file_exists(card) && !is_directory(card)) return read_dataset_card_file(card);
    // Debian installs datasets as /usr/share/datasets/NAME, documented in /usr/share/doc/dataset-NAME.
    if (dir.parent_path() == fs::path("/usr/share/datasets")) {
        const std::string name = dir.filename().string();
        const std::string copyright = "/usr/share/doc/dataset-" + name + "/copyright";
        if (file_exists(copyright)) {
            DatasetProvenance p = from_debian_copyright(copyright, name);
            for (const char* readme : {"README.md.gz", "README.md"}) {
                const std::string r = "/usr/share/doc/dataset-" + name + "/" + readme;
                if (!file_exists(r)) continue;
                const DatasetProvenance from = from_readme(r);
                p.description = from.description;
                if (!from.name.empty()) p.name = from.name;
                break;
            }
            return p;
        }
    }
    for (const char* readme : {"README.md", "README", "README.txt"}) {
        const std::string r = (dir / readme).string();
        if (file_exists(r) && !is_directory(r)) return from_readme(r);
    }
    return {};
}

std::string provenance_json(const DatasetProvenance& p) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    DatasetProvenance copy = p;
    for (const char* k : kFields) j[k] = *field(copy, k);
    return j.dump(1);
}

std::string dataset_card_json(const Dataset& d, const DatasetProvenance& p, const DuplicateReport* leakage) {
    nlohmann::ordered_json j;
    auto& f = j["dataset"];
    f["path"] = d.source_path;
    f["format"] = d.format;
    f["files"] = d.files;
    f["sha256"] = d.sha256;
    f["samples"] = d.count;
    f["features"] = d.features;
    f["classes"] = d.num_classes;
    f["class_counts"] = d.class_counts();
    f["class_names"] = d.class_names;
    float lo = 0.0f, hi = 0.0f;
    if (!d.raw.empty()) {
        const auto [mn, mx] = std::minmax_element(d.raw.begin(), d.raw.end());
        lo = *mn;
        hi = *mx;
    }
    f["value_range"] = {lo, hi};
    j["provenance"] = nlohmann::ordered_json::parse(provenance_json(p));
    j["provenance"]["origin"] = p.origin;
    if (leakage) {
        auto& l = j["leakage"];
        l["against"] = leakage->second;
        l["against_samples"] = leakage->second_count;
        l["exact_pairs"] = leakage->exact_pairs;
        l["near_pairs"] = leakage->near_pairs;
        l["near_candidates"] = leakage->near_candidates;
        l["label_conflicts"] = leakage->label_conflicts;
        l["samples_affected"] = leakage->first_affected;
        l["near_searched"] = leakage->images;
    }
    return j.dump(1);
}

} // namespace ss
