// ggml_blocks.h - rows of fp32 or of SparseScope's integer codes as ggml's tensor blocks.
//
// Q8_0: per 32 values, an f16 scale d and 32 int8 q: value = d * q.
// Q4_0: per 32 values, an f16 scale d and 16 bytes; byte j holds value j's q in its low nibble
//       and value j + 16's in its high one: value = d * (q - 8).
// From fp32 (a dense model), the rounding is ggml's reference quantizer's: Q8_0 d = max|x| / 127,
// q = round(x / d) (halves away from zero); Q4_0 takes m, the value of largest magnitude (its
// sign kept), d = m / -8, q = min(15, trunc(x / d + 8.5)). As in ggml, q is computed with the
// fp32 d and the f16 d is stored.
// From SparseScope's codes (a compressed model), every block carries exactly the weights the
// model computes with, as long as the scale is an f16 value (quantize_weights rounds scales to
// f16): a symmetric b-bit code c with zero 2^(b-1) and group scale s is q = c - 2^(b-1) (Q8_0,
// b = 8) or q = c - 2^(b-1) + 8 (Q4_0, b <= 4), with d = s for every block of the group. The
// integer kernels' blocks already hold 32 codes each (int4: Q4_0's very nibble order).
#pragma once

#include "kernels/quant_matmul.h"
#include "formats/gguf_writer.h"

#include <cstdint>
#include <vector>

namespace ss {

// n (a multiple of 32 for Q types) values of x -> ggml_row_bytes(t, n) bytes appended to out.
void ggml_encode_row(GgmlType t, const float* x, int64_t n, std::vector<uint8_t>& out);

// Whether w's weights (an integer kernel's blocks, kernels/quant_matmul.h) can be written as ggml
// blocks of type t with their values unchanged: symmetric codes, 8 bits for Q8_0 or at most 4 for
// Q4_0, rows a multiple of 32 long (its scales are f16 already). Else why not, in `why`.
bool ggml_blocks_exact(const QMatrix& w, GgmlType t, std::string* why);
// Row o of w -> blocks of type t appended to out (ggml_blocks_exact must hold).
void ggml_encode_codes_row(const QMatrix& w, int o, GgmlType t, std::vector<uint8_t>& out);

// The fp32 values of one row of blocks (tests, and checks on what was written).
void ggml_decode_row(GgmlType t, const uint8_t* blocks, int64_t n, float* x);

} // namespace ss
