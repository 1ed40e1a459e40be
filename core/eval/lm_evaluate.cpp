// lm_evaluate.cpp
#include "eval/lm_evaluate.h"
#include "eval/confidence_calibration.h"
#include "eval/machine_load.h"

#include "error.h"
#include "eval/expert_stats.h"
#include "model/lm_forward.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace ss {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Counts each MoE layer's (token, slot) decisions and co-activations, and keeps each token's
// experts and weights when asked.
class RoutingRecorder final : public ForwardObserver {
public:
    RoutingRecorder(const Model& m, bool keep) : keep_(keep) {
        for (const MoeLayer* moe : m.moe_layers()) {
            const size_t E = moe->experts.size();
            counts.emplace_back(E, 0);
            coactivation.emplace_back(E * E, 0);
        }
    }
    void routing(int layer, const int* idx, const float* w, int n, int k) override {
        const size_t E = counts[size_t(layer)].size();
        for (int r = 0; r < n; ++r)
            for (int s = 0; s < k; ++s) {
                const int e = idx[size_t(r) * k + s];
                ++counts[size_t(layer)][size_t(e)];
                for (int t = 0; t < k; ++t)
                    if (t != s) ++coactivation[size_t(layer)][size_t(e) * E + size_t(idx[size_t(r) * k + t])];
            }
        if (keep_) {
            chunk_idx.resize(counts.size());
            chunk_w.resize(counts.size());
            chunk_idx[size_t(layer)].assign(idx, idx + size_t(n) * k);
            chunk_w[size_t(layer)].assign(w, w + size_t(n) * k);
            k_ = k;
        }
    }
    // Appends this chunk's per-token routing as (positions, layers, k).
    void flush(int n, LmDetails& d) {
        if (!keep_ || counts.empty()) return;
        d.moe_layers = int(counts.size());
        d.top_k = k_;
        for (int t = 0; t < n; ++t)
            for (size_t l = 0; l < counts.size(); ++l)
                for (int s = 0; s < k_; ++s) {
                    d.route_idx.push_back(chunk_idx[l][size_t(t) * k_ + s]);
                    d.route_w.push_back(chunk_w[l][size_t(t) * k_ + s]);
                }
    }
    std::vector<std::vector<int64_t>> counts;       // (layers, E)
    std::vector<std::vector<int64_t>> coactivation; // (layers, E*E)

private:
    bool keep_;
    int k_ = 0;
    std::vector<std::vector<int32_t>> chunk_idx;
    std::vector<std::vector<float>> chunk_w;
};

// log-softmax of one row of logits, in double.
void log_softmax(const float* z, int V, std::vector<double>& out) {
    out.resize(size_t(V));
    double mx = z[0];
    for (int i = 1; i < V; ++i) mx = std::max(mx, double(z[i]));
    double sum = 0.0;
    for (int i = 0; i < V; ++i) sum += std::exp(double(z[i]) - mx);
    const double lse = mx + std::log(sum);
    for (int i = 0; i < V; ++i) out[size_t(i)] = double(z[i]) - lse;
}

int argmax(const float* z, int V) { return int(std::max_element(z, z + V) - z); }

double median(std::vector<double> v) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}
} // namespace

