// backprop.cpp
#include "train/backprop.h"

#include "model/matrices.h"
#include "model/overloaded.h"

#include "model/activation.h"
#include "kernels/dense_linear.h"
#include "model/conv_forward.h"
#include "model/conv_net.h"
#include "model/layer_norm.h"
#include "train/conv_backward.h"
#include "model/moe_router.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

namespace ss {

namespace {

struct ExpertCache {
    std::vector<int> rows;       // (m)
    std::vector<int> slots;      // (m) slot within the row's top-k
    std::vector<float> x;        // (m, dim) gathered inputs
    std::vector<float> u;        // (m, hidden) fc1 outputs, pre-activation
    std::vector<float> v;        // (m, hidden) activations
    std::vector<float> o;        // (m, dim) fc2 outputs
};

struct MoeCache {
    int k = 0;
    std::vector<float> probs; // (n, E) softmax over all gate logits (for the aux loss)
    std::vector<int> idx;     // (n, k)
    std::vector<float> w;     // (n, k)
    std::vector<ExpertCache> experts;
};

struct LayerCache {
    std::vector<float> input; // (n, width in)
    MoeCache moe;
    int saved_at = -1;        // a residual add: the layer index of its save (whose input is the shortcut's)
};

// y (n, out) = x W^T + b with the inputs kept by the caller.
void moe_forward_cached(const MoeLayer& moe, const float* x, int n, float* y, MoeCache& c) {
    const int E = int(moe.experts.size()), k = moe.top_k;
    const size_t dim = size_t(moe.dim);
    std::vector<float> g(size_t(n) * E);
    linear_forward(moe.gate, x, n, g.data());
    c.k = k;
    c.probs.resize(g.size());
    c.idx.resize(size_t(n) * k);
    c.w.resize(size_t(n) * k);
    for (int r = 0; r < n; ++r) {
        const float* gr = &g[size_t(r) * E];
        route_top_k(gr, E, k, &c.idx[size_t(r) * k], &c.w[size_t(r) * k]);
        const float mx = *std::max_element(gr, gr + E);
        float sum = 0.0f;
        for (int e = 0; e < E; ++e) sum += (c.probs[size_t(r) * E + e] = std::exp(gr[e] - mx));
        for (int e = 0; e < E; ++e) c.probs[size_t(r) * E + e] /= sum;
    }
    if (moe.residual) std::memcpy(y, x, sizeof(float) * n * dim);
    else std::memset(y, 0, sizeof(float) * n * dim);
    c.experts.assign(size_t(E), {});
    for (int e = 0; e < E; ++e) {
        ExpertCache& ec = c.experts[size_t(e)];
        for (int r = 0; r < n; ++r)
            for (int s = 0; s < k; ++s)
                if (c.idx[size_t(r) * k + s] == e) {
                    ec.rows.push_back(r);
                    ec.slots.push_back(s);
                }
        const int m = int(ec.rows.size());
        if (m == 0) continue;
        const MoeExpert& ex = moe.experts[size_t(e)];
        ec.x.resize(size_t(m) * dim);
        for (int i = 0; i < m; ++i) std::memcpy(&ec.x[size_t(i) * dim], x + size_t(ec.rows[i]) * dim, sizeof(float) * dim);
        ec.u.resize(size_t(m) * ex.fc1.out);
        linear_forward(ex.fc1, ec.x.data(), m, ec.u.data());
        ec.v = ec.u;
        apply_activation(moe.activation, ec.v.data(), ec.v.size());
        ec.o.resize(size_t(m) * dim);
        linear_forward(ex.fc2, ec.v.data(), m, ec.o.data());
        for (int i = 0; i < m; ++i) {
            const float wi = c.w[size_t(ec.rows[i]) * k + ec.slots[i]];
            float* yr = y + size_t(ec.rows[i]) * dim;
            for (size_t d = 0; d < dim; ++d) yr[d] += wi * ec.o[size_t(i) * dim + d];
        }
    }
}

// dy (n, out), x (n, in): grads += dy^T x, db += sum dy; dx (n, in) = dy W when dx is not null.
void linear_backward(const LinearWeights& l, const float* x, const float* dy, int n, LinearWeights& g, float* dx) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, l.out, l.in, n, 1.0f, dy, l.out, x, l.in, 1.0f, g.weight.data(), l.in);
    if (!g.bias.empty())
        for (int r = 0; r < n; ++r)
            for (int o = 0; o < l.out; ++o) g.bias[size_t(o)] += dy[size_t(r) * l.out + o];
    if (dx) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, l.in, l.out, 1.0f, dy, l.out, l.weight.data(), l.in, 0.0f, dx, l.in);
}

