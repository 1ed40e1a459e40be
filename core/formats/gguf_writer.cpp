// gguf_writer.cpp
#include "formats/gguf_writer.h"

#include "error.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>

namespace ss {

namespace {

template <class T>
void put(std::vector<uint8_t>& out, T v) {
    const size_t at = out.size();
    out.resize(at + sizeof(T));
    std::memcpy(out.data() + at, &v, sizeof(T)); // x86-64 and every target here: little endian
}

void put_string(std::vector<uint8_t>& out, const std::string& s) {
    put<uint64_t>(out, s.size());
    out.insert(out.end(), s.begin(), s.end());
}

uint64_t align_up(uint64_t n, uint64_t a) { return (n + a - 1) / a * a; }

} // namespace

const char* ggml_type_name(GgmlType t) {
    switch (t) {
    case GgmlType::F32: return "F32";
    case GgmlType::F16: return "F16";
    case GgmlType::Q4_0: return "Q4_0";
    case GgmlType::Q8_0: return "Q8_0";
    case GgmlType::BF16: return "BF16";
    }
    return "?";
}

uint64_t ggml_row_bytes(GgmlType t, int64_t n) {
    switch (t) {
    case GgmlType::F32: return uint64_t(n) * 4;
    case GgmlType::F16:
    case GgmlType::BF16: return uint64_t(n) * 2;
    case GgmlType::Q4_0: return uint64_t(n / 32) * 18; // f16 scale + 16 bytes of nibbles per 32
    case GgmlType::Q8_0: return uint64_t(n / 32) * 34; // f16 scale + 32 int8 per 32
    }
    return 0;
}

void GgufWriter::key(const std::string& k, GgufValueType t) {
    if (std::find(keys_.begin(), keys_.end(), k) != keys_.end()) throw Error("GGUF writer: metadata key '" + k + "' given twice");
    keys_.push_back(k);
    put_string(meta_, k);
    put<uint32_t>(meta_, uint32_t(t));
    ++meta_count_;
}

void GgufWriter::add_u32(const std::string& k, uint32_t v) { key(k, GgufValueType::U32); put(meta_, v); }
void GgufWriter::add_i32(const std::string& k, int32_t v) { key(k, GgufValueType::I32); put(meta_, v); }
void GgufWriter::add_f32(const std::string& k, float v) { key(k, GgufValueType::F32); put(meta_, v); }
void GgufWriter::add_bool(const std::string& k, bool v) { key(k, GgufValueType::Bool); put<uint8_t>(meta_, v ? 1 : 0); }
void GgufWriter::add_string(const std::string& k, const std::string& v) { key(k, GgufValueType::String); put_string(meta_, v); }

void GgufWriter::add_strings(const std::string& k, const std::vector<std::string>& v) {
    key(k, GgufValueType::Array);
    put<uint32_t>(meta_, uint32_t(GgufValueType::String));
    put<uint64_t>(meta_, v.size());
    for (const auto& s : v) put_string(meta_, s);
}

void GgufWriter::add_f32s(const std::string& k, const std::vector<float>& v) {
    key(k, GgufValueType::Array);
    put<uint32_t>(meta_, uint32_t(GgufValueType::F32));
    put<uint64_t>(meta_, v.size());
    for (float f : v) put(meta_, f);
}

void GgufWriter::add_i32s(const std::string& k, const std::vector<int32_t>& v) {
    key(k, GgufValueType::Array);
    put<uint32_t>(meta_, uint32_t(GgufValueType::I32));
    put<uint64_t>(meta_, v.size());
    for (int32_t i : v) put(meta_, i);
}

void GgufWriter::add_tensor(const std::string& name, std::vector<int64_t> ne, GgmlType t, Fill fill) {
    if (ne.empty() || ne.size() > 4) throw Error("GGUF writer: tensor " + name + " has " + std::to_string(ne.size()) + " dimensions (1 to 4 allowed)");
    for (int64_t d : ne)
        if (d <= 0) throw Error("GGUF writer: tensor " + name + " has a dimension of " + std::to_string(d));
    if ((t == GgmlType::Q4_0 || t == GgmlType::Q8_0) && ne[0] % 32 != 0)
        throw Error("GGUF writer: tensor " + name + " has rows of " + std::to_string(ne[0]) + " values; " + ggml_type_name(t) + " needs a multiple of 32");
    for (const auto& x : tensors_)
        if (x.name == name) throw Error("GGUF writer: tensor " + name + " given twice");
    uint64_t rows = 1;
    for (size_t i = 1; i < ne.size(); ++i) rows *= uint64_t(ne[i]);
    Tensor x{name, std::move(ne), t, std::move(fill), 0};
    x.bytes = ggml_row_bytes(t, x.ne[0]) * rows;
    tensors_.push_back(std::move(x));
}

void GgufWriter::write(const std::string& path) const {
    std::vector<uint8_t> head;
    head.insert(head.end(), {'G', 'G', 'U', 'F'});
    put<uint32_t>(head, 3);
    put<uint64_t>(head, tensors_.size());
    put<uint64_t>(head, meta_count_);
    head.insert(head.end(), meta_.begin(), meta_.end());
    uint64_t offset = 0;
    for (const auto& x : tensors_) {
        put_string(head, x.name);
        put<uint32_t>(head, uint32_t(x.ne.size()));
        for (int64_t d : x.ne) put<uint64_t>(head, uint64_t(d));
        put<uint32_t>(head, uint32_t(x.type));
        put<uint64_t>(head, offset);
        offset = align_up(offset + x.bytes, kAlignment);
    }
    head.resize(align_up(head.size(), kAlignment), 0);

    const std::string tmp = path + ".tmp";
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(tmp.c_str(), "wb"), std::fclose);
    if (!f) throw Error(path + ": cannot open for writing: " + std::strerror(errno));
    auto write_all = [&](const uint8_t* p, size_t n) {
        if (n && std::fwrite(p, 1, n, f.get()) != n) {
            const std::string why = std::strerror(errno);
            f.reset();
            std::remove(tmp.c_str());
            throw Error(path + ": write failed: " + why);
        }
    };
    write_all(head.data(), head.size());
    std::vector<uint8_t> bytes;
    static const uint8_t zeros[kAlignment] = {};
    for (const auto& x : tensors_) {
        bytes.clear();
        try {
            x.fill(bytes);
        } catch (...) {
            f.reset();
            std::remove(tmp.c_str());
            throw;
        }
        if (bytes.size() != x.bytes) {
            f.reset();
            std::remove(tmp.c_str());
            throw Error(path + ": tensor " + x.name + " gave " + std::to_string(bytes.size()) + " bytes, its shape and type need " + std::to_string(x.bytes));
        }
        write_all(bytes.data(), bytes.size());
        write_all(zeros, align_up(x.bytes, kAlignment) - x.bytes);
    }
    if (std::fflush(f.get()) != 0 || std::fclose(f.release()) != 0) {
        std::remove(tmp.c_str());
        throw Error(path + ": write failed: " + std::strerror(errno));
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        std::remove(tmp.c_str());
        throw Error(path + ": cannot rename " + tmp + " over it: " + why);
    }
}

} // namespace ss
