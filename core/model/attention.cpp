// attention.cpp
#include "model/attention.h"

#include "error.h"
#include "kernels/dense_linear.h"
#include "kernels/thread_pool.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ss {

void rms_norm_forward(const float* w, int dim, double eps, const float* x, int n, float* y) {
    for (int r = 0; r < n; ++r) {
        const float* xr = x + size_t(r) * dim;
        float* yr = y + size_t(r) * dim;
        double ss = 0.0;
        for (int c = 0; c < dim; ++c) ss += double(xr[c]) * xr[c];
        const float inv = float(1.0 / std::sqrt(ss / dim + eps));
        for (int c = 0; c < dim; ++c) yr[c] = xr[c] * inv * w[c];
    }
}

void rope_factors(int pos0, int n, int head_dim, double theta, std::vector<float>& cos, std::vector<float>& sin) {
    const int half = head_dim / 2;
    cos.resize(size_t(n) * half);
    sin.resize(size_t(n) * half);
    for (int j = 0; j < half; ++j) {
        // fp32 like PyTorch: exponent (2j as float) / hd, theta ** exponent, its reciprocal.
        const float inv = 1.0f / float(std::pow(theta, double(float(2 * j) / float(head_dim))));
        for (int t = 0; t < n; ++t) {
            const float angle = float(pos0 + t) * inv;
            cos[size_t(t) * half + j] = float(std::cos(double(angle)));
            sin[size_t(t) * half + j] = float(std::sin(double(angle)));
        }
    }
}

namespace {

// Rotates pairs (j, j + hd/2) of each head of x (n, heads*hd) by the rows of cos / sin.
void apply_rope(float* x, int n, int heads, int hd, const std::vector<float>& cos, const std::vector<float>& sin) {
    const int half = hd / 2;
    for (int t = 0; t < n; ++t)
        for (int h = 0; h < heads; ++h) {
            float* v = x + (size_t(t) * heads + h) * hd;
            const float* c = &cos[size_t(t) * half];
            const float* s = &sin[size_t(t) * half];
            for (int j = 0; j < half; ++j) {
                const float a = v[j], b = v[j + half];
                v[j] = a * c[j] - b * s[j];
                v[j + half] = b * c[j] + a * s[j];
            }
        }
}

// q, k, v of the new rows: projections, OLMoE's q/k norms, clipping, rotary positions.
void project_qkv(const AttentionWeights& a, const float* h, int n, int pos0, AttentionScratch& s) {
    const int qd = a.heads * a.head_dim, kvd = a.kv_heads * a.head_dim;
    s.q.resize(size_t(n) * qd);
    s.k.resize(size_t(n) * kvd);
    s.v.resize(size_t(n) * kvd);
    linear_forward(a.q, h, n, s.q.data());
    linear_forward(a.k, h, n, s.k.data());
    linear_forward(a.v, h, n, s.v.data());
    if (a.q_norm.dim > 0) rms_norm_forward(a.q_norm.weight.data(), qd, a.q_norm.eps, s.q.data(), n, s.q.data());
    if (a.k_norm.dim > 0) rms_norm_forward(a.k_norm.weight.data(), kvd, a.k_norm.eps, s.k.data(), n, s.k.data());
    if (a.clip_qkv > 0) {
        const float c = float(a.clip_qkv);
        for (auto* buf : {&s.q, &s.k, &s.v})
            for (float& x : *buf) x = std::clamp(x, -c, c);
    }
    rope_factors(pos0, n, a.head_dim, a.rope_theta, s.cos, s.sin);
    apply_rope(s.q.data(), n, a.heads, a.head_dim, s.cos, s.sin);
    apply_rope(s.k.data(), n, a.kv_heads, a.head_dim, s.cos, s.sin);
}

void append_cache(const AttentionWeights& a, int n, int pos0, KvBlock& cache, int capacity, const AttentionScratch& s) {
    const size_t kvd = size_t(a.kv_heads) * a.head_dim;
    if (pos0 + n > capacity)
        throw Error("attention: positions " + std::to_string(pos0) + ".." + std::to_string(pos0 + n - 1) + " exceed the cache's " +
                    std::to_string(capacity));
    cache.k.resize(size_t(capacity) * kvd);
    cache.v.resize(size_t(capacity) * kvd);
    std::memcpy(&cache.k[size_t(pos0) * kvd], s.k.data(), sizeof(float) * size_t(n) * kvd);
    std::memcpy(&cache.v[size_t(pos0) * kvd], s.v.data(), sizeof(float) * size_t(n) * kvd);
}

// Softmax of each row r of scores (n, L) over its first pos0 + r + 1 entries; the rest set to 0.
void causal_softmax(float* scores, int n, int L, int pos0) {
    for (int r = 0; r < n; ++r) {
        float* row = scores + size_t(r) * L;
        const int len = pos0 + r + 1;
        float mx = row[0];
        for (int j = 1; j < len; ++j) mx = std::max(mx, row[j]);
        float sum = 0.0f;
        for (int j = 0; j < len; ++j) sum += row[j] = std::exp(row[j] - mx);
        const float inv = 1.0f / sum;
        for (int j = 0; j < len; ++j) row[j] *= inv;
        std::fill(row + len, row + L, 0.0f);
    }
}
} // namespace

