// safetensors.cpp - see safetensors.h for the layout and the rules enforced.
#include "formats/safetensors.h"
#include "formats/file_kind.h"

#include <sys/mman.h>

#include "error.h"
#include "formats/file_io.h"

#include <nlohmann/json.hpp>

#include <set>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <limits>

namespace ss {

namespace {

constexpr uint64_t kMaxHeaderBytes = 100ull * 1000 * 1000; // same bound as the reference reader

struct DTypeInfo {
    DType dtype;
    const char* name;
    int size;
};

constexpr DTypeInfo kDTypes[] = {
    {DType::F64, "F64", 8}, {DType::F32, "F32", 4}, {DType::F16, "F16", 2}, {DType::BF16, "BF16", 2},
    {DType::I64, "I64", 8}, {DType::I32, "I32", 4}, {DType::I16, "I16", 2}, {DType::I8, "I8", 1},
    {DType::U8, "U8", 1},   {DType::BOOL, "BOOL", 1},
};

bool parse_dtype(const std::string& s, DType* out) {
    for (const auto& d : kDTypes)
        if (s == d.name) {
            *out = d.dtype;
            return true;
        }
    return false;
}

uint64_t read_u64_le(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

} // namespace

const char* dtype_name(DType d) {
    for (const auto& i : kDTypes)
        if (i.dtype == d) return i.name;
    return "?";
}

int dtype_size_bytes(DType d) {
    for (const auto& i : kDTypes)
        if (i.dtype == d) return i.size;
    return 0;
}

float f16_to_f32(uint16_t h) {
    const uint32_t sign = uint32_t(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else { // subnormal: renormalize into an fp32 normal
            int e = -1;
            do {
                ++e;
                mant <<= 1;
            } while ((mant & 0x400) == 0);
            mant &= 0x3ff;
            bits = sign | uint32_t(127 - 15 - e) << 23 | mant << 13;
        }
    } else if (exp == 0x1f) {
        bits = sign | 0x7f800000u | mant << 13; // inf / nan
    } else {
        bits = sign | (exp + 127 - 15) << 23 | mant << 13;
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

float bf16_to_f32(uint16_t b) {
    const uint32_t bits = uint32_t(b) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian; big-endian hosts need byte swaps");

SafetensorsFile SafetensorsFile::read(const std::string& path) {
    return parse(path, map_file(path));
}

SafetensorsFile SafetensorsFile::parse(const std::string& path, std::vector<uint8_t> bytes) {
    return parse(path, bytes_source(std::move(bytes)));
}

SafetensorsFile SafetensorsFile::parse(const std::string& path, std::shared_ptr<const ByteSource> source) {
    SafetensorsFile f;
    f.path_ = path;
    const uint8_t* bytes = source->data();
    const uint64_t file_size = source->size();
    if (file_size < 8)
        throw Error(path + ": file is " + std::to_string(file_size) +
                    " bytes, shorter than the 8-byte safetensors header length");
    const uint64_t header_len = read_u64_le(bytes);
    // A safetensors file starts with its header's length, then the header's '{'. When neither
    // holds, the file is something else: say that first, and what it looks like.
    if ((header_len > kMaxHeaderBytes || header_len > file_size - 8) && (file_size < 9 || bytes[8] != '{')) {
        std::string hex;
        for (int i = 0; i < 8; ++i) {
            char b[4];
            std::snprintf(b, sizeof b, i ? " %02x" : "%02x", bytes[i]);
            hex += b;
        }
        const FileKind kind = detect_file_kind(path);
        throw Error(path + ": not a safetensors file: its first 8 bytes (" + hex +
                    ") are not the length of a header within the file, and no '{' follows them" +
                    (kind != FileKind::Unknown && kind != FileKind::Missing && kind != FileKind::Safetensors ? "; it looks like " + file_kind_description(kind) : std::string()));
    }
    if (header_len > kMaxHeaderBytes)
        throw Error(path + ": header length " + std::to_string(header_len) + " exceeds the 100 MB limit");
    if (header_len > file_size - 8)
        throw Error(path + ": header length " + std::to_string(header_len) + " runs past the end of the " +
                    std::to_string(file_size) + "-byte file (truncated?)");
    const char* hdr = reinterpret_cast<const char*>(bytes + 8);
    if (header_len < 2 || hdr[0] != '{')
        throw Error(path + ": header must be a JSON object starting with '{'");

    nlohmann::json j;
    // The format forbids a tensor name twice; a JSON parser keeps the last silently, so the
    // top-level keys are watched as they are read.
    std::set<std::string> names;
    std::string duplicate;
    auto watch = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
        if (depth == 1 && event == nlohmann::json::parse_event_t::key && !names.insert(parsed.get<std::string>()).second && duplicate.empty())
            duplicate = parsed.get<std::string>();
        return true;
    };
    try {
        j = nlohmann::json::parse(hdr, hdr + header_len, watch);
    } catch (const std::exception& e) {
        throw Error(path + ": header is not valid UTF-8 JSON: " + e.what());
    }
    if (!duplicate.empty()) throw Error(path + ": header names tensor '" + duplicate + "' twice (each name may appear once)");
    if (!j.is_object()) throw Error(path + ": header must be a JSON object");

    f.data_start_ = 8 + header_len;
    const uint64_t data_len = file_size - f.data_start_;

    for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string& name = it.key();
        const auto& v = it.value();
        if (name == "__metadata__") {
            if (!v.is_object()) throw Error(path + ": __metadata__ must be an object of strings");
            for (auto m = v.begin(); m != v.end(); ++m) {
                if (!m.value().is_string())
                    throw Error(path + ": __metadata__ key '" + m.key() + "' must have a string value");
                f.metadata_[m.key()] = m.value().get<std::string>();
            }
            continue;
        }
        const std::string where = path + ": tensor '" + name + "'";
        if (!v.is_object()) throw Error(where + ": entry must be an object");
        if (!v.contains("dtype") || !v["dtype"].is_string()) throw Error(where + ": field 'dtype' missing or not a string");
        if (!v.contains("shape") || !v["shape"].is_array()) throw Error(where + ": field 'shape' missing or not an array");
        if (!v.contains("data_offsets") || !v["data_offsets"].is_array() || v["data_offsets"].size() != 2)
            throw Error(where + ": field 'data_offsets' must be an array [begin, end]");
        SafetensorsEntry e;
        e.name = name;
        if (!parse_dtype(v["dtype"].get<std::string>(), &e.dtype))
            throw Error(where + ": unknown dtype '" + v["dtype"].get<std::string>() + "'");
        uint64_t count = 1;
        for (const auto& d : v["shape"]) {
            if (!d.is_number_unsigned()) throw Error(where + ": shape entries must be non-negative integers");
            const uint64_t dim = d.get<uint64_t>();
            if (dim != 0 && count > std::numeric_limits<uint64_t>::max() / dim)
                throw Error(where + ": shape product overflows 64 bits");
            count *= dim;
            e.shape.push_back(int64_t(dim));
        }
        for (const auto& o : v["data_offsets"])
            if (!o.is_number_unsigned()) throw Error(where + ": data_offsets must be non-negative integers");
        e.begin = v["data_offsets"][0].get<uint64_t>();
        e.end = v["data_offsets"][1].get<uint64_t>();
        if (e.end < e.begin)
            throw Error(where + ": data_offsets end " + std::to_string(e.end) + " < begin " + std::to_string(e.begin));
        if (e.end > data_len)
            throw Error(where + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                        ") exceed the data section of " + std::to_string(data_len) + " bytes (truncated file?)");
        const uint64_t esize = uint64_t(dtype_size_bytes(e.dtype));
        if (count > std::numeric_limits<uint64_t>::max() / esize)
            throw Error(where + ": shape x dtype size overflows 64 bits");
        if (count * esize != e.end - e.begin)
            throw Error(where + ": shape x dtype size is " + std::to_string(count * esize) +
                        " bytes but data_offsets span " + std::to_string(e.end - e.begin));
        f.entries_.push_back(std::move(e));
    }

    // Tensors must tile the data section exactly: sorted by begin, each starts where the last ended.
    std::vector<const SafetensorsEntry*> sorted;
    for (const auto& e : f.entries_) sorted.push_back(&e);
    std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->begin < b->begin || (a->begin == b->begin && a->end < b->end); });
    uint64_t cursor = 0;
    for (const auto* e : sorted) {
        if (e->begin < cursor)
            throw Error(path + ": tensor '" + e->name + "' overlaps the previous tensor (begins at " +
                        std::to_string(e->begin) + ", previous ends at " + std::to_string(cursor) + ")");
        if (e->begin > cursor)
            throw Error(path + ": gap in the data section before tensor '" + e->name + "' (bytes " +
                        std::to_string(cursor) + ".." + std::to_string(e->begin) + " unused)");
        cursor = e->end;
    }
    if (cursor != data_len)
        throw Error(path + ": data section has " + std::to_string(data_len - cursor) +
                    " trailing bytes not covered by any tensor");

