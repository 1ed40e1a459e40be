// csv_dataset.cpp
#include "data/csv_dataset.h"

#include "formats/byte_source.h"
#include "error.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string_view>

namespace ss {

namespace {

// Splits one line on commas; strips one pair of surrounding double quotes and spaces per field.
std::vector<std::string_view> split_fields(std::string_view line) {
    std::vector<std::string_view> out;
    size_t start = 0;
    while (true) {
        const size_t comma = line.find(',', start);
        std::string_view f = line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        while (!f.empty() && (f.front() == ' ' || f.front() == '\t')) f.remove_prefix(1);
        while (!f.empty() && (f.back() == ' ' || f.back() == '\t')) f.remove_suffix(1);
        if (f.size() >= 2 && f.front() == '"' && f.back() == '"') f = f.substr(1, f.size() - 2);
        out.push_back(f);
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return out;
}

bool parse_number(std::string_view s, double* v) {
    if (s.empty()) return false;
    if (s.front() == '+') s.remove_prefix(1);
    const auto r = std::from_chars(s.data(), s.data() + s.size(), *v);
    return r.ec == std::errc() && r.ptr == s.data() + s.size() && std::isfinite(*v);
}

std::string lower(std::string_view s) {
    std::string r(s);
    std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return r;
}

} // namespace

Dataset load_csv_dataset(const std::string& path, const std::string& label_column, int64_t limit) {
    const auto bytes = map_file(path);
    const std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());

    // Pass 1: line boundaries, so nothing big is allocated before the shape is known. With a
    // limit, the scan stops after the header and `limit` samples: the rest is never read.
    std::vector<std::string_view> lines;
    for (size_t pos = 0; pos < text.size() && (limit <= 0 || lines.size() < size_t(limit) + 1);) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        lines.push_back(line);
        pos = end + 1;
    }
    while (!lines.empty() && lines.back().empty()) lines.pop_back();
    if (lines.empty()) throw Error(path + ": CSV file is empty");
    if (lines.size() > (size_t(1) << 31)) throw Error(path + ": too many lines");

    const auto first = split_fields(lines[0]);
    bool header = false;
    for (auto f : first) {
        double v;
        if (!parse_number(f, &v)) header = true;
    }
    const size_t columns = first.size();
    if (columns < 2) throw Error(path + ": line 1 has " + std::to_string(columns) + " column; a CSV dataset needs a label and at least one feature");

    size_t label = 0;
    if (!label_column.empty()) {
        size_t idx = 0;
        const auto r = std::from_chars(label_column.data(), label_column.data() + label_column.size(), idx);
        if (r.ec == std::errc() && r.ptr == label_column.data() + label_column.size()) {
            if (idx >= columns)
                throw Error(path + ": label column index " + label_column + " is out of range (the file has " + std::to_string(columns) + " columns)");
            label = idx;
        } else {
            if (!header) throw Error(path + ": label column '" + label_column + "' given by name but the file has no header line");
            auto it = std::find(first.begin(), first.end(), std::string_view(label_column));
            if (it == first.end()) throw Error(path + ": header has no column named '" + label_column + "'");
            label = size_t(it - first.begin());
        }
    } else if (header) {
        for (size_t c = 0; c < columns; ++c) {
            const std::string n = lower(first[c]);
            if (n == "label" || n == "class" || n == "target" || n == "y") {
                label = c;
                break;
            }
        }
    }

    const size_t data_start = header ? 1 : 0;
    if (limit > 0 && lines.size() > data_start + size_t(limit)) lines.resize(data_start + size_t(limit)); // no header: one line too many
    const size_t count = lines.size() - data_start;
    if (count == 0) throw Error(path + ": CSV has a header but no samples");
    const size_t features = columns - 1;

    Dataset d;
    d.source_path = path;
    d.format = "csv";
    d.files = {path};
    d.count = int(count);
    d.features = int(features);
    d.raw.resize(count * features);
    d.labels.resize(count);
    auto column_name = [&](size_t c) {
        return header ? " ('" + std::string(first[c]) + "')" : std::string();
    };
    for (size_t i = 0; i < count; ++i) {
        const size_t line_no = data_start + i + 1;
        const auto fields = split_fields(lines[data_start + i]);
        if (fields.size() != columns)
            throw Error(path + ": line " + std::to_string(line_no) + " has " + std::to_string(fields.size()) + " columns, line 1 has " +
                        std::to_string(columns));
        float* row = &d.raw[i * features];
        for (size_t c = 0, k = 0; c < columns; ++c) {
            double v;
            if (!parse_number(fields[c], &v))
                throw Error(path + ": line " + std::to_string(line_no) + ", column " + std::to_string(c + 1) + column_name(c) + ": '" +
                            std::string(fields[c].substr(0, 40)) + "' is not a finite number");
            if (c == label) {
                if (v < 0 || v != std::floor(v) || v > 65535)
                    throw Error(path + ": line " + std::to_string(line_no) + ", column " + std::to_string(c + 1) + column_name(c) +
                                ": label " + std::string(fields[c]) + " is not a class index in 0..65535");
                d.labels[i] = int(v);
            } else {
                row[k++] = float(v);
            }
        }
    }
    finish_dataset(d);
    return d;
}

} // namespace ss
