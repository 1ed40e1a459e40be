// sparse_nm24.h - 2:4 semi-structured fp32 weights (at most 2 nonzeros in every 4 consecutive
// inputs of a row, as `nm:2:4` prunes) and Y = X W^T with them.
//
// Fixed-count layout, no row pointers: row o keeps exactly 2 values per group of 4 inputs
// (groups = ceil(in / 4); a group with fewer nonzeros stores zeros), so value k of row o is at
// val[o * 2 * groups + k]. Its column is 4 * (k / 2) + pos[...], and pos is stored as the column
// within the value's window of 32 inputs (one byte, 0..31: 4 * (group % 8) + index in group), so
// the kernels fetch x with one permute of the 32-input window (AVX-512) or one gather (AVX2):
// 0.5 bytes of index per weight beside 2 bytes of values, against 4 bytes dense.
// Values are summed in 16 lanes (lane = value k % 16), the lanes then in a fixed order; every
// path does exactly that, so AVX-512, AVX2 and portable give identical bits.
#pragma once

#include <cstdint>
#include <vector>

namespace ss {

struct Nm24Matrix {
    int out = 0, in = 0;
    int groups = 0;           // per row, ceil(in / 4)
    int values_per_row = 0;   // 2 * groups rounded up to a multiple of 16 (padding: zero values)
    std::vector<float> val;   // (out, values_per_row)
    std::vector<uint8_t> pos; // (out, values_per_row) column within the value's 32-input window
    int64_t storage_bytes() const { return int64_t(val.size()) * 4 + int64_t(pos.size()); }
};

// Whether every group of 4 inputs of every row has at most 2 nonzeros.
bool fits_nm24(const float* w, int out, int in);
// w (out, in) -> the 2:4 form; throws ss::Error if a group has more than 2 nonzeros.
Nm24Matrix nm24_from_dense(const float* w, int out, int in);
std::vector<float> nm24_to_dense(const Nm24Matrix& m);

// x (n, in) -> y (n, out) = x W^T (+ bias when not null), row by row (the kernel is for small
// batches; larger ones go to the CSR panel kernel).
void nm24_matmul(const Nm24Matrix& w, const float* bias, const float* x, int n, float* y);
void nm24_matmul_portable(const Nm24Matrix& w, const float* bias, const float* x, int n, float* y);

} // namespace ss
