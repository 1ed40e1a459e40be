// slices.cpp - slices from a CSV column or a label set, and their McNemar tests (slices.h).
#include "eval/slices.h"

#include "error.h"
#include "eval/mcnemar.h"
#include "formats/file_io.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

namespace ss {

namespace {

constexpr size_t kMaxSliceFile = size_t(256) << 20;
constexpr size_t kMaxValue = 256;

// One CSV record's fields: commas separate, double quotes enclose (a doubled quote inside is one).
std::vector<std::string> fields(const std::string& line, const std::string& where) {
    std::vector<std::string> out(1);
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') out.back() += '"', ++i;
            else if (c == '"') quoted = false;
            else out.back() += c;
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            out.emplace_back();
        } else if (c != '\r') {
            out.back() += c;
        }
    }
    if (quoted) throw Error(where + ": a quoted field is not closed (fields in double quotes must end with one)");
    return out;
}

std::string trim(const std::string& s) {
    const size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

} // namespace

std::vector<Slice> slices_from_csv(const std::string& path, const std::string& column, int samples) {
    const std::string text = read_text_file(path, kMaxSliceFile);
    std::istringstream in(text);
    std::string line;
    if (!std::getline(in, line)) throw Error(path + ": empty; a slice file has a header row and one row per sample");
    const std::vector<std::string> header = fields(line, path + ": line 1");
    int col = -1;
    for (size_t i = 0; i < header.size(); ++i)
        if (trim(header[i]) == column) col = int(i);
    if (col < 0) {
        std::string names;
        for (const std::string& h : header) names += (names.empty() ? "" : ", ") + trim(h);
        throw Error(path + ": no column '" + column + "' in the header (" + names + ")");
    }
    std::vector<Slice> out;
    std::unordered_map<std::string, size_t> index;
    int row = 0;
    for (int lineno = 2; row < samples && std::getline(in, line); ++lineno) {
        const std::string where = path + ": line " + std::to_string(lineno);
        const std::vector<std::string> f = fields(line, where);
        if (int(f.size()) <= col) throw Error(where + ": " + std::to_string(f.size()) + " fields; column '" + column + "' is field " + std::to_string(col + 1));
        const std::string value = trim(f[size_t(col)]);
        if (value.size() > kMaxValue) throw Error(where + ": the value of '" + column + "' is " + std::to_string(value.size()) + " bytes; at most 256");
        auto it = index.find(value);
        if (it == index.end()) {
            if (out.size() >= size_t(kMaxSliceGroups))
                throw Error(path + ": column '" + column + "' has more than " + std::to_string(kMaxSliceGroups) +
                            " distinct values; a slice column groups samples (e.g. a site or a camera), it does not number them");
            it = index.emplace(value, out.size()).first;
            out.push_back({value, {}});
        }
        out[it->second].samples.push_back(row++);
    }
    if (row < samples)
        throw Error(path + ": " + std::to_string(row) + " data rows, but " + std::to_string(samples) + " samples were evaluated (row i describes sample i)");
    return out;
}

Slice slice_from_labels(const std::string& spec, const std::vector<int>& labels, const std::vector<std::string>& class_names, int samples) {
    Slice s;
    const size_t eq = spec.find('=');
    const std::string list = eq == std::string::npos ? spec : spec.substr(eq + 1);
    s.name = eq == std::string::npos ? "labels " + list : spec.substr(0, eq);
    std::set<int> wanted;
    std::istringstream in(list);
    std::string item;
    while (std::getline(in, item, ',')) {
        item = trim(item);
        if (item.empty()) continue;
        int label = -1;
        for (size_t c = 0; c < class_names.size(); ++c)
            if (class_names[c] == item) label = int(c);
        if (label < 0 && !item.empty() && std::all_of(item.begin(), item.end(), [](char ch) { return ch >= '0' && ch <= '9'; }) && item.size() < 9)
            label = std::stoi(item);
        if (label < 0) {
            std::string known;
            for (const std::string& n : class_names) known += (known.empty() ? "" : ", ") + n;
            throw Error("slice '" + spec + "': '" + item + "' is neither a class number nor a class name" + (known.empty() ? "" : " (" + known + ")"));
        }
        wanted.insert(label);
    }
    if (wanted.empty()) throw Error("slice '" + spec + "': no labels (NAME=L1,L2,... with class numbers or names)");
    for (int i = 0; i < samples && i < int(labels.size()); ++i)
        if (wanted.count(labels[size_t(i)])) s.samples.push_back(i);
    return s;
}

std::vector<SliceResult> slice_regressions(const std::vector<FlippedSample>& flipped, const std::vector<Slice>& slices) {
    std::map<int, const FlippedSample*> by_sample;
    for (const FlippedSample& f : flipped) by_sample[f.sample] = &f;
    std::vector<SliceResult> out;
    std::vector<double> p;
    for (const Slice& s : slices) {
        SliceResult r;
        r.name = s.name;
        r.count = int(s.samples.size());
        for (int i : s.samples) {
            const auto it = by_sample.find(i);
            if (it == by_sample.end()) continue;
            (it->second->lost() ? r.lost : r.gained) += 1;
        }
        r.delta_points = r.count ? 100.0 * double(r.gained - r.lost) / r.count : 0.0;
        r.p = r.lost + r.gained ? mcnemar_exact_p(r.lost, r.gained) : std::nan("");
        p.push_back(r.p);
        out.push_back(r);
    }
    const std::vector<double> holm = holm_adjust(p);
    for (size_t i = 0; i < out.size(); ++i) out[i].p_holm = holm[i];
    return out;
}

} // namespace ss
