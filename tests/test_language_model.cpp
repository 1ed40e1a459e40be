// test_language_model.cpp - Hugging Face decoders against PyTorch goldens (scripts/lm/make_lm_goldens.py):
// one tiny model per family and layout, the attention kernel against its reference, decoding with
// the KV cache against whole-chunk forwards, and every bad input the loader and the evaluation must refuse by name.
#include "compress/calibration.h"
#include "compress/compression.h"
#include "kernels/kernel_plan.h"
#include "kernels/prepared_matrix.h"
#include "data/token_data.h"
#include "error.h"
#include "eval/generate.h"
#include "eval/lm_evaluate.h"
#include "eval/lm_robustness.h"
#include "eval/token_inspection.h"
#include "formats/file_io.h"
#include "formats/hf_model.h"
#include "formats/model_export.h"
#include "formats/model_io.h"
#include "formats/safetensors.h"
#include "model/moe_router.h"
#include "formats/tokenizer.h"
#include "model/attention.h"
#include "model/lm_forward.h"
#include "model/matrices.h"
#include "test_support.h"

#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

using namespace ss;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {
const std::string kLm = std::string(SPARSESCOPE_TEST_DATA) + "/lm";

json read_json(const std::string& path) {
    std::ifstream in(path);
    return json::parse(in);
}

// Copies a fixture model into a temporary directory, for a test that damages it.
std::string copy_model(const QTemporaryDir& tmp, const std::string& family) {
    const std::string dst = tmp.filePath(QString::fromStdString(family)).toStdString();
    fs::copy(kLm + "/" + family, dst, fs::copy_options::recursive);
    return dst;
}

void edit_config(const std::string& dir, const std::function<void(json&)>& f) {
    json c = read_json(dir + "/config.json");
    f(c);
    std::ofstream(dir + "/config.json") << c.dump(1);
}

// The message of the ss::Error `fn` throws ("" when it throws none).
std::string error_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}
} // namespace

class TestLanguageModel : public QObject {
    Q_OBJECT
private slots:
    void familiesMatchPyTorch_data() {
        QTest::addColumn<QString>("family");
        for (const char* f : {"llama", "mixtral", "mixtral_fused", "qwen2_moe", "olmoe", "granitemoe"}) QTest::newRow(f) << QString(f);
    }
    void familiesMatchPyTorch() {
        QFETCH(QString, family);
        const std::string dir = kLm + "/" + family.toStdString();
        const Model m = load_model(dir);
        QCOMPARE(m.task, EvalTask::LanguageModeling);
        const json g = read_json(dir + "/golden.json");
        const TokenData data = load_token_data(dir + "/tokens.npy", m.lm.vocab, "", {});
        LmEvalOptions opt;
        opt.ctx = g["ctx"];
        opt.gen_tokens = 0;
        LmDetails d;
        const EvalResult r = evaluate_language_model(compress(m, {}), data, opt, &d);

        // Perplexity within 0.1 % is the goal; fp32 on the same weights lands far inside it.
        const double ppl = r.metrics.at("perplexity"), want = g["perplexity"];
        QVERIFY2(std::fabs(ppl / want - 1.0) < 1e-5, qPrintable(QString("%1 vs PyTorch %2").arg(ppl, 0, 'g', 12).arg(want, 0, 'g', 12)));
        QCOMPARE(d.nll.size(), g["nll"].size());
        for (size_t i = 0; i < d.nll.size(); ++i) QVERIFY(std::fabs(d.nll[i] - g["nll"][i].get<double>()) < 1e-4);

        // Routing of the first chunk: the same experts, in the same order, with the same weights.
        const json& gi = g["route_idx"];
        const json& gw = g["route_w"];
        size_t decisions = 0, same = 0;
        const int ctx = opt.ctx;
        for (int t = 0; t < ctx; ++t)
            for (int l = 0; l < d.moe_layers; ++l) {
                ++decisions;
                bool equal = true;
                for (int s = 0; s < d.top_k; ++s) {
                    const size_t at = (size_t(t) * d.moe_layers + l) * d.top_k + s;
                    equal &= d.route_idx[at] == gi[t][l][s].get<int>();
                    if (equal) QVERIFY(std::fabs(d.route_w[at] - gw[t][l][s].get<float>()) < 1e-5f);
                }
                same += equal;
            }
        QCOMPARE(size_t(d.moe_layers), gi[0].size());
        if (decisions) QVERIFY2(double(same) >= 0.999 * double(decisions), qPrintable(QString("%1 of %2").arg(same).arg(decisions)));
        if (decisions) qInfo("%s: %zu of %zu routing decisions identical", qPrintable(family), same, decisions);

        // The first logits rows, from one whole-chunk forward.
        KvCache cache = make_kv_cache(m, ctx);
        LmWorkspace ws;
        std::vector<float> logits(size_t(ctx) * m.lm.vocab);
        lm_forward(m, data.tokens.data(), ctx, cache, logits.data(), true, ws);
        const json& gl = g["logits"];
        for (size_t row = 0; row < gl.size(); ++row)
            for (int v = 0; v < m.lm.vocab; ++v) {
                const float want_v = gl[row][size_t(v)];
                QVERIFY(std::fabs(logits[row * size_t(m.lm.vocab) + size_t(v)] - want_v) <= 1e-4f * std::max(1.0f, std::fabs(want_v)));
            }
    }

