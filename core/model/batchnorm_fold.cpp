// batchnorm_fold.cpp
#include "model/batchnorm_fold.h"

#include "error.h"

#include <cmath>

namespace ss {

void fold_batchnorm(std::vector<float>& weight, std::vector<float>& bias, int channels, const BatchNormParams& bn, const std::string& where) {
    if (channels <= 0 || weight.empty() || weight.size() % size_t(channels))
        throw Error(where + ": weight of " + std::to_string(weight.size()) + " values is not a whole number per channel for " + std::to_string(channels) + " channels");
    const struct {
        const char* name;
        const std::vector<float>* v;
    } params[] = {{"scale (gamma)", &bn.gamma}, {"B (beta)", &bn.beta}, {"input_mean", &bn.mean}, {"input_var", &bn.var}};
    for (const auto& p : params) {
        if (p.v->size() != size_t(channels))
            throw Error(where + ": BatchNorm " + p.name + " has " + std::to_string(p.v->size()) + " values, the layer " + std::to_string(channels) + " channels");
        for (size_t c = 0; c < p.v->size(); ++c)
            if (!std::isfinite((*p.v)[c])) throw Error(where + ": BatchNorm " + p.name + "[" + std::to_string(c) + "] is not finite");
    }
    if (!(bn.eps >= 0.0) || !std::isfinite(bn.eps)) throw Error(where + ": BatchNorm epsilon must be a finite non-negative number");
    if (!bias.empty() && bias.size() != size_t(channels))
        throw Error(where + ": bias has " + std::to_string(bias.size()) + " values, the layer " + std::to_string(channels) + " channels");
    for (int c = 0; c < channels; ++c)
        if (!(double(bn.var[size_t(c)]) + bn.eps > 0.0))
            throw Error(where + ": BatchNorm input_var[" + std::to_string(c) + "] + epsilon is not positive");
    if (bias.empty()) bias.assign(size_t(channels), 0.0f);
    const size_t per = weight.size() / size_t(channels);
    for (int c = 0; c < channels; ++c) {
        const double k = double(bn.gamma[size_t(c)]) / std::sqrt(double(bn.var[size_t(c)]) + bn.eps);
        for (size_t i = 0; i < per; ++i) weight[size_t(c) * per + i] = float(double(weight[size_t(c) * per + i]) * k);
        bias[size_t(c)] = float((double(bias[size_t(c)]) - double(bn.mean[size_t(c)])) * k + double(bn.beta[size_t(c)]));
    }
}

} // namespace ss
