// model.h - the in-memory classifier-v1 model: a list of layers with fp32 weights.
//
// Weights follow PyTorch's layout: a linear weight is (out, in) row-major, so y = x W^T + b.
// A Model is a value: compression copies it and edits the copy, never the loaded original.
#pragma once

#include "compress/quantized_weights.h"
#include "eval/eval_task.h"
#include "kernels/conv2d.h"
#include "kernels/pool2d.h"
#include "model/weight_data.h"

#include <cstdint>
#include <future>
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
    // The weight tensor's shape in files when it is not (out, in): a convolution's PyTorch
    // (out_channels, in_channels / groups, kernel_h, kernel_w). Its product is out * in.
    std::vector<int64_t> tensor_shape;

    int64_t weight_count() const { return int64_t(out) * in; }
    std::vector<int64_t> stored_shape() const { return tensor_shape.empty() ? std::vector<int64_t>{out, in} : tensor_shape; }
};

// A matrix's shape and name, its values not yet loaded.
inline LinearWeights make_linear(std::string name, int in, int out, bool bias) {
    LinearWeights l;
    l.name = std::move(name);
    l.in = in;
    l.out = out;
    l.has_bias = bias;
    return l;
}


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

// A feed-forward block: y = fc2(act(fc1 x)), or gated (SwiGLU when act is silu) when `up` has
// weights: y = fc2(act(fc1 x) * (up x)). In Hugging Face names fc1 is gate_proj (Mixtral w1), up
// is up_proj (w3), fc2 is down_proj (w2).
struct MoeExpert {
    int id = 0;        // index in the model as loaded (kept when other experts are dropped)
    LinearWeights fc1; // (hidden, dim); hidden may shrink per expert (structured pruning)
    LinearWeights fc2; // (dim, hidden)
    LinearWeights up;  // (hidden, dim) for gated experts; 0 x 0 otherwise

    bool gated() const { return up.out > 0; }
};

// How an MoE layer turns a row's gate logits into its k experts and their weights.
enum class RoutingRule : uint8_t {
    TopKSoftmax,       // softmax over the k largest logits (classifier-v1, GraniteMoE)
    SoftmaxTopKRenorm, // softmax over all experts, the k largest, renormalised over them (Mixtral; norm_topk_prob)
    SoftmaxTopK,       // softmax over all experts, the k largest, not renormalised (Qwen2-MoE, OLMoE default)
};

// How expert matrices are named in files (formats/tensor_names.h).
enum class ExpertNaming : uint8_t {
    Classifier, // NAME.experts.E.fc1 / fc2
    Mixtral,    // NAME.experts.E.w1 / w3 / w2
    HfProj,     // NAME.experts.E.gate_proj / up_proj / down_proj (also the fused and GraniteMoE layouts' names)
};

struct MoeLayer {
    std::string name;
    int dim = 0;
    int hidden = 0;       // as configured; each expert's fc1.out is its actual hidden size
    int top_k = 1;
    Activation activation = Activation::Gelu;
    bool residual = false; // classifier-v1: y = x + moe(x) (a decoder block adds its own residual)
    RoutingRule rule = RoutingRule::TopKSoftmax;
    ExpertNaming naming = ExpertNaming::Classifier;
    LinearWeights gate; // (experts, dim), no bias
    std::vector<MoeExpert> experts;
    // Qwen2-MoE: an expert every row goes through, weighted by sigmoid(shared_gate x).
    bool has_shared = false;
    MoeExpert shared;
    LinearWeights shared_gate; // (1, dim)
};

// Token embeddings: row t of the table is token t's vector, times `multiplier` (GraniteMoE).
struct EmbeddingLayer {
    LinearWeights table; // (vocab, dim) as out x in, so a plan can quantize it like a matrix
    float multiplier = 1.0f;
};

// y = x / sqrt(mean(x^2) + eps) * weight over the last dimension.
struct RmsNormLayer {
    std::string name;
    int dim = 0;
    double eps = 1e-6;
    WeightData weight; // (dim)
};

// Causal self-attention with rotary positions (Hugging Face rotate_half layout: pairs j, j + hd/2)
// and grouped-query heads (kv_heads divides heads).
struct AttentionWeights {
    LinearWeights q, k, v, o; // q (heads*hd, dim), k/v (kv_heads*hd, dim), o (dim, heads*hd)
    int heads = 0, kv_heads = 0, head_dim = 0;
    double rope_theta = 10000.0;
    double scale = 0.0;       // softmax(q.k * scale); 1/sqrt(hd) unless the family sets it
    double clip_qkv = 0.0;    // > 0: q, k, v clamped to +-clip_qkv (OLMoE)
    RmsNormLayer q_norm;      // OLMoE: RMSNorm over the whole q projection (dim 0 when absent)
    RmsNormLayer k_norm;      // likewise over k
};