// Returns the aux loss value (times aux_weight).
double moe_backward(const MoeLayer& moe, const float* x, int n, const MoeCache& c, const float* dy, float aux_weight,
                    MoeLayer& g, float* dx) {
    const int E = int(moe.experts.size()), k = c.k;
    const size_t dim = size_t(moe.dim);
    if (moe.residual) std::memcpy(dx, dy, sizeof(float) * n * dim);
    else std::memset(dx, 0, sizeof(float) * n * dim);
    std::vector<float> dw(size_t(n) * k, 0.0f); // dL / d(routing weight)
    for (int e = 0; e < E; ++e) {
        const ExpertCache& ec = c.experts[size_t(e)];
        const int m = int(ec.rows.size());
        if (m == 0) continue;
        const MoeExpert& ex = moe.experts[size_t(e)];
        const size_t hidden = size_t(ex.fc1.out);
        std::vector<float> d_o(size_t(m) * dim), dv(size_t(m) * hidden), du(size_t(m) * hidden), dxe(size_t(m) * dim);
        for (int i = 0; i < m; ++i) {
            const size_t slot = size_t(ec.rows[i]) * k + ec.slots[i];
            const float* dyr = dy + size_t(ec.rows[i]) * dim;
            const float* o = &ec.o[size_t(i) * dim];
            float dot = 0.0f;
            for (size_t d = 0; d < dim; ++d) {
                d_o[size_t(i) * dim + d] = c.w[slot] * dyr[d];
                dot += dyr[d] * o[d];
            }
            dw[slot] = dot;
        }
        linear_backward(ex.fc2, ec.v.data(), d_o.data(), m, g.experts[size_t(e)].fc2, dv.data());
        activation_backward(moe.activation, ec.u.data(), dv.data(), du.data(), du.size());
        linear_backward(ex.fc1, ec.x.data(), du.data(), m, g.experts[size_t(e)].fc1, dxe.data());
        for (int i = 0; i < m; ++i) {
            float* dxr = dx + size_t(ec.rows[i]) * dim;
            for (size_t d = 0; d < dim; ++d) dxr[d] += dxe[size_t(i) * dim + d];
        }
    }
    // Softmax over the selected logits: dg_j = w_j (dw_j - sum_t w_t dw_t).
    std::vector<float> dg(size_t(n) * E, 0.0f);
    for (int r = 0; r < n; ++r) {
        float s = 0.0f;
        for (int t = 0; t < k; ++t) s += c.w[size_t(r) * k + t] * dw[size_t(r) * k + t];
        for (int t = 0; t < k; ++t) {
            const size_t slot = size_t(r) * k + t;
            dg[size_t(r) * E + c.idx[slot]] += c.w[slot] * (dw[slot] - s);
        }
    }
    // Load balancing: aux = a E sum_e f_e P_e; d aux / d p_e(r) = a E f_e / n.
    double aux = 0.0;
    if (aux_weight > 0.0f) {
        std::vector<double> f(size_t(E), 0.0), P(size_t(E), 0.0);
        for (int e = 0; e < E; ++e) f[size_t(e)] = double(c.experts[size_t(e)].rows.size()) / (double(n) * k);
        for (int r = 0; r < n; ++r)
            for (int e = 0; e < E; ++e) P[size_t(e)] += c.probs[size_t(r) * E + e] / n;
        for (int e = 0; e < E; ++e) aux += aux_weight * E * f[size_t(e)] * P[size_t(e)];
        for (int r = 0; r < n; ++r) {
            const float* p = &c.probs[size_t(r) * E];
            double pd = 0.0;
            for (int e = 0; e < E; ++e) pd += p[e] * (aux_weight * E * f[size_t(e)] / n);
            for (int e = 0; e < E; ++e) dg[size_t(r) * E + e] += float(p[e] * (aux_weight * E * f[size_t(e)] / n - pd));
        }
    }
    std::vector<float> dxg(size_t(n) * dim);
    linear_backward(moe.gate, x, dg.data(), n, g.gate, dxg.data());
    for (size_t i = 0; i < dxg.size(); ++i) dx[i] += dxg[i];
    return aux;
}

} // namespace

Model make_zero_gradients(const Model& model) {
    Model g = model;
    zero_gradients(g);
    return g;
}