    void demoModelMatchesPyTorch() {
        // The committed demo (scripts/lm/make_demo_lm.py) on its held-out books, tokenized here.
        const std::string dir = std::string(SPARSESCOPE_RESOURCE_DIR) + "/models/kjv-moe";
        const Model m = load_model(dir);
        QCOMPARE(m.lm.architecture, std::string("MixtralForCausalLM"));
        QCOMPARE(m.moe_layers().size(), size_t(4));
        const json g = read_json(kLm + "/kjv-moe/golden.json");
        const TokenData data = load_token_data(dir + "/kjv-heldout.txt", m.lm.vocab, m.lm.tokenizer_path, {});
        LmEvalOptions opt;
        opt.ctx = g["ctx"];
        opt.chunks = g["chunks"];
        opt.gen_tokens = 0;
        LmDetails d;
        const EvalResult r = evaluate_language_model(compress(m, {}), data, opt, &d);
        const double ppl = r.metrics.at("perplexity"), want = g["perplexity"];
        QVERIFY2(std::fabs(ppl / want - 1.0) < 1e-4, qPrintable(QString("%1 vs PyTorch %2").arg(ppl, 0, 'g', 10).arg(want, 0, 'g', 10)));
        size_t decisions = 0, same = 0;
        for (int t = 0; t < opt.ctx; ++t)
            for (int l = 0; l < d.moe_layers; ++l, ++decisions) {
                bool equal = true;
                for (int k = 0; k < d.top_k; ++k) equal &= d.route_idx[(size_t(t) * d.moe_layers + l) * d.top_k + k] == g["route_idx"][t][l][k].get<int>();
                same += equal;
            }
        qInfo("demo: perplexity %.6f (PyTorch %.6f); %zu of %zu routing decisions identical", ppl, want, same, decisions);
        QVERIFY(double(same) >= 0.999 * double(decisions));
    }

    void tokenInspectionAgreesWithTheEvaluation() {
        // The inspector's per-token NLL and routing are the evaluation's, position by position;
        // its predictions are the most likely tokens in order; dense against itself changes nothing.
        const std::string dir = std::string(SPARSESCOPE_RESOURCE_DIR) + "/models/kjv-moe";
        const Model m = load_model(dir);
        const TokenData data = load_token_data(dir + "/kjv-heldout.txt", m.lm.vocab, m.lm.tokenizer_path, {});
        const int ctx = 64;
        const CompressedModel q = compress(m, plan_from_flags("magnitude:0.5", "int4:g32", 0));
        LmEvalOptions opt;
        opt.ctx = ctx;
        opt.chunks = 2;
        opt.gen_tokens = 0;
        opt.dense = &m;
        LmDetails d;
        evaluate_language_model(q, data, opt, &d);
        const TokenInspection ti = inspect_tokens(m, q.model, data.tokens, ctx, 1);
        QCOMPARE(ti.first, ctx);
        QCOMPARE(int(ti.tokens.size()), ctx);
        QCOMPARE(ti.moe_layers, 4);
        QCOMPARE(ti.top_k, 2);
        QVERIFY(std::isnan(ti.tokens[0].nll));
        // lm_evaluate scores positions ctx/2 .. ctx-2 of each chunk, predicting the next token. It
        // runs lm_head on those rows only: a different sgemm shape, so fp32 rounding may differ.
        const int scored = ctx - 1 - ctx / 2;
        for (int j = 0; j < scored; ++j) {
            const InspectedToken& x = ti.tokens[size_t(ctx / 2 + j + 1)];
            QVERIFY2(std::fabs(x.nll - d.nll[size_t(scored + j)]) < 1e-5, qPrintable(QString("%1 vs %2").arg(x.nll, 0, 'g', 17).arg(d.nll[size_t(scored + j)], 0, 'g', 17)));
            QVERIFY(std::fabs(x.dense_nll - d.dense_nll[size_t(scored + j)]) < 1e-5);
        }
        for (size_t i = 0; i < size_t(ctx) * 4 * 2; ++i) QCOMPARE(ti.route_idx[i], d.route_idx[size_t(ctx) * 4 * 2 + i]);
        const InspectedToken& x = ti.tokens[10];
        QVERIFY(x.top_p[0] >= x.top_p[1] && x.top_p[1] >= x.top_p[4] && x.top_p[4] > 0);
        const std::vector<int> worst = ti.worst(5);
        QCOMPARE(worst.size(), size_t(5));
        QVERIFY(ti.tokens[size_t(worst[0])].nll - ti.tokens[size_t(worst[0])].dense_nll >=
                ti.tokens[size_t(worst[4])].nll - ti.tokens[size_t(worst[4])].dense_nll);
        const TokenInspection same = inspect_tokens(m, m, data.tokens, ctx, 0);
        for (const InspectedToken& t : same.tokens)
            if (!std::isnan(t.nll)) QCOMPARE(t.nll, t.dense_nll);
        QVERIFY_THROWS_EXCEPTION(Error, inspect_tokens(m, m, data.tokens, ctx, int(data.tokens.size() / ctx)));
    }

