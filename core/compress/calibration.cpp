// calibration.cpp
#include "compress/calibration.h"

#include "error.h"
#include "model/forward.h"
#include "model/lm_forward.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace ss {

namespace {
struct NormObserver final : ForwardObserver {
    std::map<std::string, std::vector<double>>* sumsq;
    void linear_input(const LinearWeights& l, const float* x, int n) override {
        auto& acc = (*sumsq)[l.name];
        acc.resize(size_t(l.in), 0.0);
        for (int r = 0; r < n; ++r)
            for (int j = 0; j < l.in; ++j) {
                const double v = x[size_t(r) * l.in + j];
                acc[size_t(j)] += v * v;
            }
    }
    // Language models report routing here (classifiers count slots in forward()).
    ExpertSlotCounts* counts = nullptr;
    void routing(int moe_index, const int* idx, const float*, int n, int k) override {
        if (!counts) return;
        auto& c = (*counts)[size_t(moe_index)];
        for (int i = 0; i < n * k; ++i) ++c[size_t(idx[i])];
    }
};

void shares_from_counts(const ExpertSlotCounts& counts, CalibrationStats& st) {
    for (const auto& layer : counts) {
        double total = 0;
        for (int64_t c : layer) total += double(c);
        std::vector<double> share;
        for (int64_t c : layer) share.push_back(total > 0 ? double(c) / total : 0.0);
        st.expert_share.push_back(std::move(share));
    }
}

CalibrationStats calibrate_lm(const Model& model, const TokenData& text, int ctx, int chunks) {
    if (ctx < 2 || int64_t(text.tokens.size()) < ctx)
        throw Error(text.source_path + ": calibration text has " + std::to_string(text.tokens.size()) + " tokens, fewer than one chunk of " +
                    std::to_string(ctx));
    const int n = int(std::min<int64_t>(chunks, int64_t(text.tokens.size()) / ctx));
    CalibrationStats st;
    st.samples = n;
    ExpertSlotCounts counts = make_expert_slot_counts(model);
    NormObserver obs;
    obs.sumsq = &st.input_sumsq;
    obs.counts = &counts;
    KvCache cache = make_kv_cache(model, ctx);
    LmWorkspace ws;
    std::vector<float> last(size_t(model.lm.vocab));
    for (int c = 0; c < n; ++c) {
        cache.length = 0;
        lm_forward(model, text.tokens.data() + size_t(c) * size_t(ctx), ctx, cache, last.data(), false, ws, &obs);
    }
    shares_from_counts(counts, st);
    return st;
}
} // namespace

CalibrationStats calibrate(const Model& model, const CalibrationSet& set, int samples) {
    if (model.task == EvalTask::LanguageModeling) {
        if (!set.tokens) throw Error(model.name + ": calibrating a language model needs calibration text (token ids), not images");
        return calibrate_lm(model, *set.tokens, set.ctx, samples);
    }
    if (!set.samples) throw Error(model.name + ": calibrating a classifier needs calibration samples, not text");
    const Dataset& data = *set.samples;
    check_dataset_matches(data, model.input_features(), model.num_classes(), model.name);
    std::vector<int> order(static_cast<size_t>(data.count));
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(0x5eed);
    std::shuffle(order.begin(), order.end(), rng);
    order.resize(size_t(std::min(samples, data.count)));

    CalibrationStats st;
    st.samples = int(order.size());
    NormObserver obs;
    obs.sumsq = &st.input_sumsq;
    const int features = model.input_features(), batch = 256;
    ForwardWorkspace ws;
    ExpertSlotCounts counts = make_expert_slot_counts(model);
    std::vector<float> x(size_t(batch) * features), logits(size_t(batch) * model.num_classes());
    for (size_t start = 0; start < order.size(); start += batch) {
        const int m = int(std::min<size_t>(batch, order.size() - start));
        for (int i = 0; i < m; ++i) preprocess_input(model.input, data.sample(order[start + size_t(i)]), size_t(features), &x[size_t(i) * features]);
        forward(model, x.data(), m, logits.data(), {}, ws, &counts, &obs);
    }
    shares_from_counts(counts, st);
    return st;
}

} // namespace ss
