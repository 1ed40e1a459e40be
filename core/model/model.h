// model.h - the in-memory classifier-v1 model: a list of layers with fp32 weights.
//
// Weights follow PyTorch's layout: a linear weight is (out, in) row-major, so y = x W^T + b.
// A Model is a value: compression copies it and edits the copy, never the loaded original.
#pragma once

#include "compress/quantized_weights.h"
#include "model/weight_data.h"

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace ss {

// gelu: exact erf form; gelu_tanh: the tanh approximation (PyTorch approximate="tanh").
enum class Activation { Relu, LeakyRelu, Gelu, GeluTanh, Silu, Tanh, Sigmoid };

struct PreparedMatrix; // kernels/prepared_matrix.h

struct LinearWeights {
    std::string name;     // tensor prefix: NAME.weight, NAME.bias
    int in = 0;           // input features
    int out = 0;          // output features
    // (out, in) row-major, fp32 (dequantized when quant is set). Empty after the kernel plan gave
    // the matrix an integer kernel (qmat): compressed weights stay compressed in memory.
    WeightData weight;
    WeightData bias;      // (out); empty when has_bias is false
    bool has_bias = true; // false only for MoE router gates
    // The low-precision form `weight` was dequantized from, when the matrix is quantized;
    // whatever changes `weight` must keep it in step or drop it.
    std::shared_ptr<const QuantizedWeights> quant;
    // Kernel copies and the kernel family per batch size (kernels/prepared_matrix.h), made by
    // plan_kernels from `weight` / `quant`: whatever changes those must drop it.
    std::shared_ptr<const PreparedMatrix> kernels;

    int64_t weight_count() const { return int64_t(out) * in; }
};


struct ActivationLayer {
    Activation kind = Activation::Relu;
    float negative_slope = 0.01f; // leaky_relu only
};

// y = (x - mean) / sqrt(var + eps) * weight + bias over the last dimension (biased variance).
struct LayerNormLayer {
    std::string name;
    int dim = 0;
    double eps = 1e-5;
    WeightData weight; // (dim)
    WeightData bias;   // (dim)
};

// Kept so configs round-trip; the identity at inference (and in SparseScope's trainer).
struct DropoutLayer {
    double p = 0.0;
};

struct MoeExpert {
    int id = 0;        // index in the model as loaded (kept when other experts are dropped)
    LinearWeights fc1; // (hidden, dim); hidden may shrink per expert (structured pruning)
    LinearWeights fc2; // (dim, hidden)
};

struct MoeLayer {
    std::string name;
    int dim = 0;
    int hidden = 0;       // as configured; each expert's fc1.out is its actual hidden size
    int top_k = 1;
    Activation activation = Activation::Gelu;
    bool residual = false;
    LinearWeights gate; // (experts, dim), no bias
    std::vector<MoeExpert> experts;
};

using Layer = std::variant<LinearWeights, ActivationLayer, MoeLayer, LayerNormLayer, DropoutLayer>;

struct InputSpec {
    std::vector<int> shape; // e.g. {28, 28}; features = product
    double scale = 1.0;     // x = (raw * scale - mean) / std, evaluated in double, rounded to fp32
    double mean = 0.0;
    double std = 1.0;
    int features() const;
};

// What the files a model was loaded from hold, for `info` and the GUI.
struct TensorRecord {
    std::string name;
    std::string dtype;          // safetensors dtype name, e.g. "F32", "I8"
    std::vector<int64_t> shape;
    std::string file;           // file name within the model (shards differ)
};

struct ModelSourceInfo {
    std::vector<std::string> files;                  // safetensors files read
    std::vector<std::pair<std::string, std::string>> metadata; // __metadata__ of the (first) file
    std::vector<TensorRecord> tensors;               // sorted by name
    uint64_t bytes = 0;                              // total size of the files
};

struct Model {
    std::string name;
    std::string source_path; // where it was loaded from; empty for models built in memory
    std::string sha256;      // over the files it was loaded from (config first); empty for models built in memory
    ModelSourceInfo source;
    InputSpec input;
    std::vector<std::string> labels;
    std::vector<Layer> layers;

    int input_features() const { return input.features(); }
    int num_classes() const { return int(labels.size()); }
    int64_t parameter_count() const;
    std::vector<const MoeLayer*> moe_layers() const;
};

const char* activation_name(Activation a);
bool parse_activation(const std::string& s, Activation* out);

} // namespace ss
