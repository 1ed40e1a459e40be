// quant_matmul.h - weight-only integer kernels: Y = X W^T with W kept at 8 or 4 bits.
//
// Layout (llama.cpp Q8_0 / Q4_0 style): each row of W (out, in) is cut into blocks of 32 inputs
// (the last block padded with zero weights). A block holds 32 one-byte codes (layout 8: int8) or
// 16 bytes of 4-bit codes (layout 4: int4, int3 and int2, whose codes fit a nibble; byte j holds
// input j in its low nibble and input j + 16 in its high one). Codes are QuantizedWeights' unsigned codes as they are;
// scales (f16) and zero points stay per group of the scheme (1, 2 or 4 blocks, or the whole row
// for int8 per channel), so every weight is exactly
//     w = (code - zero[o, g]) * scale[o, g]      (symmetric schemes: zero = 2^(bits-1))
//
// Small batches (qmatmul_dot): each activation row is quantized on the fly to int8 per block of
// 32 (dx = max|x| / 127, xq = round(x / dx)), integer dot products (AVX-512 VNNI or AVX-VNNI
// dpbusd, or AVX2 maddubs/madd) give sum((code - zero) * xq) exactly, and then
//     y[o] = sum_g scale[o,g] * (sum_{b in g} dx[b] * dot_b - zero[o,g] * sum_{b in g} dx[b] * sum(xq_b)) + bias
// The activation rounding makes these results differ slightly from fp32 on the dequantized weights
// (tests state the bound). The AVX-512 VNNI, AVX-VNNI, AVX2 and portable paths give identical bits,
// except for 4-bit codes on AVX-512 VNNI: that kernel takes four blocks per step and sums its lanes
// in another order (quant_matmul.cpp), so it differs from the others by float rounding.
// Large batches (qmatmul_tiles): tiles of rows are dequantized into an fp32 panel and multiplied
// by OpenBLAS sgemm: fp32 results on exactly the dequantized weights.
#pragma once

#include "compress/quantized_weights.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ss {

struct QMatrix {
    static constexpr int kBlock = 32;
    int out = 0, in = 0;
    int bits = 8;                // of the scheme: 8, 4, 3 or 2
    int layout_bits = 8;         // 8 (int8) or 4 (int4, int3, int2)
    int blocks = 0;              // per row, ceil(in / 32)
    int group_blocks = 0;        // blocks per scale group
    int groups = 0;              // per row
    int group_shift = 0;         // group of block b: b >> group_shift (30 when groups == 1)
    std::vector<uint8_t> codes;  // (out, blocks, 32) bytes or (out, blocks, 16) packed nibbles
    std::vector<uint16_t> scale; // (out, groups) f16, as ggml's blocks keep them (quantize_weights makes f16 values)
    std::vector<uint8_t> zero;   // (out, groups), asymmetric schemes; empty: every zero is default_zero
    int default_zero = 0;        // symmetric schemes: 2^(bits-1)

    int block_bytes() const { return layout_bits == 8 ? kBlock : kBlock / 2; }
    int64_t storage_bytes() const { return int64_t(codes.size()) + int64_t(scale.size()) * 2 + int64_t(zero.size()); }
    float scale_at(int o, int g) const; // scale[o, g] as fp32
    int zero_at(int o, int g) const { return zero.empty() ? default_zero : zero[size_t(o) * groups + g]; }
};

// Whether a quantization scheme has an integer kernel (int8, int4, int3, int2; sym or asym; groups
// that are whole blocks; scales that are f16 values - a model saved before scales were f16 runs
// its dequantized fp32 weights instead, unchanged).
bool qmatrix_supports(const QuantizedWeights& q);
QMatrix qmatrix_from(const QuantizedWeights& q);

// The QuantizedWeights q that qmatrix_from(q) was made from, rebuilt (codes, scales, zero points):
// a matrix whose integer kernel holds the only copy of its codes (QuantizedWeights::slim).
QuantizedWeights qmatrix_to_quantized(const QMatrix& w, const QuantSpec& spec, int group);

// Weights that are exactly zero: code equal to the group's zero point, or a zero scale.
int64_t qmatrix_zero_count(const QMatrix& w);

// Rows [o0, o1) of W in fp32, (o1 - o0, in) row-major: bit-identical to dequantize_weights().
void qmatrix_dequantize_rows(const QMatrix& w, int o0, int o1, float* out);

// x (n, in) -> y (n, out) = x W^T (+ bias when not null).
void qmatmul_dot(const QMatrix& w, const float* bias, const float* x, int n, float* y);
void qmatmul_tiles(const QMatrix& w, const float* bias, const float* x, int n, float* y);

// The plain reference for qmatmul_dot: the same activation quantization, then double sums.
void qmatmul_dot_reference(const QMatrix& w, const float* bias, const float* x, int n, float* y);

// The integer paths this CPU has ("portable", "avx2", "avx-vnni", "avx512-vnni"), and qmatmul_dot
// on one of them by name, bypassing simd_path() and the measured choice: tests check each path.
std::vector<std::string> qmatmul_paths_available();
void qmatmul_dot_on(const std::string& path, const QMatrix& w, const float* bias, const float* x, int n, float* y);

// Which path qmatmul_dot takes now (under simd_path(), simd_path.h): "avx512-vnni", "avx-vnni",
// "avx2" or "portable", or per code layout when a measurement chose differently, e.g.
// "int8 avx2, int4 avx512-vnni (measured)".
std::string qmatmul_isa();

} // namespace ss
