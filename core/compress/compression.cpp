// compression.cpp
#include "compress/compression.h"
#include "model/conv_net.h"
#include "model/matrices.h"
#include "model/overloaded.h"

#include "compress/calibration.h"
#include "error.h"
#include "compress/expert_drop.h"
#include "kernels/kernel_plan.h"
#include "compress/prune_magnitude.h"
#include "compress/prune_neurons.h"
#include "compress/prune_nm.h"
#include "compress/prune_wanda.h"

#include <malloc.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <utility>

namespace ss {

namespace {

// The most specific override for a matrix: its own name, then each dotted prefix
// ("moe.experts.3.fc1", then "moe.experts.3", then "moe").
const LayerOverride* override_for(const CompressionPlan& plan, const std::string& name) {
    for (std::string key = name;;) {
        auto it = plan.layers.find(key);
        if (it != plan.layers.end()) return &it->second;
        const size_t dot = key.rfind('.');
        if (dot == std::string::npos) return nullptr;
        key.resize(dot);
    }
}

struct Matrix {
    LinearWeights* l;
    MatrixInfo info;
};

// The compressible matrices, plus routers the plan names.
std::vector<Matrix> compressible_matrices(Model& m, const CompressionPlan& plan) {
    std::vector<Matrix> out;
    for_each_matrix(m, [&](LinearWeights& l, const MatrixInfo& info) {
        if (info.compressible || plan.layers.count(info.name)) out.push_back({&l, info});
    }, MatrixScope::All);
    return out;
}

// After pruning a quantized matrix, zero its stored codes where the weight became zero: both
// schemes represent 0 exactly, so w == dequantize(codes) still holds bit for bit.
void sync_quant_with_zeros(LinearWeights& l) {
    if (!l.quant) return;
    auto q = std::make_shared<QuantizedWeights>(*l.quant);
    const float* w = std::as_const(l.weight).data();
    const size_t n = size_t(l.out) * l.in;
    if (!q->half.empty()) {
        for (size_t k = 0; k < n; ++k)
            if (w[k] == 0.0f) q->half[k] = 0;
    } else {
        const int bits = q->spec.bits(), groups = q->groups_per_row();
        std::vector<uint32_t> codes(n);
        for (size_t k = 0; k < n; ++k) {
            const size_t g = (k / size_t(l.in)) * size_t(groups) + (k % size_t(l.in)) / size_t(q->group);
            codes[k] = w[k] == 0.0f ? (q->spec.asym ? q->zero[g] : 1u << (bits - 1)) : q->code(k);
        }
        pack_codes(codes, bits, q->packed);
    }
    l.quant = std::move(q);
}

void quantize_matrix(LinearWeights& l, const QuantSpec& spec) {
    if (spec.scheme == QuantScheme::None) return;
    for (float v : std::as_const(l.weight))
        if (!std::isfinite(v)) // the integer cast of a NaN is undefined, and no scale represents it
            throw Error("quantize '" + l.name + "' to " + spec.label() + ": the matrix holds NaN or infinite weights, which no code represents");
    auto q = std::make_shared<QuantizedWeights>(quantize_weights(std::as_const(l.weight).data(), l.out, l.in, spec));
    l.weight.release_file_pages(); // read once from the mapped file: not kept resident for it
    // The fp32 it stands for is not kept: plan_kernels restores it for one matrix at a time (and
    // drops it again when an integer kernel runs the matrix), so compressing never holds a
    // dequantized copy of the whole model.
    l.weight = WeightData();
    l.quant = std::move(q);
}

std::string share_text(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f %%", 100.0 * s);
    return buf;
}

} // namespace

double measured_sparsity(const Model& model) {
    int64_t zeros = 0, total = 0;
    for_each_matrix(model, [&](const LinearWeights& l) {
        zeros += count_zero_weights(l);
        total += l.weight_count();
    });
    return total ? double(zeros) / double(total) : 0.0;
}

int64_t weight_bytes(const Model& model) {
    // Dense storage as kept: fp32 unless a matrix has a quantized form (codes + scales + zero
    // points, or halves). Pruned zeros are still stored; structured pruning shrinks matrices.
    int64_t bytes = 0;
    for_each_matrix(model, [&](const LinearWeights& l) {
        bytes += l.quant ? l.quant->storage_bytes() : l.weight_count() * 4;
        bytes += int64_t(l.bias.size()) * 4;
    }, MatrixScope::All);
    for_each_vector(model, [&](const WeightData& v, const VectorInfo&) { bytes += int64_t(v.size()) * 4; });
    return bytes;
}

namespace {
double expert_flops(const MoeExpert& e) { return 2.0 * (double(e.fc1.weight_count()) + double(e.up.weight_count()) + double(e.fc2.weight_count())); }

// The gate plus top_k experts of average size (and the shared expert).
double moe_flops(const MoeLayer& moe) {
    double experts = 0.0;
    for (const auto& e : moe.experts) experts += expert_flops(e);
    double f = 2.0 * moe.gate.in * moe.gate.out + moe.top_k * experts / double(std::max<size_t>(1, moe.experts.size()));
    if (moe.has_shared) f += expert_flops(moe.shared) + 2.0 * double(moe.shared_gate.weight_count());
    return f;
}
} // namespace

double dense_flops_per_sample(const Model& model) {
    double f = 0.0;
    // A convolution's multiply-adds: its weights once per output position.
    const std::vector<ActivationShape> shapes = is_conv_net(model) ? activation_shapes(model, model.name) : std::vector<ActivationShape>{};
    auto conv_flops = [&](const Conv2dLayer& c, size_t li) {
        const ActivationShape& in = shapes[li];
        return 2.0 * double(c.shape.weight_count()) * c.shape.out_h(in.h) * c.shape.out_w(in.w);
    };
    std::vector<size_t> saved; // layer index of each pending residual_save
    for (size_t li = 0; li < model.layers.size(); ++li) {
        const Layer& layer = model.layers[li];
        f += std::visit(Overloaded{
                            [&](const Conv2dLayer& c) { return conv_flops(c, li); },
                            [](const BatchNorm2dLayer&) { return 0.0; },
                            [](const SpatialLayer&) { return 0.0; },
                            [&](const ResidualLayer& r) {
                                if (!r.add) {
                                    saved.push_back(li);
                                    return 0.0;
                                }
                                const size_t from = saved.empty() ? li : saved.back();
                                if (!saved.empty()) saved.pop_back();
                                return r.has_projection ? conv_flops(r.projection, from) : 0.0;
                            },
                            [](const LinearWeights& l) { return 2.0 * l.in * l.out; },
                            [](const MoeLayer& moe) { return moe_flops(moe); },
                            [](const ActivationLayer&) { return 0.0; },
                            [](const LayerNormLayer&) { return 0.0; },
                            [](const DropoutLayer&) { return 0.0; },
                            [](const EmbeddingLayer&) { return 0.0; }, // a row lookup
                            [](const RmsNormLayer&) { return 0.0; },
                            [](const DecoderBlock& b) { // per token; attention scores (which grow with the context) not counted
                                double f = 0.0;
                                for (const LinearWeights* l : {&b.attn.q, &b.attn.k, &b.attn.v, &b.attn.o}) f += 2.0 * double(l->weight_count());
                                return f + (b.is_moe ? moe_flops(b.moe) : expert_flops(b.mlp));
                            },
                        },
                        layer);
    }
    return f;
}

CompressedModel compress(const Model& original, const CompressionPlan& plan, const CalibrationSet& calibration) {
    CompressedModel c{original, plan, 0, 0.0, 0.0, {}};
    Model& m = c.model;
    restore_dense_weights(m); // in case `original` is itself a planned (compressed) model
    if (plan.needs_calibration() && calibration.empty())
        throw Error("compress: the plan (" + plan.summary() + ") needs calibration data (Wanda, dropping experts by use, or bits by use)");

    // 1. Experts: by name, or the least used on calibration data.
    CalibrationStats stats;
    bool have_stats = false;
    auto ensure_stats = [&] {
        if (!have_stats) stats = calibrate(m, calibration, plan.calibration_samples);
        have_stats = true;
    };
    if (!plan.drop_expert_names.empty() || plan.drop_experts > 0) {
        std::map<std::string, std::vector<int>> by_name; // moe layer -> original ids
        for (const auto& n : plan.drop_expert_names) {
            const auto [layer, id] = parse_expert_name(n);
            by_name[layer].push_back(id);
        }
        if (plan.drop_experts > 0) ensure_stats();
        int moe_index = 0;
        for (MoeLayer* moe : m.moe_layers()) {
            std::vector<int> positions;
            for (int id : by_name[moe->name]) {
                int pos = -1;
                for (size_t e = 0; e < moe->experts.size(); ++e)
                    if (moe->experts[e].id == id) pos = int(e);
                if (pos < 0) throw Error("drop experts: '" + moe->name + "' has no expert " + std::to_string(id));
                positions.push_back(pos);
            }
            by_name.erase(moe->name);
            if (plan.drop_experts > 0) {
                for (int p : least_used_experts(stats.expert_share[size_t(moe_index)], plan.drop_experts)) {
                    positions.push_back(p);
                    c.notes.push_back("dropped " + moe->name + "." + std::to_string(moe->experts[size_t(p)].id) + " (calibration share " +
                                      share_text(stats.expert_share[size_t(moe_index)][size_t(p)]) + ")");
                }
            }
            drop_experts(*moe, positions);
            ++moe_index;
        }
        if (!by_name.empty()) throw Error("drop experts: the model has no MoE layer named '" + by_name.begin()->first + "'");
        have_stats = false; // routing changed
    }

    // 2. Top-k per MoE layer.
    for (MoeLayer* moe : m.moe_layers()) {
        auto it = plan.top_k_per_layer.find(moe->name);
        const int k = it != plan.top_k_per_layer.end() ? it->second : plan.top_k;
        if (k == 0) continue;
        if (k > int(moe->experts.size()))
            throw Error("top-k " + std::to_string(k) + " exceeds the " + std::to_string(moe->experts.size()) + " experts of MoE layer '" + moe->name + "'");
        moe->top_k = k;
    }
    for (const auto& [name, k] : plan.top_k_per_layer) {
        bool found = false;
        for (const MoeLayer* moe : m.moe_layers()) found |= moe->name == name;
        if (!found) throw Error("top_k: the model has no MoE layer named '" + name + "'");
    }
    for (const auto& [name, o] : plan.layers) {
        (void)o;
        bool found = false;
        for (const Matrix& x : compressible_matrices(m, plan)) {
            const std::string& n = x.l->name;
            found |= n == name || n.rfind(name + ".", 0) == 0;
        }
        if (!found) throw Error("plan layers: '" + name + "' names no linear layer, MoE layer, expert or expert matrix of the model");
    }

    // Calibration statistics for Wanda and bits by use are taken here, once, on the model as
    // experts and top-k left it: before any matrix is pruned or quantized, so they do not depend
    // on the order matrices are compressed in.
    auto prune_spec_for = [&](const MatrixInfo& info) {
        const LayerOverride* o = override_for(plan, info.name);
        return o && o->prune ? *o->prune : (plan.prune.method == PruneMethod::Neurons ? PruneSpec{} : plan.prune);
    };
    const std::vector<Matrix> matrices = compressible_matrices(m, plan);
    bool wanda = false;
    for (const Matrix& x : matrices) wanda |= prune_spec_for(x.info).method == PruneMethod::Wanda;
    if (wanda || plan.quant_by_use.enabled) ensure_stats();

    // 4's rule, asked per matrix: a layer override, else bits by expert use, else the global scheme.
    auto quant_spec_for = [&](const MatrixInfo& info) {
        const LayerOverride* o = override_for(plan, info.name);
        if (o && o->quant) return *o->quant;
        if (plan.quant_by_use.enabled && info.expert >= 0) {
            const auto& share = stats.expert_share[size_t(info.moe_index)];
            const double E = double(share.size());
            const double hi = plan.quant_by_use.high_share > 0 ? plan.quant_by_use.high_share : 1.25 / E;
            const double lo = plan.quant_by_use.low_share > 0 ? plan.quant_by_use.low_share : 0.75 / E;
            const double s = share[size_t(info.expert)];
            const QuantSpec spec = s >= hi ? plan.quant_by_use.high : s <= lo ? plan.quant_by_use.low : plan.quant;
            if (info.role == MatrixRole::ExpertFc1) // one note per expert
                c.notes.push_back(info.name.substr(0, info.name.rfind('.')) + ": share " + share_text(s) + " -> " + spec.label());
            return spec;
        }
        return plan.quant;
    };

    // 3. Pruning. Structured first (it changes shapes), then the rest; global magnitude shares
    //    one threshold over every matrix without an override.
    if (plan.prune.method == PruneMethod::Neurons) prune_neurons_model(m, plan.prune.sparsity);
    // A matrix is finished as soon as it is pruned: quantized, or given its kernel copies (CSR,
    // blocks), and its pruned fp32 copy goes. So the pruned copies of all matrices are never held
    // together, with or without quantization to follow.
    std::map<const LinearWeights*, const MatrixInfo*> info_of;
    for (const Matrix& x : matrices) info_of[x.l] = &x.info;
    std::set<const LinearWeights*> finished;
    auto finish = [&](LinearWeights& l) {
        const QuantSpec spec = quant_spec_for(*info_of.at(&l));
        if (spec.scheme != QuantScheme::None) {
            quantize_matrix(l, spec);
        } else if (l.quant) {
            sync_quant_with_zeros(l);
        } else {
            plan_matrix_kernels(l);
        }
        finished.insert(&l);
    };
    const PrunedFn pruned = [&](LinearWeights& l) { finish(l); };
    std::vector<LinearWeights*> global;
    for (const Matrix& x : matrices) {
        const PruneSpec spec = prune_spec_for(x.info);
        switch (spec.method) {
        case PruneMethod::None: break;
        case PruneMethod::Magnitude: global.push_back(x.l); break;
        case PruneMethod::MagnitudeLayer:
            spec.block == 4 ? prune_magnitude_blocks({x.l}, spec.sparsity, pruned) : prune_magnitude({x.l}, spec.sparsity, pruned);
            break;
        case PruneMethod::NM:
            prune_nm(*x.l, spec.n, spec.m);
            finish(*x.l);
            break;
        case PruneMethod::Neurons: throw Error("plan layers: '" + x.l->name + "': neurons pruning applies to the whole model, not one layer");
        case PruneMethod::Wanda:
            prune_wanda(*x.l, stats.input_sumsq[x.l->name], spec.sparsity);
            finish(*x.l);
            break;
        }
    }
    if (!global.empty())
        plan.prune.block == 4 ? prune_magnitude_blocks(global, plan.prune.sparsity, pruned) : prune_magnitude(global, plan.prune.sparsity, pruned);
    // Neuron pruning changed the shapes of matrices no other rule touched.
    for_each_matrix(m, [&](LinearWeights& l) {
        if (!finished.count(&l)) sync_quant_with_zeros(l);
    });

    // 4. Quantization of the matrices pruning did not finish (a sparsity of 0 prunes none).
    for (const Matrix& x : matrices) {
        if (finished.count(x.l)) continue;
        const QuantSpec spec = quant_spec_for(x.info);
        quantize_matrix(*x.l, spec);
    }

    plan_kernels(m);
    // The fp32 restored and dropped matrix by matrix went back to the allocator; hand what it
    // keeps free back to the system, so the process's resident size is what the model holds.
    malloc_trim(0);
    c.weight_bytes = weight_bytes(m);
    c.sparsity = measured_sparsity(m);
    c.flops_per_sample = dense_flops_per_sample(m);
    return c;
}

} // namespace ss