    void namesAndShapesFollowTheFamilies() {
        const Model q = load_model(kLm + "/qwen2_moe");
        int shared = 0, attention = 0, dense_mlp = 0, routers = 0;
        for_each_matrix(q, [&](const LinearWeights& l, const MatrixInfo& i) {
            shared += i.role == MatrixRole::SharedExpert;
            attention += i.role == MatrixRole::Attention;
            dense_mlp += i.role == MatrixRole::Mlp;
            routers += i.role == MatrixRole::Router;
            if (i.role == MatrixRole::ExpertFc2 && i.expert == 5) QCOMPARE(i.name, std::string("model.layers.0.mlp.experts.5.down_proj"));
            if (i.role == MatrixRole::Attention) QCOMPARE(l.has_bias, i.name.ends_with("o_proj") ? false : true);
        }, MatrixScope::All);
        QCOMPARE(shared, 3);    // layer 0's shared expert (layer 1 is in mlp_only_layers)
        QCOMPARE(attention, 8); // q, k, v, o of two blocks
        QCOMPARE(dense_mlp, 3); // layer 1's gate / up / down
        QCOMPARE(routers, 1);
        QCOMPARE(q.moe_layers().size(), size_t(1));

        const Model mx = load_model(kLm + "/mixtral");
        QVERIFY(find_matrix(const_cast<Model&>(mx), "model.layers.1.block_sparse_moe.experts.3.w3"));
        QVERIFY(!find_matrix(const_cast<Model&>(mx), "lm_head")); // compressed only when a plan names it
        QVERIFY(find_matrix(const_cast<Model&>(mx), "lm_head", MatrixScope::All));
        const Model g = load_model(kLm + "/granitemoe"); // fused input_linear: named per expert
        QVERIFY(find_matrix(const_cast<Model&>(g), "model.layers.0.block_sparse_moe.experts.2.up_proj"));
        const Model ll = load_model(kLm + "/llama"); // tied: lm_head shares the embedding table
        const auto& emb = std::get<EmbeddingLayer>(ll.layers.front());
        QCOMPARE(std::get<LinearWeights>(ll.layers.back()).weight.data(), emb.table.weight.data());
        QCOMPARE(std::get<DecoderBlock>(ll.layers[1]).attn.head_dim, 24); // head_dim given, not hidden / heads
    }

    void attentionKernelMatchesReference() {
        const Model m = load_model(kLm + "/mixtral");
        const AttentionWeights& a = std::get<DecoderBlock>(m.layers[1]).attn;
        std::mt19937 rng(5);
        std::normal_distribution<float> dist(0.0f, 1.0f);
        const int dim = a.q.in, pos0 = 7, n = 9, capacity = 20;
        std::vector<float> h(size_t(pos0 + n) * dim);
        for (float& v : h) v = dist(rng);
        KvBlock c1, c2;
        AttentionScratch s;
        std::vector<float> y1(size_t(pos0) * dim), y2(y1.size());
        attention_forward(a, h.data(), pos0, 0, c1, capacity, y1.data(), s); // fill positions 0..6
        attention_reference(a, h.data(), pos0, 0, c2, capacity, y2.data());
        y1.resize(size_t(n) * dim);
        y2.resize(y1.size());
        attention_forward(a, h.data() + size_t(pos0) * dim, n, pos0, c1, capacity, y1.data(), s);
        attention_reference(a, h.data() + size_t(pos0) * dim, n, pos0, c2, capacity, y2.data());
        for (size_t i = 0; i < y1.size(); ++i) QVERIFY(std::fabs(y1[i] - y2[i]) < 1e-4f);
        // Positions past the cache are refused, not written out of bounds.
        QVERIFY(error_of([&] { attention_forward(a, h.data(), 5, 18, c1, capacity, y1.data(), s); }).find("exceed the cache") != std::string::npos);
    }

