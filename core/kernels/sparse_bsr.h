// sparse_bsr.h - 4x1 block-sparse fp32 weights (four output rows share each column index) and
// Y = X W^T with them.
//
// Layout: W (out, in) is cut into row blocks of kRows = 4 output rows (the last one zero-padded)
// and, like CsrMatrix, into K blocks of kKBlock input columns. For K block b and row block q,
// entries ptr[b * (row_blocks + 1) + q] .. ptr[... + 1] hold a column within the K block (col,
// uint16) and the four weights of rows 4q .. 4q + 3 at that column (val, 4 floats). A column is
// stored when any of the four is nonzero, so magnitude pruning in 4x1 blocks
// (`magnitude:S:block4`) stores exactly its surviving blocks, and unstructured sparsity stores
// some zeros. Per stored column the kernels load the activations once and use them four times
// (CSR: once), which is where the speed comes from.
#pragma once

#include <cstdint>
#include <vector>

namespace ss {

struct BsrMatrix {
    static constexpr int kRows = 4;
    static constexpr int kKBlock = 256;
    int out = 0, in = 0;
    std::vector<uint32_t> ptr; // (k_blocks, row_blocks + 1)
    std::vector<uint16_t> col; // (blocks) column within its K block
    std::vector<float> val;    // (blocks, 4)
    int row_blocks() const { return (out + kRows - 1) / kRows; }
    int k_blocks() const { return (in + kKBlock - 1) / kKBlock; }
    int64_t blocks() const { return int64_t(col.size()); }
    int64_t storage_bytes() const { return int64_t(ptr.size()) * 4 + int64_t(col.size()) * 2 + int64_t(val.size()) * 4; }
};

// w (out, in) dense row-major -> its nonzero 4x1 blocks.
BsrMatrix bsr_from_dense(const float* w, int out, int in);
std::vector<float> bsr_to_dense(const BsrMatrix& b);

// x (n, in) -> y (n, out) = x W^T (+ bias when not null). AVX2+FMA when the CPU has it; the
// portable path performs the same fused multiply-adds in the same order (identical bits).
void bsr_matmul(const BsrMatrix& w, const float* bias, const float* x, int n, float* y);
void bsr_matmul_portable(const BsrMatrix& w, const float* bias, const float* x, int n, float* y);

} // namespace ss
