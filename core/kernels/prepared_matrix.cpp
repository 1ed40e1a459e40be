// prepared_matrix.cpp
#include "kernels/prepared_matrix.h"

#include "error.h"
#include "model/matrices.h"

namespace ss {

const PreparedMatrix& prepared(const LinearWeights& l) {
    static const PreparedMatrix none;
    return l.kernels ? *l.kernels : none;
}

int64_t count_zero_weights(const LinearWeights& l) {
    const PreparedMatrix& p = prepared(l);
    int64_t zeros = 0;
    if (!l.weight.empty()) {
        for (float w : l.weight) zeros += w == 0.0f;
    } else if (l.quant && !l.quant->half.empty()) {
        for (uint16_t h : l.quant->half) zeros += (h & 0x7fffu) == 0;
    } else if (l.quant && l.quant->slim() && p.qmat) {
        zeros = qmatrix_zero_count(*p.qmat); // from the kernel's blocks, without rebuilding the codes
    } else if (l.quant) {
        const auto full = quantized_weights_of(l); // l.quant itself unless slim
        const QuantizedWeights& q = *full;
        const int groups = q.groups_per_row(), offset = 1 << (q.spec.bits() - 1);
        for (int o = 0; o < q.out; ++o)
            for (int i = 0; i < q.in; ++i) {
                const size_t g = size_t(o) * groups + size_t(i / q.group);
                const uint32_t zero = q.spec.asym ? q.zero[g] : uint32_t(offset);
                zeros += q.code(size_t(o) * q.in + i) == zero || q.scale[g] == 0.0f;
            }
    } else if (p.csr) {
        zeros = l.weight_count() - p.csr->nnz();
    } else if (p.bsr || p.nm24) {
        for (float w : dense_weights(l)) zeros += w == 0.0f;
    }
    return zeros;
}

int64_t resident_weight_bytes(const LinearWeights& l) {
    const PreparedMatrix& p = prepared(l);
    int64_t bytes = int64_t(l.weight.size() + l.bias.size()) * 4;
    if (p.csr) bytes += p.csr->storage_bytes();
    if (p.bsr) bytes += p.bsr->storage_bytes();
    if (p.nm24) bytes += p.nm24->storage_bytes();
    if (p.qmat) bytes += p.qmat->storage_bytes();
    if (l.quant && !l.quant->slim()) bytes += int64_t(l.quant->packed.size() + l.quant->zero.size() + l.quant->scale.size() * 4 + l.quant->half.size() * 2);
    return bytes;
}

std::shared_ptr<const QuantizedWeights> quantized_weights_of(const LinearWeights& l) {
    if (!l.quant || !l.quant->slim()) return l.quant;
    const PreparedMatrix& p = prepared(l);
    if (!p.qmat) throw Error("'" + l.name + "': its codes were handed to an integer kernel that is gone");
    return std::make_shared<const QuantizedWeights>(qmatrix_to_quantized(*p.qmat, l.quant->spec, l.quant->group));
}

std::vector<float> dense_weights(const LinearWeights& l) {
    const PreparedMatrix& p = prepared(l);
    if (!l.weight.empty()) return l.weight.to_vector();
    if (l.quant && l.quant->slim() && p.qmat) {
        std::vector<float> w(size_t(l.weight_count()));
        qmatrix_dequantize_rows(*p.qmat, 0, l.out, w.data()); // bit-identical to dequantize_weights
        return w;
    }
    if (l.quant) return dequantize_weights(*l.quant);
    if (p.csr) return csr_to_dense(*p.csr);
    if (p.bsr) return bsr_to_dense(*p.bsr);
    if (p.nm24) return nm24_to_dense(*p.nm24);
    return {};
}

void restore_dense_weights(Model& model) {
    for_each_matrix(model, [](LinearWeights& l) {
        if (l.weight.empty() && l.weight_count() > 0) l.weight = WeightData(dense_weights(l));
        l.quant = quantized_weights_of(l); // codes back from the integer kernel before it goes
        l.kernels.reset();
    });
}

} // namespace ss