    void decodingWithTheCacheEqualsWholeChunk() {
        for (const char* f : {"olmoe", "granitemoe"}) {
            const Model m = load_model(kLm + "/" + f);
            const TokenData data = load_token_data(kLm + "/" + f + "/tokens.npy", m.lm.vocab, "", {});
            const int n = 20, V = m.lm.vocab;
            KvCache whole = make_kv_cache(m, n), step = make_kv_cache(m, n);
            LmWorkspace ws;
            std::vector<float> all(static_cast<size_t>(n) * V), one(static_cast<size_t>(V));
            lm_forward(m, data.tokens.data(), n, whole, all.data(), true, ws);
            lm_forward(m, data.tokens.data(), 5, step, one.data(), false, ws); // a prompt, then one token at a time
            for (int t = 5; t < n; ++t) {
                lm_forward(m, &data.tokens[size_t(t)], 1, step, one.data(), false, ws);
                for (int v = 0; v < V; ++v) QVERIFY(std::fabs(one[size_t(v)] - all[size_t(t) * V + size_t(v)]) < 1e-4f);
            }
            QCOMPARE(step.length, n);
        }
    }

    // Next-token calibration: the dense model against itself has the same ECE on both sides; every
    // scored position falls in a bin; the calibration's accuracy is the next-token top-1; pruning
    // changes the compressed side only. Text robustness: the evaluation text again as a variant
    // gives the evaluation's own figures, and typos make the text harder for both models.
    void nextTokenCalibrationAndTextRobustness() {
        const std::string dir = std::string(SPARSESCOPE_RESOURCE_DIR) + "/models/kjv-moe";
        const Model m = load_model(dir);
        const TokenData data = load_token_data(dir + "/kjv-heldout.txt", m.lm.vocab, m.lm.tokenizer_path, {});
        LmEvalOptions opt;
        opt.ctx = 64;
        opt.chunks = 3;
        opt.gen_tokens = 0;
        opt.dense = &m;
        const EvalResult same = evaluate_language_model(compress(m, {}), data, opt);
        QCOMPARE(same.metrics.at("ece"), same.metrics.at("dense_ece"));
        QVERIFY(same.metrics.at("ece") > 0.0 && same.metrics.at("ece") < 1.0);
        int binned = 0;
        for (const ReliabilityBin& b : same.comparison.calibration.bins) binned += b.count;
        QCOMPARE(binned, same.samples);
        QVERIFY(std::fabs(same.comparison.calibration.accuracy - same.accuracy) < 1e-12); // top-1 is the calibration's accuracy
        CompressionPlan plan;
        plan.prune = parse_prune_spec("magnitude:0.6");
        const CompressedModel cm = compress(m, plan);
        const EvalResult pruned = evaluate_language_model(cm, data, opt);
        QVERIFY(pruned.metrics.at("ece") != pruned.metrics.at("dense_ece"));
        QCOMPARE(pruned.metrics.at("dense_ece"), same.metrics.at("dense_ece"));
        TokenDataOptions typos;
        typos.typo_rate = 0.05;
        const std::vector<LmRobustnessRow> rows =
            lm_text_robustness(cm, m, {{"again", data}, {"typos 5 %", load_token_data(dir + "/kjv-heldout.txt", m.lm.vocab, m.lm.tokenizer_path, typos)}}, opt);
        QCOMPARE(rows.size(), size_t(2));
        QCOMPARE(rows[0].perplexity, pruned.metrics.at("perplexity"));
        QCOMPARE(rows[0].kld_mean, pruned.metrics.at("kld_mean"));
        QVERIFY(rows[1].dense_perplexity > 1.2 * rows[0].dense_perplexity); // typos make the text harder for both
        QVERIFY(test_support::error_message([&] {
                    TokenData tiny = data;
                    tiny.tokens.resize(70);
                    lm_text_robustness(cm, m, {{"short text", tiny}}, opt);
                }).rfind("short text: ", 0) == 0);
    }