void zero_gradients(Model& grads) {
    for (WeightData* v : parameter_vectors(grads)) std::fill(v->begin(), v->end(), 0.0f);
}

std::vector<WeightData*> parameter_vectors(Model& m) {
    std::vector<WeightData*> out;
    for_each_matrix(m, [&](LinearWeights& l) {
        out.push_back(&l.weight);
        if (l.has_bias) out.push_back(&l.bias);
    }, MatrixScope::All);
    for_each_vector(m, [&](WeightData& v, const VectorInfo&) { out.push_back(&v); });
    return out;
}

BatchLoss loss_and_gradients(const Model& model, const float* x, const int* labels, int n, float aux_weight, Model& grads,
                             const Distillation* distill) {
    std::vector<LayerCache> cache(model.layers.size());
    std::vector<float> cur(x, x + size_t(n) * model.input_features()), next;
    int width = model.input_features();
    const std::vector<ActivationShape> shapes = is_conv_net(model) ? activation_shapes(model, model.name) : std::vector<ActivationShape>{};
    std::vector<int> open_saves; // residual saves not yet added
    thread_local ConvScratch scratch; // kept between steps (megabytes of patches)
    for (size_t i = 0; i < model.layers.size(); ++i) {
        cache[i].input = cur;
        std::visit(Overloaded{
                       [&](const Conv2dLayer& c) {
                           next.resize(size_t(n) * size_t(shapes[i + 1].features()));
                           conv2d_layer_forward(c, shapes[i], cur.data(), n, next.data(), scratch, nullptr);
                           width = int(shapes[i + 1].features());
                       },
                       [&](const SpatialLayer& s) {
                           next.resize(size_t(n) * size_t(shapes[i + 1].features()));
                           spatial_forward(s, shapes[i], cur.data(), n, next.data());
                           width = int(shapes[i + 1].features());
                       },
                       [&](const ResidualLayer& r) {
                           next = cur;
                           if (!r.add) {
                               open_saves.push_back(int(i));
                               return;
                           }
                           const int j = open_saves.back();
                           open_saves.pop_back();
                           cache[i].saved_at = j;
                           const std::vector<float>& s = cache[size_t(j)].input;
                           if (r.has_projection) {
                               std::vector<float> p(next.size());
                               conv2d_layer_forward(r.projection, shapes[size_t(j)], s.data(), n, p.data(), scratch, nullptr);
                               for (size_t k = 0; k < next.size(); ++k) next[k] += p[k];
                           } else {
                               for (size_t k = 0; k < next.size(); ++k) next[k] += s[k];
                           }
                       },
                       [&](const LinearWeights& lin) {
                           next.resize(size_t(n) * lin.out);
                           linear_forward(lin, cur.data(), n, next.data());
                           width = lin.out;
                       },
                       [&](const ActivationLayer& act) {
                           next = cur;
                           apply_activation(act.kind, next.data(), next.size(), act.negative_slope);
                       },
                       [&](const MoeLayer& moe) {
                           next.resize(size_t(n) * moe.dim);
                           moe_forward_cached(moe, cur.data(), n, next.data(), cache[i].moe);
                       },
                       [&](const LayerNormLayer& ln) {
                           next.resize(cur.size());
                           layer_norm_forward(ln, cur.data(), n, next.data());
                       },
                       [&](const DropoutLayer&) { next = cur; }, // not applied by this trainer
                       [](const EmbeddingLayer&) { refuse_layer_kind("training", "embedding"); },
                       [](const RmsNormLayer&) { refuse_layer_kind("training", "RMSNorm"); },
                       [](const DecoderBlock&) { refuse_layer_kind("training", "decoder block"); },
                       [](const BatchNorm2dLayer&) { refuse_layer_kind("training (BatchNorm is folded into its convolution at load)", "batchnorm2d"); },
                   },
                   model.layers[i]);
        std::swap(cur, next);
    }

    // Cross-entropy on logits cur (n, classes): d logits = (softmax - onehot) / n. With
    // distillation: (1 - a) that + a T (softmax(z / T) - softmax(t / T)) / n.
    BatchLoss loss;
    std::vector<float> dy(cur.size());
    const double a = distill ? double(distill->weight) : 0.0;
    const double T = distill ? double(distill->temperature) : 1.0;
    std::vector<double> ps(static_cast<size_t>(width)), pt(static_cast<size_t>(width));
    for (int r = 0; r < n; ++r) {
        const float* z = &cur[size_t(r) * width];
        const float mx = *std::max_element(z, z + width);
        double sum = 0.0;
        for (int c = 0; c < width; ++c) sum += std::exp(double(z[c] - mx));
        loss.cross_entropy += (std::log(sum) + mx - z[labels[r]]) / n;
        loss.correct += int(std::max_element(z, z + width) - z) == labels[r];
        for (int c = 0; c < width; ++c)
            dy[size_t(r) * width + c] = float((1.0 - a) * (std::exp(double(z[c] - mx)) / sum - (c == labels[r])) / n);
        if (!distill) continue;
        // Softened distributions of student (ps) and teacher (pt), in double.
        const float* t = distill->teacher_logits + size_t(r) * width;
        const double tmx = *std::max_element(t, t + width);
        double ss = 0.0, st = 0.0;
        for (int c = 0; c < width; ++c) {
            ss += (ps[size_t(c)] = std::exp((double(z[c]) - mx) / T));
            st += (pt[size_t(c)] = std::exp((double(t[c]) - tmx) / T));
        }
        double kl = 0.0;
        for (int c = 0; c < width; ++c) {
            ps[size_t(c)] /= ss;
            pt[size_t(c)] /= st;
            if (pt[size_t(c)] > 0.0) kl += pt[size_t(c)] * (std::log(pt[size_t(c)]) - std::log(std::max(ps[size_t(c)], 1e-300)));
            dy[size_t(r) * width + c] += float(a * T * (ps[size_t(c)] - pt[size_t(c)]) / n);
        }
        loss.distill += T * T * kl / n;
    }

    std::vector<float> dx;
    std::map<int, std::vector<float>> shortcut_grads; // by save layer: the gradient its add sent down the shortcut
    for (size_t i = model.layers.size(); i-- > 0;) {
        const Layer& layer = model.layers[i];
        const std::vector<float>& in = cache[i].input;
        dx.resize(in.size());
        std::visit(Overloaded{
                       [&](const LinearWeights& lin) {
                           linear_backward(lin, in.data(), dy.data(), n, std::get<LinearWeights>(grads.layers[i]), i ? dx.data() : nullptr);
                       },
                       [&](const ActivationLayer& act) {
                           activation_backward(act.kind, in.data(), dy.data(), dx.data(), dx.size(), act.negative_slope);
                       },
                       [&](const MoeLayer& moe) {
                           loss.aux += moe_backward(moe, in.data(), n, cache[i].moe, dy.data(), aux_weight, std::get<MoeLayer>(grads.layers[i]), dx.data());
                       },
                       [&](const LayerNormLayer& ln) {
                           layer_norm_backward(ln, in.data(), dy.data(), n, std::get<LayerNormLayer>(grads.layers[i]), dx.data());
                       },
                       [&](const DropoutLayer&) { dx = dy; },
                       [](const EmbeddingLayer&) { refuse_layer_kind("training", "embedding"); },
                       [](const RmsNormLayer&) { refuse_layer_kind("training", "RMSNorm"); },
                       [](const DecoderBlock&) { refuse_layer_kind("training", "decoder block"); },
                       [&](const Conv2dLayer& c) {
                           conv2d_backward(c, shapes[i], in.data(), dy.data(), n, std::get<Conv2dLayer>(grads.layers[i]), i ? dx.data() : nullptr);
                       },
                       [&](const SpatialLayer& s) { spatial_backward(s, shapes[i], in.data(), dy.data(), n, dx.data()); },
                       [&](const ResidualLayer& r) {
                           if (!r.add) { // the chain's gradient plus the shortcut's, which the add left here
                               dx = dy;
                               auto it = shortcut_grads.find(int(i));
                               if (it != shortcut_grads.end()) {
                                   for (size_t k = 0; k < dx.size(); ++k) dx[k] += it->second[k];
                                   shortcut_grads.erase(it);
                               }
                               return;
                           }
                           dx = dy;
                           const int j = cache[i].saved_at;
                           std::vector<float>& g = shortcut_grads[j];
                           if (r.has_projection) {
                               g.assign(cache[size_t(j)].input.size(), 0.0f);
                               conv2d_backward(r.projection, shapes[size_t(j)], cache[size_t(j)].input.data(), dy.data(), n,
                                               std::get<ResidualLayer>(grads.layers[i]).projection, g.data());
                           } else {
                               g = dy;
                           }
                       },
                       [](const BatchNorm2dLayer&) { refuse_layer_kind("training", "batchnorm2d"); },
                   },
                   layer);
        std::swap(dy, dx);
    }
    return loss;
}

} // namespace ss
