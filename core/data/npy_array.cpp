// npy_array.cpp
#include "data/npy_array.h"

#include "error.h"

#include <cstring>
#include <string_view>

namespace ss {

namespace {

// Value of 'key' in the header dict: the text up to the next top-level ',' or '}'.
std::string_view dict_value(std::string_view h, std::string_view key, const std::string& path) {
    std::string quoted1(1, '\''), quoted2(1, '"');
    quoted1.append(key).push_back('\'');
    quoted2.append(key).push_back('"');
    size_t k = h.find(quoted1);
    if (k == std::string_view::npos) k = h.find(quoted2);
    if (k == std::string_view::npos) throw Error(path + ": NPY header has no '" + std::string(key) + "' field");
    size_t colon = h.find(':', k);
    if (colon == std::string_view::npos) throw Error(path + ": NPY header field '" + std::string(key) + "' has no value");
    size_t start = colon + 1;
    while (start < h.size() && h[start] == ' ') ++start;
    size_t end = start;
    int depth = 0;
    for (; end < h.size(); ++end) {
        const char c = h[end];
        if (c == '(' || c == '[') ++depth;
        else if (c == ')' || c == ']') --depth;
        else if ((c == ',' || c == '}') && depth == 0) break;
    }
    std::string_view v = h.substr(start, end - start);
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    return v;
}

} // namespace

NpyArray open_npy(const std::string& path) {
    NpyArray a;
    a.bytes = map_file(path);
    const uint8_t* p = a.bytes->data();
    const size_t n = a.bytes->size();
    if (n < 10 || std::memcmp(p, "\x93NUMPY", 6) != 0) throw Error(path + ": not a NumPy .npy file (magic \\x93NUMPY missing)");
    const int major = p[6];
    size_t header_len, header_start;
    if (major == 1) {
        header_len = size_t(p[8]) | size_t(p[9]) << 8;
        header_start = 10;
    } else if (major == 2 || major == 3) {
        if (n < 12) throw Error(path + ": NPY header truncated");
        header_len = size_t(p[8]) | size_t(p[9]) << 8 | size_t(p[10]) << 16 | size_t(p[11]) << 24;
        header_start = 12;
    } else {
        throw Error(path + ": NPY format version " + std::to_string(major) + " unsupported (1, 2 or 3)");
    }
    if (header_len > n - header_start) throw Error(path + ": NPY header length " + std::to_string(header_len) + " runs past the end of the file");
    const std::string_view h(reinterpret_cast<const char*>(p + header_start), header_len);
    a.data_offset = header_start + header_len;

    std::string_view descr = dict_value(h, "descr", path);
    if (descr.size() < 2 || (descr.front() != '\'' && descr.front() != '"')) throw Error(path + ": NPY 'descr' must be a string");
    a.descr = std::string(descr.substr(1, descr.size() - 2));
    if (dict_value(h, "fortran_order", path) != "False")
        throw Error(path + ": NPY array is in Fortran order; save it in C order (np.ascontiguousarray)");
    std::string_view shape = dict_value(h, "shape", path);
    if (shape.size() < 2 || shape.front() != '(' || shape.back() != ')') throw Error(path + ": NPY 'shape' must be a tuple");
    shape = shape.substr(1, shape.size() - 2);
    uint64_t total = 1;
    for (size_t pos = 0; pos < shape.size();) {
        size_t comma = shape.find(',', pos);
        if (comma == std::string_view::npos) comma = shape.size();
        std::string_view tok = shape.substr(pos, comma - pos);
        while (!tok.empty() && tok.front() == ' ') tok.remove_prefix(1);
        while (!tok.empty() && (tok.back() == ' ' || tok.back() == 'L')) tok.remove_suffix(1);
        if (!tok.empty()) {
            uint64_t d = 0;
            for (char c : tok) {
                if (c < '0' || c > '9') throw Error(path + ": NPY shape entry '" + std::string(tok) + "' is not a non-negative integer");
                d = d * 10 + uint64_t(c - '0');
                if (d > (uint64_t(1) << 40)) throw Error(path + ": NPY shape entry is implausibly large");
            }
            total *= d;
            if (total > (uint64_t(1) << 40)) throw Error(path + ": NPY shape product is implausibly large");
            a.shape.push_back(d);
        }
        pos = comma + 1;
    }
    if (a.descr == "|u1" || a.descr == "<u1" || a.descr == "|i1") a.item_size = 1;
    else if (a.descr == "<i4" || a.descr == "<f4") a.item_size = 4;
    else if (a.descr == "<f8" || a.descr == "<i8") a.item_size = 8;
    else throw Error(path + ": NPY dtype '" + a.descr + "' unsupported (uint8 '|u1', float32 '<f4', float64 '<f8', int64 '<i8', int32 '<i4')");
    const uint64_t want = total * uint64_t(a.item_size);
    if (n - a.data_offset != want)
        throw Error(path + ": NPY shape and dtype promise " + std::to_string(want) + " data bytes but the file holds " +
                    std::to_string(n - a.data_offset));
    return a;
}

double value_at(const NpyArray& a, uint64_t i) {
    const uint8_t* p = a.bytes->data() + a.data_offset + i * uint64_t(a.item_size);
    if (a.descr == "|u1" || a.descr == "<u1") return p[0];
    if (a.descr == "|i1") return int8_t(p[0]);
    if (a.descr == "<f4") { float v; std::memcpy(&v, p, 4); return v; }
    if (a.descr == "<f8") { double v; std::memcpy(&v, p, 8); return v; }
    if (a.descr == "<i4") { int32_t v; std::memcpy(&v, p, 4); return v; }
    int64_t v;
    std::memcpy(&v, p, 8);
    return double(v);
}

} // namespace ss