void attention_forward(const AttentionWeights& a, const float* h, int n, int pos0, KvBlock& cache, int capacity, float* y,
                       AttentionScratch& s) {
    project_qkv(a, h, n, pos0, s);
    append_cache(a, n, pos0, cache, capacity, s);
    const int hd = a.head_dim, H = a.heads, group = a.heads / a.kv_heads;
    const int qd = H * hd, kvd = a.kv_heads * hd, L = pos0 + n;
    s.out.resize(size_t(n) * qd);
    // Per head: scores (n, L) = Q_h K_g^T * scale; causal softmax; out_h (n, hd) = P V_g.
    // Heads are independent: split over the thread pool, each thread with its own score buffer.
    parallel_for(H, 1, [&](int64_t h0, int64_t h1) {
        thread_local std::vector<float> buffer;
        buffer.resize(size_t(n) * L);
        float* scores = buffer.data();
        for (int64_t h = h0; h < h1; ++h) {
            const int g = int(h) / group;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, L, hd, float(a.scale), s.q.data() + h * hd, qd, cache.k.data() + size_t(g) * hd,
                        kvd, 0.0f, scores, L);
            causal_softmax(scores, n, L, pos0);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, hd, L, 1.0f, scores, L, cache.v.data() + size_t(g) * hd, kvd, 0.0f,
                        s.out.data() + h * hd, qd);
        }
    }, 2.0 * H * n * L * hd);
    linear_forward(a.o, s.out.data(), n, y);
}

void attention_reference(const AttentionWeights& a, const float* h, int n, int pos0, KvBlock& cache, int capacity, float* y) {
    AttentionScratch s;
    project_qkv(a, h, n, pos0, s);
    append_cache(a, n, pos0, cache, capacity, s);
    const int hd = a.head_dim, H = a.heads, group = a.heads / a.kv_heads, qd = H * hd, kvd = a.kv_heads * hd;
    std::vector<float> out(size_t(n) * qd), p;
    for (int t = 0; t < n; ++t)
        for (int hh = 0; hh < H; ++hh) {
            const int g = hh / group, len = pos0 + t + 1;
            p.assign(size_t(len), 0.0f);
            double mx = -1e300;
            for (int j = 0; j < len; ++j) {
                double dot = 0.0;
                for (int d = 0; d < hd; ++d) dot += double(s.q[size_t(t) * qd + hh * hd + d]) * cache.k[size_t(j) * kvd + g * hd + d];
                p[size_t(j)] = float(dot * a.scale);
                mx = std::max(mx, double(p[size_t(j)]));
            }
            double sum = 0.0;
            for (float& v : p) sum += v = float(std::exp(v - mx));
            for (int d = 0; d < hd; ++d) {
                double acc = 0.0;
                for (int j = 0; j < len; ++j) acc += p[size_t(j)] / sum * cache.v[size_t(j) * kvd + g * hd + d];
                out[size_t(t) * qd + hh * hd + d] = float(acc);
            }
        }
    linear_forward_reference(a.o, out.data(), n, y);
}

} // namespace ss
