// kernel_plan.h - which kernel each weight matrix runs with, by format, shape and batch size.
//
// Each compressible matrix gets a kernel family for small batches (1 .. kSmallBatchMax rows) and
// one for larger batches:
//   Dense: OpenBLAS sgemv (batch 1) / sgemm on the fp32 weights.
//   Csr:   the CSR kernel (sparse_csr.h): gathered row path at batch 1-2, panel path above.
//   Bsr:   the 4x1 block-sparse kernel (sparse_bsr.h), for matrices whose zeros come in 4x1 blocks
//          (`magnitude:S:block4`): row path at batch 1-2, panel path above.
//   Nm24:  the 2:4 kernel (sparse_nm24.h, fixed-count indices, row by row): a small-batch
//          candidate for fp32 matrices with at most 2 nonzeros in every 4 inputs (`nm:2:4`).
//   Quant: integer-quantized matrices (int8, int4, int3, int2): the integer dot kernel at small
//          batches (activations rounded to 8 bits per block of 32), dequantized tiles + sgemm at
//          larger ones (fp32 on exactly the dequantized weights) (quant_matmul.h).
// A deferred 16-bit matrix (model/weight_data.h) left uncompressed is given fp32 values of its own
// first: a compressible matrix runs as the dense model runs it. (Matrices that are never planned -
// embeddings, lm_head, routers - stay deferred and run bf16_matmul.)
// Candidates: Dense for fp32 matrices, Quant for integer-quantized ones (their fp32 copy is
// dropped), Csr for matrices with at least kCsrMinSparsity zeros (kCsrMinSparsityQuantized
// when quantized: a CSR copy costs ~6 bytes per nonzero beside the codes), and Bsr for sparse
// fp32 matrices whose zeros come in 4x1 blocks (the blocks to store hold at most 1.5x the nonzeros).
//
// Measured selection (the default): each candidate is timed on the matrix itself at batch 1 and
// batch 32 (median of 5 after a warm-up), and the faster one is kept; the choice is cached per
// machine in $XDG_CACHE_HOME/sparsescope/kernel-choices.tsv (or ~/.cache/...), keyed by the CPU,
// OpenBLAS core, thread count, shape, format and sparsity (5 % steps). Kernel copies no family
// uses are dropped, so e.g. a matrix that runs CSR at every batch size keeps no fp32 copy.
// Static selection (a fallback, and for tests): Bsr, else Csr, whenever a candidate (Nm24 before
// both at small batches), else Dense / Quant (measured on the development machine before OpenBLAS ran its AVX-512 kernels there:
// docs/performance.md).
#pragma once

#include "kernels/prepared_matrix.h"
#include "model/model.h"

#include <string>

namespace ss {

inline constexpr double kCsrMinSparsity = 0.5;
inline constexpr double kCsrMinSparsityQuantized = 0.75;
inline constexpr int kSmallBatchMax = 8;  // small-batch family up to this many rows
inline constexpr int kCsrMaxRowBatch = 2; // CSR row (gather) path up to this batch size

enum class Kernel { Sgemv, Sgemm, CsrRows, CsrPanel, BsrRows, BsrPanel, Nm24Rows, QuantDot, QuantTiles };

inline Kernel kernel_for(const PreparedMatrix& p, int batch) {
    const KernelFamily f = batch <= kSmallBatchMax ? p.family_small : p.family_large;
    if (f == KernelFamily::Csr && p.csr) return batch <= kCsrMaxRowBatch ? Kernel::CsrRows : Kernel::CsrPanel;
    if (f == KernelFamily::Bsr && p.bsr) return batch <= kCsrMaxRowBatch ? Kernel::BsrRows : Kernel::BsrPanel;
    if (f == KernelFamily::Nm24 && p.nm24) return Kernel::Nm24Rows;
    if (f == KernelFamily::Quant && p.qmat) return batch <= kSmallBatchMax ? Kernel::QuantDot : Kernel::QuantTiles;
    return batch == 1 ? Kernel::Sgemv : Kernel::Sgemm;
}
inline Kernel kernel_for(const LinearWeights& l, int batch) { return kernel_for(prepared(l), batch); }

// "sgemv", "csr-rows", "q4-dot", "q8-tiles", ...
std::string kernel_name(const LinearWeights& l, int batch);

enum class KernelSelection { Measured, Static };
void set_kernel_selection(KernelSelection s); // process-wide; Measured by default
KernelSelection kernel_selection();

// (Re)builds the kernel copies and families of every compressible matrix.
void plan_kernels(Model& model);
// The same for one matrix (compression compacts a pruned matrix at once with it).
void plan_matrix_kernels(LinearWeights& l);

// One line: which kernels the model's matrices use at batch 1 and at batch 256, and OpenBLAS's core.
std::string kernel_summary(const Model& model);

} // namespace ss
