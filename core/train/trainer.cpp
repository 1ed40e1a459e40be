// trainer.cpp
#include "train/trainer.h"

#include "model/matrices.h"
#include "model/overloaded.h"

#include "train/adam.h"
#include "train/backprop.h"
#include "error.h"
#include "model/forward.h"
#include "kernels/thread_pool.h"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

namespace ss {

namespace {

void init_linear(LinearWeights& l, std::mt19937_64& rng) {
    const float bound = 1.0f / std::sqrt(float(l.in));
    std::uniform_real_distribution<float> u(-bound, bound);
    l.weight.resize(size_t(l.out) * l.in);
    for (float& w : l.weight) w = u(rng);
    if (l.has_bias) {
        l.bias.resize(size_t(l.out));
        for (float& b : l.bias) b = u(rng);
    }
}

} // namespace

void init_weights(Model& model, uint64_t seed) {
    std::mt19937_64 rng(seed);
    for_each_matrix(model, [&](LinearWeights& l) { init_linear(l, rng); }, MatrixScope::All);
    for (auto& layer : model.layers)
        std::visit(Overloaded{
                       [](LayerNormLayer& ln) {
                           ln.weight = WeightData(std::vector<float>(size_t(ln.dim), 1.0f)); // PyTorch's default
                           ln.bias = WeightData(std::vector<float>(size_t(ln.dim), 0.0f));
                       },
                       [](LinearWeights&) {}, // matrices: above
                       [](MoeLayer&) {},
                       [](ActivationLayer&) {},
                       [](DropoutLayer&) {},
                       [](EmbeddingLayer&) { refuse_layer_kind("weight initialization", "embedding"); },
                       [](RmsNormLayer&) { refuse_layer_kind("weight initialization", "RMSNorm"); },
                       [](DecoderBlock&) { refuse_layer_kind("weight initialization", "decoder block"); },
                       [](Conv2dLayer&) { refuse_layer_kind("weight initialization", "conv2d"); },
                       [](BatchNorm2dLayer&) { refuse_layer_kind("weight initialization", "batchnorm2d"); },
                       [](SpatialLayer&) { refuse_layer_kind("weight initialization", "pooling"); },
                       [](ResidualLayer&) { refuse_layer_kind("weight initialization", "residual"); },
                   },
                   layer);
}

void train_model(Model& model, const Dataset& data, const TrainOptions& opt,
                 const std::function<bool(const EpochReport&)>& on_epoch, const std::function<void(float)>& on_step) {
    check_dataset_matches(data, model.input_features(), model.num_classes(), model.name);
    set_compute_threads(std::max(1, opt.threads));
    const int features = model.input_features();
    const int batch = std::max(1, opt.batch_size);
    const int steps_per_epoch = (data.count + batch - 1) / batch;
    const int64_t total_steps = int64_t(steps_per_epoch) * opt.epochs;

    Model grads = make_zero_gradients(model);
    Adam adam(model);
    const auto params = parameter_vectors(model);
    const auto gvec = parameter_vectors(grads);

    std::vector<int> order(static_cast<size_t>(data.count));
    std::iota(order.begin(), order.end(), 0);
    std::vector<float> x(size_t(batch) * features);
    std::vector<int> labels(static_cast<size_t>(batch));
    int64_t step = 0;
    for (int epoch = 1; epoch <= opt.epochs; ++epoch) {
        const auto t0 = std::chrono::steady_clock::now();
        std::mt19937_64 shuffle_rng(opt.seed * 1000003ull + uint64_t(epoch));
        std::shuffle(order.begin(), order.end(), shuffle_rng);
        EpochReport rep;
        rep.epoch = epoch;
        int64_t correct = 0;
        for (int start = 0; start < data.count; start += batch) {
            const int n = std::min(batch, data.count - start);
            for (int i = 0; i < n; ++i) {
                const int s = order[size_t(start + i)];
                preprocess_input(model.input, data.sample(s), size_t(features), &x[size_t(i) * features]);
                labels[size_t(i)] = data.labels[size_t(s)];
            }
            zero_gradients(grads);
            const BatchLoss bl = loss_and_gradients(model, x.data(), labels.data(), n, opt.aux_weight, grads);
            if (!std::isfinite(bl.cross_entropy))
                throw Error("train: loss became " + std::to_string(bl.cross_entropy) + " at epoch " + std::to_string(epoch) +
                            "; lower --lr");
            rep.loss += bl.cross_entropy * n;
            rep.aux += bl.aux * n;
            correct += bl.correct;

            ++step;
            adam.update(params, gvec, step, cosine_learning_rate(opt.learning_rate, step, total_steps), opt.weight_decay);
            if (on_step) on_step(float(double(step) / double(total_steps)));
        }
        rep.loss /= data.count;
        rep.aux /= data.count;
        rep.train_accuracy = double(correct) / data.count;
        rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (on_epoch && !on_epoch(rep)) break;
    }
}

} // namespace ss