// A pre-norm transformer decoder block:
//   x += r * attn(attn_norm(x));  x += r * ffn(ffn_norm(x))   (r = residual_multiplier)
// The feed-forward part is the MoE layer when is_moe, else the dense gated MLP.
struct DecoderBlock {
    std::string name; // "model.layers.3"
    int dim = 0;
    RmsNormLayer attn_norm; // input_layernorm
    AttentionWeights attn;
    RmsNormLayer ffn_norm;  // post_attention_layernorm
    bool is_moe = false;
    MoeExpert mlp;          // the dense MLP (fc1 gate_proj, up up_proj, fc2 down_proj) when !is_moe
    MoeLayer moe;
    float residual_multiplier = 1.0f;
};

// Convolutional networks: activations flow as (N, C, H, W) (docs/model-format.md, "Conv nets").
//
// A 2-D convolution (kernels/conv2d.h). Its weight is held as a matrix in im2col form,
// (out_channels, in_channels / groups * kernel_h * kernel_w) - PyTorch's (O, I/g, kh, kw) flattened -
// so pruning, quantization, the kernel plan and the sparse and integer kernels treat it like any
// linear layer: with groups == 1 the forward pass runs the matrix kernels over the patches.
struct Conv2dLayer {
    Conv2dShape shape;
    LinearWeights w; // name: the tensor prefix (NAME.weight, NAME.bias); out = out_channels, in = group_in * kh * kw
};

// BatchNorm over channels with running statistics (inference): y = (x - mean) / sqrt(var + eps) *
// weight + bias. Folded into the convolution before it when a model is loaded (batchnorm_fold.h);
// one that follows no convolution runs as a per-channel affine map.
struct BatchNorm2dLayer {
    std::string name; // tensors NAME.weight, NAME.bias, NAME.running_mean, NAME.running_var
    int channels = 0;
    double eps = 1e-5;
    WeightData weight, bias, mean, var; // (channels) each
};

// Parameterless layers over (N, C, H, W): pooling (kernels/pool2d.h) and flattening to (N, C*H*W).
enum class SpatialOp : uint8_t { MaxPool, AvgPool, GlobalAvgPool, Flatten };
struct SpatialLayer {
    SpatialOp op = SpatialOp::Flatten;
    Pool2dShape pool; // MaxPool, AvgPool
};

// Residual connections, kept flat: Save pushes the current activation on a stack; Add pops the
// last one saved and adds it - through `projection` (a convolution, e.g. 1x1 stride 2) when set -
// to the current activation. A ResNet basic block is Save, conv, relu, conv, Add, relu.
struct ResidualLayer {
    bool add = false;            // false: save
    bool has_projection = false; // Add only
    Conv2dLayer projection;
    bool has_projection_bn = false; // the projection's BatchNorm, until folded into it at load
    BatchNorm2dLayer projection_bn;
};

using Layer = std::variant<LinearWeights, ActivationLayer, MoeLayer, LayerNormLayer, DropoutLayer, EmbeddingLayer, RmsNormLayer,
                           DecoderBlock, Conv2dLayer, BatchNorm2dLayer, SpatialLayer, ResidualLayer>;

struct InputSpec {
    std::vector<int> shape; // e.g. {28, 28}, or {C, H, W} for a conv net ({H, W}: one channel); features = product
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

// What a causal language model needs beyond its layers (Hugging Face config.json).
struct LanguageModelSpec {
    std::string architecture;   // "MixtralForCausalLM", ...
    int vocab = 0;
    int max_positions = 0;      // max_position_embeddings
    int bos = -1, eos = -1;     // token ids; -1 when the config names none
    double logits_scaling = 1.0; // logits = head(x) / logits_scaling (GraniteMoE)
    bool tied_embeddings = false; // lm_head shares the embedding table
    std::string tokenizer_path;  // tokenizer.model or tokenizer.json beside the config; empty when none
    std::string config_json;     // config.json as read, for export
};

// A classifier: layers map (n, features) to (n, classes). A language model: an EmbeddingLayer,
// DecoderBlocks, the final RmsNormLayer and the lm_head LinearWeights, over token sequences.
struct Model {
    std::string name;
    EvalTask task = EvalTask::Classification;
    LanguageModelSpec lm; // language models only
    std::string source_path; // where it was loaded from; empty for models built in memory
    // SHA-256 over the files it was loaded from (config first), hashed on a background thread from
    // load on (a 2 GB checkpoint takes seconds to hash); sha256() waits for it. Not set for models
    // built in memory (sha256() is then empty).
    std::shared_future<std::string> sha256_pending;
    std::string sha256() const { return sha256_pending.valid() ? sha256_pending.get() : std::string(); }
    ModelSourceInfo source;
    // Where the first NaN or infinite weight is, when load_model was allowed to load one; else "".
    std::string nonfinite;
    InputSpec input;
    std::vector<std::string> labels;
    std::vector<Layer> layers;

    int input_features() const { return input.features(); }
    int num_classes() const { return int(labels.size()); }
    int64_t parameter_count() const;
    // Every MoE layer in order, those inside decoder blocks included.
    std::vector<const MoeLayer*> moe_layers() const;
    std::vector<MoeLayer*> moe_layers();
};

const char* activation_name(Activation a);
bool parse_activation(const std::string& s, Activation* out);

} // namespace ss