    void calibrationOnText() {
        // Calibration runs chunks of text: its expert shares are the evaluation's on the same
        // chunks (two code paths), q/k/v see one input, and Wanda differs from magnitude.
        const std::string dir = kLm + "/mixtral";
        Model m = load_model(dir);
        const TokenData data = load_token_data(dir + "/tokens.npy", m.lm.vocab, "", {});
        const int ctx = 32;
        const CalibrationStats st = calibrate(m, CalibrationSet(&data, ctx), 2);
        QCOMPARE(st.samples, 2);
        LmEvalOptions opt;
        opt.ctx = ctx;
        opt.chunks = 2;
        opt.gen_tokens = 0;
        const EvalResult r = evaluate_language_model(compress(m, {}), data, opt);
        QCOMPARE(st.expert_share.size(), r.expert_share.size());
        for (size_t l = 0; l < st.expert_share.size(); ++l)
            for (size_t e = 0; e < st.expert_share[l].size(); ++e) QVERIFY(std::fabs(st.expert_share[l][e] - r.expert_share[l][e]) < 1e-12);
        const auto& q = st.input_sumsq.at("model.layers.0.self_attn.q_proj");
        QCOMPARE(q.size(), size_t(find_matrix(m, "model.layers.0.self_attn.q_proj")->in));
        QVERIFY(q == st.input_sumsq.at("model.layers.0.self_attn.v_proj"));
        QVERIFY(q != st.input_sumsq.at("model.layers.1.self_attn.q_proj"));
        QVERIFY(st.input_sumsq.count("model.layers.1.block_sparse_moe.experts.0.w2"));

        CompressionPlan wanda = plan_from_flags("wanda:0.5", "none", 0);
        QVERIFY(error_of([&] { compress(m, wanda); }).find("needs calibration data") != std::string::npos);
        CompressedModel w = compress(m, wanda, CalibrationSet(&data, ctx));
        CompressedModel mag = compress(m, plan_from_flags("magnitude-layer:0.5", "none", 0));
        const auto* wq = find_matrix(w.model, "model.layers.0.self_attn.q_proj");
        const auto* mq = find_matrix(mag.model, "model.layers.0.self_attn.q_proj");
        QVERIFY(wq && mq);
        QCOMPARE(count_zero_weights(*wq), count_zero_weights(*mq)); // both half of every row
        QVERIFY(dense_weights(*wq) != dense_weights(*mq));

        // Dropping the least-used experts: the ones calibration saw least, named in the notes.
        CompressionPlan drop;
        drop.drop_experts = 2;
        const CompressedModel d = compress(m, drop, CalibrationSet(&data, ctx));
        QCOMPARE(d.notes.size(), size_t(2 * st.expert_share.size()));
        QVERIFY(d.notes[0].rfind("dropped model.layers.0.block_sparse_moe.", 0) == 0);

        // Text shorter than one chunk is refused, naming it.
        TokenData short_text = data;
        short_text.tokens.resize(10);
        QVERIFY(error_of([&] { calibrate(m, CalibrationSet(&short_text, ctx), 4); }).find("fewer than one chunk of 32") != std::string::npos);
    }

