// batchnorm_fold.h - a BatchNorm (inference: running statistics) folded into the convolution or
// linear layer before it, so the network runs one layer where it had two:
//   bn(conv(x)) = gamma * (conv(x) - mean) / sqrt(var + eps) + beta
//               = conv'(x) with w'[o] = w[o] * k[o], b'[o] = (b[o] - mean[o]) * k[o] + beta[o],
//                 k[o] = gamma[o] / sqrt(var[o] + eps)           (o: output channel)
// k is formed in double and each result rounded once to float.
#pragma once

#include <string>
#include <vector>

namespace ss {

struct BatchNormParams {
    std::vector<float> gamma, beta, mean, var; // (channels) each
    double eps = 1e-5;
};

// weight: (channels, per_channel) - for a convolution per_channel = in / groups * kh * kw;
// bias: (channels), or empty (then created: a convolution without bias gets one).
// Throws ss::Error naming `where` and the field when a parameter has the wrong length, is not
// finite, or var + eps is not positive; nothing is changed then.
void fold_batchnorm(std::vector<float>& weight, std::vector<float>& bias, int channels, const BatchNormParams& bn, const std::string& where);

} // namespace ss
