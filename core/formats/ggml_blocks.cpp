// ggml_blocks.cpp
#include "formats/ggml_blocks.h"

#include "error.h"
#include "formats/safetensors.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ss {

namespace {

constexpr int kQK = 32; // values per block

void put_f16(std::vector<uint8_t>& out, uint16_t h) {
    out.push_back(uint8_t(h & 0xff));
    out.push_back(uint8_t(h >> 8));
}

uint16_t get_u16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }

void encode_q8_0(const float* x, std::vector<uint8_t>& out) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    put_f16(out, f32_to_f16(d));
    for (int j = 0; j < kQK; ++j) out.push_back(uint8_t(int8_t(std::round(x[j] * id))));
}

void encode_q4_0(const float* x, std::vector<uint8_t>& out) {
    float amax = 0.0f, m = 0.0f;
    for (int j = 0; j < kQK; ++j)
        if (std::fabs(x[j]) > amax) {
            amax = std::fabs(x[j]);
            m = x[j];
        }
    const float d = m / -8.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    put_f16(out, f32_to_f16(d));
    for (int j = 0; j < kQK / 2; ++j) {
        const int q0 = std::min(15, int(int8_t(x[j] * id + 8.5f)));
        const int q1 = std::min(15, int(int8_t(x[j + 16] * id + 8.5f)));
        out.push_back(uint8_t(q0 | (q1 << 4)));
    }
}

} // namespace

void ggml_encode_row(GgmlType t, const float* x, int64_t n, std::vector<uint8_t>& out) {
    switch (t) { // no reserve here: per row it would reallocate every time (callers reserve whole tensors)
    case GgmlType::F32: {
        const size_t at = out.size();
        out.resize(at + size_t(n) * 4);
        std::memcpy(out.data() + at, x, size_t(n) * 4);
        return;
    }
    case GgmlType::F16:
        for (int64_t i = 0; i < n; ++i) put_f16(out, f32_to_f16(x[i]));
        return;
    case GgmlType::BF16:
        for (int64_t i = 0; i < n; ++i) put_f16(out, f32_to_bf16(x[i]));
        return;
    case GgmlType::Q8_0:
    case GgmlType::Q4_0:
        if (n % kQK != 0) throw Error("ggml blocks: a row of " + std::to_string(n) + " values is not whole blocks of 32");
        for (int64_t b = 0; b < n; b += kQK) t == GgmlType::Q8_0 ? encode_q8_0(x + b, out) : encode_q4_0(x + b, out);
        return;
    }
}

bool ggml_blocks_exact(const QMatrix& w, GgmlType t, std::string* why) {
    auto no = [&](const std::string& reason) {
        if (why) *why = reason;
        return false;
    };
    if (t != GgmlType::Q8_0 && t != GgmlType::Q4_0) return no("only Q8_0 and Q4_0 carry integer codes");
    if (!w.zero.empty()) return no("asymmetric zero points have no Q8_0 / Q4_0 form");
    if (t == GgmlType::Q8_0 && w.bits != 8) return no(std::to_string(w.bits) + "-bit codes are not Q8_0's 8");
    if (t == GgmlType::Q4_0 && w.bits > 4) return no(std::to_string(w.bits) + "-bit codes do not fit Q4_0's 4");
    if (w.in % kQK != 0) return no("rows of " + std::to_string(w.in) + " values are not whole blocks of 32");
    return true; // the integer kernels keep f16 scales: ggml's d as it is
}

void ggml_encode_codes_row(const QMatrix& w, int o, GgmlType t, std::vector<uint8_t>& out) {
    const int bb = w.block_bytes(), z = w.default_zero;
    const uint8_t* row = w.codes.data() + size_t(o) * w.blocks * bb;
    for (int b = 0; b < w.blocks; ++b) {
        put_f16(out, w.scale[size_t(o) * w.groups + size_t(b >> w.group_shift)]);
        const uint8_t* blk = row + size_t(b) * bb;
        if (t == GgmlType::Q8_0) {
            for (int j = 0; j < kQK; ++j) out.push_back(uint8_t(int8_t(int(blk[j]) - z)));
        } else {
            for (int j = 0; j < kQK / 2; ++j) {
                const int lo = (blk[j] & 15) - z + 8, hi = (blk[j] >> 4) - z + 8;
                out.push_back(uint8_t(lo | (hi << 4)));
            }
        }
    }
}

void ggml_decode_row(GgmlType t, const uint8_t* p, int64_t n, float* x) {
    switch (t) {
    case GgmlType::F32: std::memcpy(x, p, size_t(n) * 4); return;
    case GgmlType::F16:
        for (int64_t i = 0; i < n; ++i) x[i] = f16_to_f32(get_u16(p + 2 * i));
        return;
    case GgmlType::BF16:
        for (int64_t i = 0; i < n; ++i) x[i] = bf16_to_f32(get_u16(p + 2 * i));
        return;
    case GgmlType::Q8_0:
        for (int64_t b = 0; b < n; b += kQK, p += 34) {
            const float d = f16_to_f32(get_u16(p));
            for (int j = 0; j < kQK; ++j) x[b + j] = d * float(int8_t(p[2 + j]));
        }
        return;
    case GgmlType::Q4_0:
        for (int64_t b = 0; b < n; b += kQK, p += 18) {
            const float d = f16_to_f32(get_u16(p));
            for (int j = 0; j < kQK / 2; ++j) {
                x[b + j] = d * float((p[2 + j] & 0x0f) - 8);
                x[b + j + 16] = d * float((p[2 + j] >> 4) - 8);
            }
        }
        return;
    }
}

} // namespace ss
