// sparse_csr.h - unstructured sparse fp32 weights and Y = X W^T with them.
//
// Layout: the weight matrix W (out, in) is cut into blocks of kKBlock input columns; within each
// block, a CSR over the output rows: for block b and row o, entries
// row_ptr[b * (out + 1) + o] .. row_ptr[b * (out + 1) + o + 1] of col (uint16, the column within
// the block) and val. The activations X (n, in) are transposed into panels of kPanel rows,
// panel[j][0..kPanel) = X[r0 .. r0 + kPanel, j], so one weight is broadcast and multiplied into a
// whole panel row with FMA (the XNNPACK / MNN scheme), and one K block of the panel stays in L1.
#pragma once

#include <cstdint>
#include <vector>

namespace ss {

struct CsrMatrix {
    int out = 0, in = 0;
    static constexpr int kKBlock = 256; // input columns per block: a 256 x 32 fp32 panel is 32 KiB
    std::vector<uint32_t> row_ptr;      // (blocks, out + 1)
    std::vector<uint16_t> col;          // (nnz) column within its block
    std::vector<float> val;             // (nnz)
    int blocks() const { return (in + kKBlock - 1) / kKBlock; }
    int64_t nnz() const { return int64_t(val.size()); }
    int64_t storage_bytes() const { return int64_t(row_ptr.size()) * 4 + int64_t(col.size()) * 2 + int64_t(val.size()) * 4; }
};

// w (out, in) dense row-major -> CSR of its nonzeros.
CsrMatrix csr_from_dense(const float* w, int out, int in);
// -> (out, in) fp32, zeros where no entry is stored.
std::vector<float> csr_to_dense(const CsrMatrix& c);

// x (n, in) -> y (n, out) = x W^T (+ bias when not null), on the path simd_path() names
// (simd_path.h). Portable and AVX-512 give the same bits; AVX2's panel kernel sums in another
// order (sparse_csr.cpp), equal within fp32 rounding.
void csr_matmul(const CsrMatrix& w, const float* bias, const float* x, int n, float* y);

} // namespace ss