    void neuronsPruningShrinksGatedMlps() {
        // Qwen2-MoE has all three kinds: routed experts (32 units), a shared expert (40) and a
        // dense MLP layer (80). A quarter of the units go from each, from gate, up and down alike.
        const std::string dir = kLm + "/qwen2_moe";
        Model m = load_model(dir);
        const TokenData data = load_token_data(dir + "/tokens.npy", m.lm.vocab, "", {});
        CompressedModel c = compress(m, plan_from_flags("neurons:0.25", "none", 0));
        const auto* gate = find_matrix(c.model, "model.layers.0.mlp.experts.3.gate_proj");
        QCOMPARE(gate->out, 24);
        QCOMPARE(find_matrix(c.model, "model.layers.0.mlp.experts.3.up_proj")->out, 24);
        QCOMPARE(find_matrix(c.model, "model.layers.0.mlp.experts.3.down_proj")->in, 24);
        QCOMPARE(find_matrix(c.model, "model.layers.0.mlp.shared_expert.up_proj")->out, 30);
        QCOMPARE(find_matrix(c.model, "model.layers.1.mlp.down_proj")->in, 60);

        // Removing a unit equals zeroing its gate and up rows and its down column (silu(0) * 0 = 0):
        // find which units went (the kept rows are rows of the original, in order), zero them in
        // a copy of the dense model, and compare the logits of one chunk.
        Model zeroed = m;
        int removed_total = 0;
        auto zero_removed = [&](MoeExpert& orig, const MoeExpert& pruned) {
            const auto kept = dense_weights(pruned.fc1), rows = dense_weights(orig.fc1);
            const size_t in = size_t(orig.fc1.in);
            std::vector<bool> keep(size_t(orig.fc1.out), false);
            for (size_t r = 0, k = 0; r < keep.size() && k * in < kept.size(); ++r)
                if (std::equal(rows.begin() + long(r * in), rows.begin() + long((r + 1) * in), kept.begin() + long(k * in))) keep[r] = true, ++k;
            QCOMPARE(int(std::count(keep.begin(), keep.end(), true)), pruned.fc1.out);
            for (int u = 0; u < orig.fc1.out; ++u)
                if (!keep[size_t(u)]) {
                    ++removed_total;
                    for (size_t i = 0; i < in; ++i) orig.fc1.weight[size_t(u) * in + i] = orig.up.weight[size_t(u) * in + i] = 0.0f;
                    for (int o = 0; o < orig.fc2.out; ++o) orig.fc2.weight[size_t(o) * orig.fc2.in + size_t(u)] = 0.0f;
                }
            orig.fc1.kernels.reset(), orig.up.kernels.reset(), orig.fc2.kernels.reset();
        };
        for (size_t li = 0; li < zeroed.layers.size(); ++li) {
            auto* b0 = std::get_if<DecoderBlock>(&zeroed.layers[li]);
            if (!b0) continue;
            const auto& b1 = std::get<DecoderBlock>(c.model.layers[li]);
            if (!b0->is_moe) {
                zero_removed(b0->mlp, b1.mlp);
                continue;
            }
            for (size_t e = 0; e < b0->moe.experts.size(); ++e) zero_removed(b0->moe.experts[e], b1.moe.experts[e]);
            zero_removed(b0->moe.shared, b1.moe.shared);
        }
        QCOMPARE(removed_total, 6 * 8 + 10 + 20);
        plan_kernels(zeroed);
        const int ctx = 32;
        auto logits_of = [&](const Model& model) {
            KvCache cache = make_kv_cache(model, ctx);
            LmWorkspace ws;
            std::vector<float> out(size_t(ctx) * model.lm.vocab);
            lm_forward(model, data.tokens.data(), ctx, cache, out.data(), true, ws);
            return out;
        };
        const auto a = logits_of(c.model), z = logits_of(zeroed), d = logits_of(m);
        float worst = 0.0f, moved = 0.0f;
        for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - z[i])), moved = std::max(moved, std::fabs(a[i] - d[i]));
        QVERIFY2(worst < 1e-4f, qPrintable(QString::number(worst)));
        QVERIFY(moved > 1e-2f); // and pruning did change the model

        // Exported, the config carries the new sizes and the model evaluates the same.
        QTemporaryDir tmp;
        const std::string out = tmp.filePath("pruned").toStdString();
        export_compressed_model(c, m, out);
        const json cfg = read_json(out + "/config.json");
        QCOMPARE(cfg["moe_intermediate_size"].get<int>(), 24);
        QCOMPARE(cfg["shared_expert_intermediate_size"].get<int>(), 30);
        QCOMPARE(cfg["intermediate_size"].get<int>(), 60);
        const Model back = load_model(out);
        QVERIFY(logits_of(back) == a);
    }

    void generationIsGreedyOrSeeded() {
        const float logits[4] = {0.5f, 2.0f, 1.9f, -3.0f};
        QCOMPARE(sample_token(logits, 4, 0.0, 1.0, 0.99), 1);  // greedy ignores u
        QCOMPARE(sample_token(logits, 4, 1.0, 1e-6, 0.99), 1); // a tiny nucleus keeps the top token only
        // T = 1, whole distribution: u walks the tokens in order of probability (1, 2, 0, 3).
        const double z = std::exp(0.5) + std::exp(2.0) + std::exp(1.9) + std::exp(-3.0);
        QCOMPARE(sample_token(logits, 4, 1.0, 1.0, 0.0), 1);
        QCOMPARE(sample_token(logits, 4, 1.0, 1.0, (std::exp(2.0) + 0.5 * std::exp(1.9)) / z), 2);
        QCOMPARE(sample_token(logits, 4, 1.0, 1.0, 0.999999), 3);

        const Model m = load_model(kLm + "/mixtral");
        const TokenData data = load_token_data(kLm + "/mixtral/tokens.npy", m.lm.vocab, "", {});
        const std::vector<int32_t> prompt(data.tokens.begin(), data.tokens.begin() + 6);
        SamplingOptions o;
        o.max_tokens = 10;
        o.stop_at_eos = false;
        // Greedy generation is the argmax of a whole-sequence forward at every step.
        const std::vector<int32_t> g = generate(m, prompt, o);
        QCOMPARE(g.size(), size_t(10));
        std::vector<int32_t> seq = prompt;
        seq.insert(seq.end(), g.begin(), g.end() - 1);
        KvCache cache = make_kv_cache(m, int(seq.size()));
        LmWorkspace ws;
        std::vector<float> all(seq.size() * size_t(m.lm.vocab));
        lm_forward(m, seq.data(), int(seq.size()), cache, all.data(), true, ws);
        for (size_t i = 0; i < g.size(); ++i) {
            const float* row = &all[(prompt.size() - 1 + i) * size_t(m.lm.vocab)];
            QCOMPARE(g[i], int32_t(std::max_element(row, row + m.lm.vocab) - row));
        }
        o.temperature = 0.9;
        o.top_p = 0.8;
        o.seed = 42;
        QCOMPARE(generate(m, prompt, o), generate(m, prompt, o)); // the same seed, the same text
        o.max_tokens = 200;
        QVERIFY(error_of([&] { generate(m, prompt, o); }).find("exceed the model's 128 positions") != std::string::npos);
    }

    void routingRulesDiffer() {
        // Softmax over all experts then top-k (Qwen2-MoE, OLMoE) keeps the full softmax's values;
        // the renormalised rule and softmax over the k agree with each other.
        const float gate[4] = {2.0f, 1.0f, 0.5f, -1.0f};
        int idx[2];
        float w1[2], w2[2], w3[2], probs[4];
        route(gate, 4, 2, RoutingRule::TopKSoftmax, idx, w1, probs);
        route(gate, 4, 2, RoutingRule::SoftmaxTopKRenorm, idx, w2, probs);
        route(gate, 4, 2, RoutingRule::SoftmaxTopK, idx, w3, probs);
        QCOMPARE(idx[0], 0);
        QCOMPARE(idx[1], 1);
        const double z = std::exp(2.0) + std::exp(1.0) + std::exp(0.5) + std::exp(-1.0);
        QVERIFY(std::fabs(w3[0] - std::exp(2.0) / z) < 1e-6);
        QVERIFY(std::fabs(w3[1] - std::exp(1.0) / z) < 1e-6);
        QVERIFY(std::fabs(w1[0] - 1.0 / (1.0 + std::exp(-1.0))) < 1e-6);
        QVERIFY(std::fabs(w2[0] - w1[0]) < 1e-6 && std::fabs(w2[1] - w1[1]) < 1e-6);
    }

    void badInputIsRefusedByName_data() {
        QTest::addColumn<QString>("what");
        QTest::addColumn<QString>("expected");
        QTest::newRow("unknown architecture") << "arch" << "field 'architectures' = DeepseekV3ForCausalLM is not supported";
        QTest::newRow("rope scaling") << "rope_scaling" << "field 'rope_scaling'";
        QTest::newRow("sliding window") << "sliding" << "field 'sliding_window' = 16 is shorter than max_position_embeddings";
        QTest::newRow("kv heads") << "kv" << "field 'num_key_value_heads' = 3 must divide num_attention_heads = 4";
        QTest::newRow("missing tensor") << "missing" << "tensor 'model.layers.1.block_sparse_moe.experts.3.w2.weight' is missing";
        QTest::newRow("extra tensor") << "extra" << "tensor 'model.layers.0.self_attn.extra.weight' is not used";
        QTest::newRow("shape vs config") << "shape" << "tensor 'model.layers.0.self_attn.q_proj.weight' has shape [64, 64], config expects [32, 64]";
        QTest::newRow("token id >= vocab") << "npy" << "token 3 has id 256, outside the model's vocabulary of 256";
        QTest::newRow("ctx > max positions") << "ctx" << "--ctx 256 exceeds the model's max_position_embeddings of 128";
        QTest::newRow("shorter than two chunks") << "short" << "perplexity needs at least two";
        QTest::newRow("invalid utf-8") << "utf8" << "not valid UTF-8 at byte 6";
        QTest::newRow("tokenizer vocabulary") << "tokenizer" << "the tokenizer's vocabulary has 4096 tokens but the model's embeddings have 256";
        QTest::newRow("text without tokenizer") << "notokenizer" << "text needs a tokenizer";
    }
    void badInputIsRefusedByName() {
        QFETCH(QString, what);
        QFETCH(QString, expected);
        QTemporaryDir tmp;
        const std::string dir = copy_model(tmp, "mixtral");
        const std::string w = what.toStdString();
        std::string message;
        auto eval = [&](const std::string& data_path, int ctx, const std::string& tokenizer = "") {
            const Model m = load_model(dir);
            TokenDataOptions o;
            o.tokenizer = tokenizer;
            const TokenData d = load_token_data(data_path, m.lm.vocab, m.lm.tokenizer_path, o);
            LmEvalOptions opt;
            opt.ctx = ctx;
            opt.gen_tokens = 0;
            evaluate_language_model(compress(m, {}), d, opt);
        };
        if (w == "arch") edit_config(dir, [](json& c) { c["architectures"] = {"DeepseekV3ForCausalLM"}; });
        if (w == "rope_scaling") edit_config(dir, [](json& c) { c["rope_scaling"] = {{"type", "yarn"}, {"factor", 4.0}}; });
        if (w == "sliding") edit_config(dir, [](json& c) { c["sliding_window"] = 16; });
        if (w == "kv") edit_config(dir, [](json& c) { c["num_key_value_heads"] = 3; });
        if (w == "shape") edit_config(dir, [](json& c) { c["num_attention_heads"] = 8; c["num_key_value_heads"] = 8; c["head_dim"] = 4; });
        if (w == "missing" || w == "extra") {
            // Rewrite the safetensors file without one tensor, or with one more.
            const SafetensorsFile f = SafetensorsFile::read(dir + "/model.safetensors");
            std::vector<SafetensorsTensorOut> out;
            for (const auto& e : f.entries())
                if (!(w == "missing" && e.name == "model.layers.1.block_sparse_moe.experts.3.w2.weight")) out.push_back({e.name, e.dtype, e.shape, f.raw(e)});
            const std::vector<float> extra(4, 1.0f);
            if (w == "extra") out.push_back({"model.layers.0.self_attn.extra.weight", DType::F32, {4}, extra.data()});
            write_safetensors(dir + "/model.safetensors.new", out, {});
            fs::rename(dir + "/model.safetensors.new", dir + "/model.safetensors");
        }
        if (w == "arch" || w == "rope_scaling" || w == "sliding" || w == "kv" || w == "missing" || w == "extra" || w == "shape")
            message = error_of([&] { load_model(dir); });
        if (w == "npy") {
            std::vector<uint8_t> npy = read_file_bytes(dir + "/tokens.npy");
            const size_t data = npy.size() - 101 * 4; // 101 int32 ids
            const int32_t bad = 256;
            std::memcpy(&npy[data + 3 * 4], &bad, 4);
            write_file_bytes(dir + "/bad.npy", npy);
            message = error_of([&] { eval(dir + "/bad.npy", 32); });
        }
        if (w == "ctx") message = error_of([&] { eval(dir + "/tokens.npy", 256); });
        if (w == "short") message = error_of([&] { eval(dir + "/tokens.npy", 64); });
        if (w == "utf8" || w == "tokenizer" || w == "notokenizer") {
            std::ofstream(dir + "/text.txt") << (w == "utf8" ? std::string("Hello \xff world") : std::string("In the beginning"));
            const std::string tok = w == "notokenizer" ? "" : std::string(SPARSESCOPE_RESOURCE_DIR) + "/models/kjv-moe/tokenizer.model";
            if (w == "utf8") {
                std::ofstream(dir + "/tokenizer.model", std::ios::binary) << std::ifstream(tok, std::ios::binary).rdbuf();
                edit_config(dir, [](json& c) { c["vocab_size"] = 4096; });
                message = error_of([&] { load_token_data(dir + "/text.txt", 4096, dir + "/tokenizer.model", {}); });
            } else {
                message = error_of([&] { eval(dir + "/text.txt", 32, tok); });
            }
        }
        QVERIFY2(message.find(expected.toStdString()) != std::string::npos, message.c_str());
        const bool names_file = message.find(dir) != std::string::npos || message.find("tokenizer.model") != std::string::npos;
        QVERIFY2(names_file || message.find("--ctx") != std::string::npos, message.c_str()); // names the file (or the flag)
    }
};

QTEST_GUILESS_MAIN(TestLanguageModel)
#include "test_language_model.moc"
