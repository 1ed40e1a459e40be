// onnx_import.h - ONNX feed-forward classifiers (as torch.onnx.export writes them) -> Model.
//
// Accepted: one input, one output, a chain of Gemm (any transA = 0 / transB / alpha / beta),
// MatMul (+ Add of a constant bias), Relu, LeakyRelu, Gelu, the Div-Erf-Add-Mul-Mul GELU that
// PyTorch exports before opset 20, Sigmoid, Tanh, Flatten, Reshape to [N, -1], Identity,
// Dropout, and Softmax / LogSoftmax as the last node (argmax is unchanged, so it is dropped).
// Weights come from initializers or Constant nodes. Anything else - another op, a weight computed
// at run time, a value used twice (a branch) - is an error naming the node and the op.
#pragma once

#include "model/model.h"

#include <string>

namespace ss {

// `input` supplies the preprocessing (ONNX carries none); its shape is replaced by the graph's.
Model import_onnx(const std::string& path, const InputSpec& input);

// Preprocessing defaults for ONNX models: x = raw / 255.
InputSpec default_onnx_input();

} // namespace ss