EvalResult evaluate_language_model(const CompressedModel& cm, const TokenData& data, const LmEvalOptions& opt, LmDetails* details) {
    const Model& model = cm.model;
    if (model.task != EvalTask::LanguageModeling) throw Error(model.name + ": not a language model; evaluate it on a classification dataset");
    const int ctx = opt.ctx;
    if (ctx < 4) throw Error("--ctx " + std::to_string(ctx) + ": a chunk needs at least 4 tokens");
    if (ctx > model.lm.max_positions)
        throw Error("--ctx " + std::to_string(ctx) + " exceeds the model's max_position_embeddings of " + std::to_string(model.lm.max_positions));
    const int available = int(data.tokens.size() / size_t(ctx));
    if (available < 2)
        throw Error(data.source_path + ": " + std::to_string(data.tokens.size()) + " tokens make " + std::to_string(available) + " chunk(s) of --ctx " +
                    std::to_string(ctx) + "; perplexity needs at least two (" + std::to_string(2 * ctx) + " tokens)");
    const int chunks = lm_chunk_count(data.tokens.size(), ctx, opt.chunks);
    const int V = model.lm.vocab;
    const LmBaselineCache* cached = opt.dense ? nullptr : opt.cached;
    EvalResult r = start_result(cm, opt.threads);
    const CpuTicks ticks_at_start = cpu_ticks_now(); // how busy others keep the machine meanwhile
    r.task = EvalTask::LanguageModeling;
    for (const MoeLayer* moe : model.moe_layers()) {
        r.moe_layers.push_back(moe->name);
        r.expert_ids.emplace_back();
        for (const MoeExpert& x : moe->experts) r.expert_ids.back().push_back(x.id);
        if (r.top_k == 0) r.top_k = moe->top_k;
    }

    KvCache cache = make_kv_cache(model, ctx), dense_cache;
    if (opt.dense) dense_cache = make_kv_cache(*opt.dense, ctx);
    LmWorkspace ws, dense_ws;
    // Logits of the scored rows only: positions ctx/2 .. ctx-1 (the last one is not scored).
    const int first = ctx / 2;
    std::vector<float> logits(size_t(ctx - first) * V), dense_logits(opt.dense ? size_t(ctx - first) * V : 0);
    RoutingRecorder routing(model, details != nullptr);
    std::vector<double> nll, dense_nll, kl, lp, dlp;
    std::vector<double> prompt_tps, prompt_ratio;
    int same_top = 0, top1 = 0;
    double delta_p = 0.0;
    // Next-token calibration: the top token's probability against whether it was the next token.
    std::vector<float> confidence, dense_confidence;
    std::vector<unsigned char> correct, dense_correct;
    auto run_dense = [&](const int32_t* t) {
        dense_cache.length = 0;
        const auto t0 = Clock::now();
        lm_forward(*opt.dense, t, ctx, dense_cache, dense_logits.data(), true, dense_ws, nullptr, 0, first);
        return seconds_since(t0);
    };
    for (int c = 0; c < chunks; ++c) {
        const int32_t* t = data.tokens.data() + size_t(c) * ctx;
        const double dense_first = opt.dense && c % 2 ? run_dense(t) : 0.0; // alternate which runs first
        cache.length = 0;
        const auto t0 = Clock::now();
        lm_forward(model, t, ctx, cache, logits.data(), true, ws, &routing, 0, first);
        const double s = seconds_since(t0);
        const double dense_s = opt.dense ? (c % 2 ? dense_first : run_dense(t)) : 0.0;
        prompt_tps.push_back(ctx / std::max(1e-9, s));
        if (opt.dense) prompt_ratio.push_back(dense_s / std::max(1e-9, s));
        if (details) routing.flush(ctx, *details);
        for (int j = first; j <= ctx - 2; ++j) {
            const int next = t[j + 1];
            const float* z = &logits[size_t(j - first) * V];
            log_softmax(z, V, lp);
            nll.push_back(-lp[size_t(next)]);
            const int top = argmax(z, V);
            top1 += top == next;
            confidence.push_back(float(std::exp(lp[size_t(top)])));
            correct.push_back(top == next);
            int dense_top = 0;
            if (opt.dense) {
                const float* zd = &dense_logits[size_t(j - first) * V];
                log_softmax(zd, V, dlp);
                dense_top = argmax(zd, V);
                if (opt.record) opt.record->add_row(dlp.data(), -dlp[size_t(next)], dense_top);
            } else if (cached) {
                cached->log_probs(c, j - first, dlp);
                dense_top = cached->argmax(c, j - first);
            } else {
                continue;
            }
            dense_confidence.push_back(float(std::exp(dlp[size_t(dense_top)])));
            dense_correct.push_back(dense_top == next);
            const double dnll = cached ? cached->nll(c, j - first) : -dlp[size_t(next)];
            dense_nll.push_back(dnll);
            double k = 0.0;
            for (int i = 0; i < V; ++i) k += std::exp(dlp[size_t(i)]) * (dlp[size_t(i)] - lp[size_t(i)]);
            kl.push_back(std::max(0.0, k));
            same_top += dense_top == top;
            delta_p += std::exp(lp[size_t(next)]) - std::exp(-dnll);
        }
        if (cached) cached->release_chunk(c);
        if (opt.progress && !opt.progress(float(c + 1) / float(chunks + 1))) {
            r.cancelled = true;
            return r;
        }
    }

    const double n = double(nll.size());
    double sum = 0.0, sum2 = 0.0;
    for (double v : nll) {
        sum += v;
        sum2 += v * v;
    }
    const double mean = sum / n;
    const double stderr_nll = n > 1 ? std::sqrt(std::max(0.0, sum2 / n - mean * mean) / (n - 1)) : 0.0;
    const double ppl = std::exp(mean);
    r.samples = int(nll.size());
    r.accuracy = top1 / n;
    auto& M = r.metrics;
    M["perplexity"] = ppl;
    M["perplexity_error"] = ppl * stderr_nll;
    M["mean_nll"] = mean;
    M["tokens_scored"] = n;
    M["ctx"] = ctx;
    M["chunks"] = chunks;
    M["top1"] = r.accuracy;
    r.comparison.calibration = calibration(confidence, correct);
    M["ece"] = r.comparison.calibration.ece;
    if (!dense_confidence.empty()) {
        r.comparison.dense_calibration = calibration(dense_confidence, dense_correct);
        M["dense_ece"] = r.comparison.dense_calibration.ece;
    }
    if (opt.dense || cached) {
        double dsum = 0.0;
        for (double v : dense_nll) dsum += v;
        const double dense_ppl = std::exp(dsum / n);
        double ksum = 0.0;
        for (double v : kl) ksum += v;
        M["dense_perplexity"] = dense_ppl;
        M["kld_mean"] = ksum / n;
        M["kld_p90"] = percentile(kl, 90);
        M["kld_p95"] = percentile(kl, 95);
        M["kld_p99"] = percentile(kl, 99);
        M["same_top_p"] = same_top / n;
        M["delta_p_mean"] = delta_p / n;
        M["ppl_ratio"] = ppl / dense_ppl;
        r.has_comparison = true;
        r.comparison.agreement = same_top / n;
        r.comparison.mean_kl = ksum / n;
    }
    for (size_t l = 0; l < routing.counts.size(); ++l) {
        int64_t total = 0;
        for (int64_t c : routing.counts[l]) total += c;
        std::vector<double> share;
        for (int64_t c : routing.counts[l]) share.push_back(total ? double(c) / double(total) : 0.0);
        ExpertLayerStats st;
        summarize_shares(share, st);
        st.coactivation = routing.coactivation[l];
        r.expert_share.push_back(std::move(share));
        r.expert_stats.push_back(std::move(st));
    }

    // Generation: batch 1, one token at a time with the KV cache, greedy from the first tokens.
    std::vector<double> gen_ms, dense_gen_ms;
    if (opt.gen_tokens > 0) {
        const int prompt = std::min(16, ctx / 2), steps = std::min(opt.gen_tokens, ctx - prompt);
        std::vector<float> last(static_cast<size_t>(V)), dense_last(static_cast<size_t>(V));
        cache.length = 0;
        lm_forward(model, data.tokens.data(), prompt, cache, last.data(), false, ws);
        if (opt.dense) {
            dense_cache.length = 0;
            lm_forward(*opt.dense, data.tokens.data(), prompt, dense_cache, dense_last.data(), false, dense_ws);
        }
        int32_t next = argmax(last.data(), V), dense_next = opt.dense ? argmax(dense_last.data(), V) : 0;
        for (int i = 0; i < steps; ++i) {
            auto step_dense = [&] {
                const auto t0 = Clock::now();
                lm_forward(*opt.dense, &dense_next, 1, dense_cache, dense_last.data(), false, dense_ws);
                dense_gen_ms.push_back(1e3 * seconds_since(t0));
                dense_next = argmax(dense_last.data(), V);
            };
            if (opt.dense && i % 2) step_dense();
            const auto t0 = Clock::now();
            lm_forward(model, &next, 1, cache, last.data(), false, ws);
            gen_ms.push_back(1e3 * seconds_since(t0));
            next = argmax(last.data(), V);
            if (opt.dense && i % 2 == 0) step_dense();
        }
    }
    r.throughput_sps = median(prompt_tps);
    r.latency_p50_ms = gen_ms.empty() ? 0.0 : percentile(gen_ms, 50);
    r.latency_p95_ms = gen_ms.empty() ? 0.0 : percentile(gen_ms, 95);
    r.latency_samples_ms.assign(gen_ms.begin(), gen_ms.end());
    M["prompt_tps"] = r.throughput_sps;
    M["gen_tps"] = r.latency_p50_ms > 0 ? 1e3 / r.latency_p50_ms : 0.0;
    if (opt.dense) {
        Comparison& c = r.comparison;
        c.throughput_ratio = median(prompt_ratio);
        c.latency_ratio = gen_ms.empty() ? 0.0 : percentile(dense_gen_ms, 50) / r.latency_p50_ms;
        c.faster_than_dense = beats_dense(c.throughput_ratio, c.latency_ratio);
        if (opt.record) {
            std::vector<double> dense_tps;
            for (size_t i = 0; i < prompt_tps.size(); ++i) dense_tps.push_back(prompt_tps[i] / prompt_ratio[i]);
            opt.record->finish(median(dense_tps), dense_gen_ms.empty() ? 0.0 : percentile(dense_gen_ms, 50));
        }
    } else if (cached) { // speed against the dense model as measured when the cache was made
        Comparison& c = r.comparison;
        c.throughput_ratio = r.throughput_sps / cached->dense_prompt_tps;
        c.latency_ratio = gen_ms.empty() || cached->dense_gen_p50_ms <= 0 ? 0.0 : cached->dense_gen_p50_ms / r.latency_p50_ms;
        c.faster_than_dense = beats_dense(c.throughput_ratio, c.latency_ratio);
    }
    if (details) {
        details->nll = std::move(nll);
        details->dense_nll = std::move(dense_nll);
    }
    r.others_cpus = others_busy_cpus(ticks_at_start, cpu_ticks_now());
    if (opt.progress) opt.progress(1.0f);
    return r;
}

} // namespace ss
