// finite_weights.cpp
#include "model/finite_weights.h"

#include "compress/quantized_weights.h"
#include "model/matrices.h"

#include <cmath>

namespace ss {

namespace {
// The first non-finite of values[0..n) as a description, or "".
std::string first_in(const float* v, size_t n, const std::string& tensor) {
    for (size_t i = 0; i < n; ++i)
        if (!std::isfinite(v[i]))
            return "tensor '" + tensor + "' element " + std::to_string(i) + " is " + (std::isnan(v[i]) ? "NaN" : v[i] > 0 ? "+inf" : "-inf");
    return {};
}
} // namespace

std::string first_nonfinite_weight(const Model& model) {
    std::string found;
    for_each_matrix(model, [&](const LinearWeights& l, const MatrixInfo& info) {
        if (!found.empty()) return;
        if (!l.weight.empty()) found = first_in(std::as_const(l.weight).data(), l.weight.size(), info.stored_name + ".weight");
        l.weight.release_file_pages(); // a pass over the mapped file must not leave the model resident
        if (found.empty() && l.quant) found = first_in(l.quant->scale.data(), l.quant->scale.size(), info.stored_name + ".weight (scales)");
        if (found.empty() && !l.bias.empty()) found = first_in(std::as_const(l.bias).data(), l.bias.size(), info.stored_name + ".bias");
    }, MatrixScope::All);
    if (!found.empty()) return found;
    for_each_vector(model, [&](const WeightData& v, const VectorInfo& info) {
        if (found.empty() && !v.empty()) found = first_in(std::as_const(v).data(), v.size(), info.tensor);
    });
    return found;
}

} // namespace ss
