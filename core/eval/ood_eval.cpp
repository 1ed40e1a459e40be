// ood_eval.cpp - scores through both models (ood_eval.h).
#include "eval/ood_eval.h"

#include "error.h"
#include "eval/confidence_calibration.h"
#include "model/forward.h"

#include <algorithm>

namespace ss {

namespace {
// Max softmax and negative energy of each of the first n samples.
void scores(const Model& m, const Dataset& d, int n, int batch, std::vector<float>* msp, std::vector<float>* energy) {
    const int features = m.input_features(), classes = m.num_classes();
    ForwardWorkspace ws;
    std::vector<float> x(size_t(batch) * size_t(features)), logits(size_t(batch) * size_t(classes));
    for (int start = 0; start < n; start += batch) {
        const int k = std::min(batch, n - start);
        preprocess_input(m.input, d.sample(start), size_t(k) * size_t(features), x.data());
        forward(m, x.data(), k, logits.data(), {}, ws, nullptr);
        const std::vector<float> p = max_softmax(logits.data(), k, classes), e = negative_energy(logits.data(), k, classes);
        msp->insert(msp->end(), p.begin(), p.end());
        energy->insert(energy->end(), e.begin(), e.end());
    }
}
} // namespace

Dataset uniform_noise_images(int count, int features, uint64_t seed) {
    Dataset d;
    d.source_path = "uniform noise";
    d.format = "noise";
    d.count = count;
    d.features = features;
    d.raw.resize(size_t(count) * size_t(features));
    uint64_t s = seed ^ 0x6E6F697365ull; // splitmix64
    for (float& v : d.raw) {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        v = float((z ^ (z >> 31)) % 256);
    }
    d.labels.assign(size_t(count), 0);
    d.num_classes = 1;
    return d;
}

OodEvaluation evaluate_ood(const Model& compressed, const Model* dense, const Dataset& in, int in_limit, const Dataset& out,
                           const std::string& name, int batch) {
    if (out.features != compressed.input_features())
        throw Error(out.source_path + ": out-of-distribution samples of " + std::to_string(out.features) + " values; " + compressed.name +
                    " takes " + std::to_string(compressed.input_features()));
    if (out.count < 1) throw Error(out.source_path + ": no out-of-distribution samples");
    OodEvaluation r;
    r.set = name;
    r.in_count = in_limit > 0 ? std::min(in_limit, in.count) : in.count;
    r.out_count = out.count;
    batch = std::max(1, batch);
    auto both = [&](const Model& m, OodResult* msp, OodResult* energy) {
        std::vector<float> in_p, in_e, out_p, out_e;
        scores(m, in, r.in_count, batch, &in_p, &in_e);
        scores(m, out, r.out_count, batch, &out_p, &out_e);
        *msp = ood_separation(in_p, out_p);
        *energy = ood_separation(in_e, out_e);
    };
    both(compressed, &r.msp, &r.energy);
    if (dense) {
        both(*dense, &r.dense_msp, &r.dense_energy);
        r.has_dense = true;
    }
    return r;
}

} // namespace ss