    std::sort(f.entries_.begin(), f.entries_.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    f.bytes_ = std::move(source);
    return f;
}

const SafetensorsEntry* SafetensorsFile::find(const std::string& name) const {
    auto it = std::lower_bound(entries_.begin(), entries_.end(), name,
                               [](const SafetensorsEntry& e, const std::string& n) { return e.name < n; });
    return (it != entries_.end() && it->name == name) ? &*it : nullptr;
}

namespace {
// n floats for a converted tensor. Large ones get memory backed by transparent huge pages where the
// kernel allows it (THP "madvise" mode, Debian's default): a 1 B-parameter checkpoint converts into
// 3.7 GB, and at 4 KiB a page its ~900,000 first-touch faults took ~20 s on the development VM.
struct FloatBuffer {
    float* data = nullptr;
    std::shared_ptr<void> keep; // owns the memory
};
FloatBuffer float_buffer(size_t n) {
    constexpr size_t kHuge = size_t(2) << 20;
    const size_t bytes = n * sizeof(float);
    if (bytes >= 2 * kHuge) {
        const size_t len = (bytes + kHuge - 1) / kHuge * kHuge;
        void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED) {
            madvise(p, len, MADV_HUGEPAGE); // advice only: plain pages when the kernel says no
            return {static_cast<float*>(p), std::shared_ptr<void>(p, [len](void* q) { munmap(q, len); })};
        }
    }
    auto v = std::make_shared<std::vector<float>>(n);
    return {v->data(), v};
}
} // namespace

WeightData SafetensorsFile::to_f32(const SafetensorsEntry& e) const {
    const uint8_t* p = raw(e);
    const size_t n = (e.end - e.begin) / size_t(dtype_size_bytes(e.dtype));
    if (e.dtype == DType::F32 && reinterpret_cast<uintptr_t>(p) % alignof(float) == 0)
        return WeightData::file_view(bytes_, reinterpret_cast<const float*>(p), n);
    FloatBuffer buffer = float_buffer(n);
    float* out = buffer.data;
    auto load = [p](size_t i, auto type_tag) {
        decltype(type_tag) v;
        std::memcpy(&v, p + i * sizeof v, sizeof v);
        return v;
    };
    switch (e.dtype) {
    case DType::F32: std::memcpy(out, p, n * 4); break; // unaligned: copy
    case DType::F64: for (size_t i = 0; i < n; ++i) out[i] = float(load(i, double{})); break;
    case DType::F16: for (size_t i = 0; i < n; ++i) out[i] = f16_to_f32(load(i, uint16_t{})); break;
    case DType::BF16: for (size_t i = 0; i < n; ++i) out[i] = bf16_to_f32(load(i, uint16_t{})); break;
    case DType::I64: for (size_t i = 0; i < n; ++i) out[i] = float(load(i, int64_t{})); break;
    case DType::I32: for (size_t i = 0; i < n; ++i) out[i] = float(load(i, int32_t{})); break;
    case DType::I16: for (size_t i = 0; i < n; ++i) out[i] = float(load(i, int16_t{})); break;
    case DType::I8: for (size_t i = 0; i < n; ++i) out[i] = float(load(i, int8_t{})); break;
    case DType::U8: for (size_t i = 0; i < n; ++i) out[i] = float(p[i]); break;
    case DType::BOOL:
        for (size_t i = 0; i < n; ++i) {
            if (p[i] > 1)
                throw Error(path_ + ": tensor '" + e.name + "': BOOL element " + std::to_string(i) + " has byte value " +
                            std::to_string(p[i]) + " (must be 0 or 1)");
            out[i] = float(p[i]);
        }
        break;
    }
    return WeightData::view(std::move(buffer.keep), out, n);
}

void write_safetensors(const std::string& path, const std::vector<SafetensorsTensorOut>& tensors,
                       const std::map<std::string, std::string>& metadata) {
    nlohmann::json header = nlohmann::json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    uint64_t offset = 0;
    std::vector<uint64_t> sizes;
    for (const auto& t : tensors) {
        uint64_t count = 1;
        for (int64_t d : t.shape) count *= uint64_t(d);
        const uint64_t bytes = count * uint64_t(dtype_size_bytes(t.dtype));
        header[t.name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
        sizes.push_back(bytes);
    }
    std::string h = header.dump();
    while ((8 + h.size()) % 8 != 0) h.push_back(' '); // align the data section to 8 bytes
    std::vector<uint8_t> out(8 + h.size() + offset);
    const uint64_t n = h.size();
    for (int i = 0; i < 8; ++i) out[size_t(i)] = uint8_t(n >> (8 * i));
    std::memcpy(out.data() + 8, h.data(), h.size());
    uint8_t* p = out.data() + 8 + h.size();
    for (size_t i = 0; i < tensors.size(); ++i) {
        if (sizes[i]) std::memcpy(p, tensors[i].data, sizes[i]); // data may be null for an empty tensor
        p += sizes[i];
    }
    write_file_bytes(path, out);
}

} // namespace ss
