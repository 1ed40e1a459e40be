// prepared_matrix.h - what the kernel plan prepared for one weight matrix: its kernel copies (CSR,
// 4x1 blocks, 2:4, integer blocks) and which kernel family runs it at small and large batches.
//
// A LinearWeights holds these through a shared pointer (null until plan_kernels ran), so the
// model's types do not depend on the kernels and a compressed copy shares them until re-planned.
#pragma once

#include "kernels/quant_matmul.h"
#include "kernels/sparse_bsr.h"
#include "kernels/sparse_csr.h"
#include "kernels/sparse_nm24.h"
#include "model/model.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace ss {

// Which kernel family runs a matrix (kernel_plan.h).
enum class KernelFamily : uint8_t { Dense, Csr, Bsr, Nm24, Quant };

struct PreparedMatrix {
    std::shared_ptr<const CsrMatrix> csr;   // compressed rows, when a sparse kernel runs it
    std::shared_ptr<const BsrMatrix> bsr;   // 4x1 blocks (sparse_bsr.h)
    std::shared_ptr<const Nm24Matrix> nm24; // 2:4 (sparse_nm24.h)
    std::shared_ptr<const QMatrix> qmat;    // integer codes in the kernels' block layout (quant_matmul.h)
    KernelFamily family_small = KernelFamily::Dense; // batches up to kSmallBatchMax
    KernelFamily family_large = KernelFamily::Dense; // larger batches
    bool measured = false; // the families were chosen by timing candidates (or from the cache)
};

// The prepared kernels of l, or an empty set (dense, nothing prepared) when there are none.
const PreparedMatrix& prepared(const LinearWeights& l);

// The matrix's low-precision form with its codes (rebuilt from the integer kernel's copy when
// the plan slimmed l.quant, QuantizedWeights::slim). l.quant must be set.
std::shared_ptr<const QuantizedWeights> quantized_weights_of(const LinearWeights& l);

// Weights equal to zero, from whichever form the matrix holds (fp32, codes, CSR or 4x1 blocks).
int64_t count_zero_weights(const LinearWeights& l);
// Bytes the matrix keeps in memory: fp32 weights, its low-precision codes (once: an integer
// kernel holds them instead of l.quant), the other kernel copies, and bias.
int64_t resident_weight_bytes(const LinearWeights& l);
// (out, in) fp32 from whichever form the matrix holds; empty when it holds none.
std::vector<float> dense_weights(const LinearWeights& l);
// Gives every compressible matrix its fp32 weights back (from the codes, CSR or blocks), dropping
// kernel copies, so compression can edit them.
void restore_dense_weights(Model& model);

} // namespace ss
