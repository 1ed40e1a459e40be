// test_robustness.cpp - beyond the average: calibration (ECE), out-of-distribution separation
// (AUROC, AUPR, FPR at 95 % TPR), exact McNemar with Holm's correction, each against a case
// computed by hand.
#include "data/corruptions.h"
#include "data/text_noise.h"
#include "error.h"
#include "eval/baseline_comparison.h"
#include "eval/confidence_calibration.h"
#include "eval/mcnemar.h"
#include "eval/ood_eval.h"
#include "eval/ood_scores.h"
#include "eval/pruning_exemplars.h"
#include "eval/robustness.h"
#include "eval/slices.h"
#include "eval/token_inspection.h"
#include "test_support.h"

#include <QTemporaryDir>

#include <nlohmann/json.hpp>

#include <QtTest>

#include <cmath>
#include <numeric>

using namespace ss;

class TestRobustness : public QObject {
    Q_OBJECT
private slots:
    // Five samples in three of 15 bins: (0.9333, 1] holds 0.95 twice (one right), (0.5333, 0.6]
    // 0.55 twice (both right), (0.2, 0.2667] 0.25 once (wrong):
    // ECE = 2/5 x 0.45 + 2/5 x 0.45 + 1/5 x 0.25 = 0.41, MCE 0.45.
    void expectedCalibrationErrorByHand() {
        const CalibrationResult r = calibration({0.95f, 0.95f, 0.55f, 0.55f, 0.25f}, {1, 0, 1, 1, 0});
        QVERIFY(std::fabs(r.ece - 0.41) < 1e-6);
        QVERIFY(std::fabs(r.mce - 0.45) < 1e-6);
        QCOMPARE(r.bins.size(), size_t(15));
        QCOMPARE(r.bins[14].count, 2);
        QCOMPARE(r.bins[8].count, 2);
        QCOMPARE(r.bins[3].count, 1);
        QCOMPARE(r.bins[8].accuracy, 1.0);
        QVERIFY(std::fabs(r.bins[14].mean_confidence - 0.95) < 1e-6);
        QVERIFY(std::fabs(r.accuracy - 0.6) < 1e-12);
        // A perfectly calibrated bin: 10 samples at 0.7, 7 right.
        std::vector<float> c(10, 0.7f);
        std::vector<unsigned char> ok{1, 1, 1, 1, 1, 1, 1, 0, 0, 0};
        QVERIFY(calibration(c, ok).ece < 1e-6);
        // 1.0 falls in the last bin, 0 in none; mismatched lengths are refused.
        const CalibrationResult edge = calibration({1.0f, 0.0f}, {1, 0});
        QCOMPARE(edge.bins[14].count, 1);
        int binned = 0;
        for (const auto& b : edge.bins) binned += b.count;
        QCOMPARE(binned, 1);
        QVERIFY_THROWS_EXCEPTION(Error, calibration({0.5f}, {}));
        // The max softmax probability, stable for large logits.
        const float logits[] = {1000.0f, 1000.0f, 0.0f, 0.0f, 0.0f, std::log(2.0f)};
        const std::vector<float> p = max_softmax(logits, 2, 3);
        QVERIFY(std::fabs(p[0] - 0.5f) < 1e-6f);
        QVERIFY(std::fabs(p[1] - 0.5f) < 1e-6f); // 2 / (1 + 1 + 2)
    }

    // in {0.9, 0.8, 0.8, 0.3} against out {0.8, 0.5, 0.1}: 9 of 12 pairs ordered (ties half);
    // AP = 1/4 x 1 + 2/4 x 3/4 + 1/4 x 4/6; the 95 % threshold keeps all four in-samples (0.3),
    // which lets 2 of 3 OOD samples through.
    void oodSeparationByHand() {
        const std::vector<float> in{0.9f, 0.8f, 0.8f, 0.3f}, out{0.8f, 0.5f, 0.1f};
        const OodResult r = ood_separation(in, out);
        double pairs = 0.0; // brute force
        for (float a : in)
            for (float b : out) pairs += a > b ? 1.0 : a == b ? 0.5 : 0.0;
        QCOMPARE(r.auroc, pairs / 12.0);
        QCOMPARE(r.auroc, 0.75);
        QVERIFY(std::fabs(r.aupr_in - (0.25 + 0.375 + 0.25 * 4.0 / 6.0)) < 1e-12);
        QVERIFY(std::fabs(r.fpr95 - 2.0 / 3.0) < 1e-12);
        // aupr_out: OOD positive, scores negated: -0.1 (out), -0.3 (in), -0.5 (out), -0.8 (in, in, out), -0.9 (in)
        QVERIFY(std::fabs(r.aupr_out - (1.0 / 3.0 * 1.0 + 1.0 / 3.0 * 2.0 / 3.0 + 1.0 / 3.0 * 3.0 / 6.0)) < 1e-12);
        // ROC, threshold falling through 0.9, 0.8 (two in, one out), 0.5, 0.3, 0.1:
        // (0,0) (0,1/4) (1/3,3/4) (2/3,3/4) (2/3,1) (1,1). Histogram: 30 bins over [0.1, 0.9].
        QCOMPARE(r.roc_fpr, (std::vector<float>{0.0f, 0.0f, 1.0f / 3, 2.0f / 3, 2.0f / 3, 1.0f}));
        QCOMPARE(r.roc_tpr, (std::vector<float>{0.0f, 0.25f, 0.75f, 0.75f, 1.0f, 1.0f}));
        QVERIFY(std::fabs(r.hist_lo - 0.1) < 1e-7 && std::fabs(r.hist_hi - 0.9) < 1e-7);
        QCOMPARE(r.in_hist.size(), size_t(kOodHistogramBins));
        QCOMPARE(r.in_hist[29], 1);  // 0.9 (the top edge falls in the last bin)
        QCOMPARE(r.in_hist[26], 2);  // 0.8: (0.8 - 0.1) / (0.8 / 30) = 26.25
        QCOMPARE(r.out_hist[0], 1);  // 0.1
        QCOMPARE(r.out_hist[15], 1); // 0.5: 15.0
        QCOMPARE(std::accumulate(r.out_hist.begin(), r.out_hist.end(), 0), 3);
        // Perfect separation, and none.
        QCOMPARE(ood_separation({2, 3}, {0, 1}).auroc, 1.0);
        QCOMPARE(ood_separation({2, 3}, {0, 1}).fpr95, 0.0);
        QCOMPARE(ood_separation({1, 1}, {1, 1}).auroc, 0.5);
        QVERIFY_THROWS_EXCEPTION(Error, ood_separation({}, {1}));
        QVERIFY_THROWS_EXCEPTION(Error, ood_separation({std::nanf("")}, {1}));
        const float logits[] = {0.0f, 0.0f};
        QVERIFY(std::fabs(negative_energy(logits, 1, 2)[0] - std::log(2.0f)) < 1e-6f);
    }

    // Typos: only ASCII letters change; the same seed gives the same text; the share of letters
    // hit is the rate; UTF-8 and digits survive.
    void typosAtAGivenRate() {
        QCOMPARE(add_typos("In the beginning 1:1", 0.0), std::string("In the beginning 1:1"));
        std::string text;
        for (int i = 0; i < 4000; ++i) text += "And God said, Let there be light: and there was light. 42 é ";
        const std::string noisy = add_typos(text, 0.05, 7);
        QCOMPARE(add_typos(text, 0.05, 7), noisy);
        QVERIFY(add_typos(text, 0.05, 8) != noisy);
        QVERIFY(noisy.find("42 é") != std::string::npos);
        QCOMPARE(std::count(noisy.begin(), noisy.end(), '4'), std::count(text.begin(), text.end(), '4'));
        QCOMPARE(std::count(noisy.begin(), noisy.end(), ','), std::count(text.begin(), text.end(), ','));
        // The rate: in 100,000 a's, a substitution or an insertion leaves one other letter (half the
        // typos; swaps of a's and deletions leave none): 0.05 x 100,000 / 2 = 2,500, sd about 50.
        // Deletions and insertions balance the length (each 1/4 of the typos).
        const std::string as(100000, 'a'), hit = add_typos(as, 0.05, 1);
        const long others = long(std::count_if(hit.begin(), hit.end(), [](char c) { return c != 'a'; }));
        QVERIFY2(others > 2300 && others < 2700, qPrintable(QString::number(others)));
        QVERIFY(std::labs(long(hit.size()) - 100000L) < 300);
        QVERIFY_THROWS_EXCEPTION(Error, add_typos("x", 1.5));
        const std::string all = add_typos("abcdefgh", 1.0, 3);
        QVERIFY(all != "abcdefgh");
    }

    // A language model's flipped tokens: position 1 lost (dense top = the token, compressed not),
    // position 2 gained, position 3 right under both, position 0 never counted.
    void flippedTokensOfALanguageModel() {
        TokenInspection t;
        t.first = 100;
        t.tokens.resize(4);
        auto set = [&](int i, int32_t id, int32_t dense_top, int32_t top, double dense_nll, double nll) {
            t.tokens[size_t(i)].id = id;
            t.tokens[size_t(i)].dense_top[0] = dense_top;
            t.tokens[size_t(i)].top[0] = top;
            t.tokens[size_t(i)].dense_nll = dense_nll;
            t.tokens[size_t(i)].nll = nll;
        };
        set(0, 5, 5, 6, 0.1, 3.0);
        set(1, 7, 7, 8, std::log(2.0), std::log(10.0));  // p 0.5 -> 0.1
        set(2, 9, 1, 9, std::log(4.0), std::log(1.25));  // p 0.25 -> 0.8
        set(3, 2, 2, 2, 0.2, 0.3);
        const std::vector<FlippedToken> f = flipped_tokens(t);
        QCOMPARE(f.size(), size_t(2));
        QCOMPARE(f[0].position, 102); // |0.25 - 0.8| > |0.5 - 0.1|
        QVERIFY(!f[0].lost());
        QCOMPARE(f[1].position, 101);
        QVERIFY(f[1].lost());
        QCOMPARE(f[1].pred, 8);
        QVERIFY(std::fabs(f[1].dense_p - 0.5f) < 1e-6f && std::fabs(f[1].p - 0.1f) < 1e-6f);
    }

    // Slices: samples 0-9; flipped 1, 2 (lost), 3 (gained), 7 (lost). Slice A = {0,1,2,3}: 2 lost,
    // 1 gained, p = 1; slice B = {7, 8}: 1 lost, p = 1; slice C = {5}: untested (NaN).
    void slicesLikeClasses() {
        const std::vector<FlippedSample> flipped = {{1, 0, 0, 1, 0.9f, 0.2f}, {2, 1, 1, 0, 0.8f, 0.3f}, {3, 0, 1, 0, 0.3f, 0.7f}, {7, 1, 1, 0, 0.6f, 0.4f}};
        const std::vector<SliceResult> r = slice_regressions(flipped, {{"A", {0, 1, 2, 3}}, {"B", {7, 8}}, {"C", {5}}});
        QCOMPARE(r.size(), size_t(3));
        QCOMPARE(r[0].lost, 2);
        QCOMPARE(r[0].gained, 1);
        QCOMPARE(r[0].delta_points, -25.0);
        QCOMPARE(r[0].p, 1.0); // 2 P[Bin(3, 1/2) <= 1] = 2 x 4/8
        QCOMPARE(r[1].p, 1.0);
        QVERIFY(std::isnan(r[2].p) && std::isnan(r[2].p_holm));
        // 12 lost, 0 gained: p = 2 / 2^12; Holm over two tested slices doubles the smaller.
        std::vector<FlippedSample> many;
        for (int i = 0; i < 12; ++i) many.push_back({i, 0, 0, 1, 0.9f, 0.1f});
        const std::vector<SliceResult> m = slice_regressions(many, {{"all", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}}, {"one", {0}}});
        QVERIFY(std::fabs(m[0].p - 2.0 / 4096.0) < 1e-15);
        QVERIFY(std::fabs(m[0].p_holm - 4.0 / 4096.0) < 1e-15);
        QVERIFY(m[0].regression() && !m[1].regression());

        // From a CSV column (row i is sample i) and from labels by name or number.
        QTemporaryDir dir;
        const std::string csv = dir.filePath("s.csv").toStdString();
        test_support::write_bytes(csv, [] {
            const std::string t = "id,site\n0,north\n1,\"south, coast\"\n2,north\n3,east\n4,south\n";
            return std::vector<uint8_t>(t.begin(), t.end());
        }());
        const std::vector<Slice> s = slices_from_csv(csv, "site", 4);
        QCOMPARE(s.size(), size_t(3));
        QCOMPARE(s[0].name, std::string("north"));
        QCOMPARE(s[0].samples, (std::vector<int>{0, 2}));
        QCOMPARE(s[1].name, std::string("south, coast"));
        QVERIFY(test_support::error_message([&] { slices_from_csv(csv, "region", 4); }).find("no column 'region' in the header (id, site)") != std::string::npos);
        QVERIFY(test_support::error_message([&] { slices_from_csv(csv, "site", 9); }).find("5 data rows, but 9 samples were evaluated") != std::string::npos);
        const Slice shoes = slice_from_labels("shoes=Sandal,2", {0, 1, 2, 1, 0}, {"Top", "Sandal", "Bag"}, 5);
        QCOMPARE(shoes.name, std::string("shoes"));
        QCOMPARE(shoes.samples, (std::vector<int>{1, 2, 3}));
        QVERIFY(test_support::error_message([] { slice_from_labels("x=Boot", {0}, {"Top"}, 1); }).find("'Boot' is neither a class number nor a class name (Top)") !=
                std::string::npos);
    }

    // Samples lost by every run: run A lost 3, 5, 8; run B lost 5, 8, 9 and gained 3; run C lost
    // 8, 5. Exemplars: 5 and 8, the lower mean p(true) first; per class counted.
    void pruningIdentifiedExemplars() {
        auto run = [](int64_t id, std::vector<FlippedSample> flipped) {
            RunRecord r;
            r.id = id;
            r.model_name = "m";
            r.dataset_path = "d";
            r.result.samples = 100;
            r.result.has_comparison = true;
            r.result.comparison.flipped = std::move(flipped);
            return r;
        };
        const RunRecord a = run(1, {{3, 0, 0, 1, 0.9f, 0.2f}, {5, 1, 1, 2, 0.8f, 0.3f}, {8, 2, 2, 0, 0.7f, 0.1f}});
        const RunRecord b = run(2, {{5, 1, 1, 0, 0.8f, 0.1f}, {8, 2, 2, 1, 0.7f, 0.2f}, {9, 0, 0, 2, 0.6f, 0.3f}, {3, 0, 1, 0, 0.4f, 0.6f}});
        const RunRecord c = run(3, {{8, 2, 2, 1, 0.7f, 0.3f}, {5, 1, 1, 0, 0.8f, 0.5f}});
        const ExemplarReport r = pruning_identified_exemplars({&a, &b, &c});
        QCOMPARE(r.exemplars.size(), size_t(2));
        QCOMPARE(r.exemplars[0].sample, 8); // mean p (0.1 + 0.2 + 0.3) / 3 = 0.2
        QCOMPARE(r.exemplars[1].sample, 5); // (0.3 + 0.1 + 0.5) / 3 = 0.3
        QVERIFY(std::fabs(r.exemplars[0].mean_p_true - 0.2) < 1e-6);
        QCOMPARE(r.exemplars[1].preds, (std::vector<int>{2, 0, 0}));
        QCOMPARE(r.per_class, (std::vector<int>{0, 1, 1}));
        QCOMPARE(r.run_ids, (std::vector<int64_t>{1, 2, 3}));
        QCOMPARE(pruning_identified_exemplars({&a}).exemplars.size(), size_t(3));
        RunRecord other = c;
        other.result.samples = 50;
        QVERIFY(test_support::error_message([&] { pruning_identified_exemplars({&a, &other}); }).find("evaluated 50 samples") != std::string::npos);
        other = c;
        other.result.has_comparison = false;
        QVERIFY(test_support::error_message([&] { pruning_identified_exemplars({&a, &other}); }).find("not compared") != std::string::npos);
    }

    // Both models' scores on the test split against an OOD set: a model against itself separates
    // exactly as well as dense; noise images are whole pixel values, the same for the same seed.
    void oodEvaluationRunsBothModels() {
        const Model m = test_support::tiny_moe_model();
        const Dataset noise = uniform_noise_images(300, 4, 1);
        QCOMPARE(noise.raw, uniform_noise_images(300, 4, 1).raw);
        QVERIFY(noise.raw != uniform_noise_images(300, 4, 2).raw);
        for (float v : noise.raw) QVERIFY(v >= 0.0f && v <= 255.0f && v == std::floor(v));
        Dataset in;
        in.source_path = "in";
        in.count = 200;
        in.features = 4;
        in.num_classes = 2;
        for (int i = 0; i < 800; ++i) in.raw.push_back(float((i * 13) % 40)); // darker than the noise
        in.labels.assign(200, 0);
        const OodEvaluation o = evaluate_ood(m, &m, in, 100, noise, "noise");
        QCOMPARE(o.in_count, 100);
        QCOMPARE(o.out_count, 300);
        QVERIFY(o.has_dense);
        QCOMPARE(o.msp.auroc, o.dense_msp.auroc);
        QCOMPARE(o.energy.fpr95, o.dense_energy.fpr95);
        QVERIFY(o.msp.auroc >= 0.0 && o.msp.auroc <= 1.0);
        QVERIFY_THROWS_EXCEPTION(Error, evaluate_ood(m, nullptr, in, 0, uniform_noise_images(10, 5), "five"));
    }

    // Exact McNemar: 1 lost against 7 gained, p = 2 (C(8,0) + C(8,1)) / 2^8 = 18/256; 0 and 5:
    // 2/32; equal counts: 1. A large unbalanced case agrees with the normal approximation's order.
    void mcnemarAndHolmByHand() {
        QCOMPARE(mcnemar_exact_p(1, 7), 18.0 / 256.0);
        QCOMPARE(mcnemar_exact_p(7, 1), 18.0 / 256.0);
        QVERIFY(std::fabs(mcnemar_exact_p(0, 5) - 0.0625) < 1e-12);
        QCOMPARE(mcnemar_exact_p(5, 5), 1.0);
        QCOMPARE(mcnemar_exact_p(0, 0), 1.0);
        const double big = mcnemar_exact_p(600, 400); // z = 199 / sqrt(1000) = 6.29: p about 3e-10
        QVERIFY2(big > 1e-10 && big < 1e-9, qPrintable(QString::number(big)));
        QVERIFY_THROWS_EXCEPTION(Error, mcnemar_exact_p(-1, 2));
        // Holm over four p-values (one untested): 0.005 x 4, 0.01 x 3, 0.03 x 2, 0.04 x 1 -> made monotone.
        const std::vector<double> adj = holm_adjust({0.01, 0.04, 0.03, std::nan(""), 0.005});
        QVERIFY(std::fabs(adj[4] - 0.02) < 1e-12);
        QVERIFY(std::fabs(adj[0] - 0.03) < 1e-12);
        QVERIFY(std::fabs(adj[2] - 0.06) < 1e-12);
        QVERIFY(std::fabs(adj[1] - 0.06) < 1e-12); // 0.04 alone would be smaller than the 0.06 before it
        QVERIFY(std::isnan(adj[3]));
        QCOMPARE(holm_adjust({0.9, 0.8})[0], 1.0); // capped
    }

    // Corruptions with a closed form, computed by hand from the CIFAR-10-C parameters.
    void corruptionsByHand() {
        // Contrast 0.75 toward the mean 0.5: 0 -> 0.125 (31.875 -> 31), 1 -> 0.875 (223.125 -> 223).
        float two[] = {0.0f, 255.0f};
        corrupt_image(Corruption::Contrast, 1, two, 1, 2, 0);
        QCOMPARE(two[0], 31.0f);
        QCOMPARE(two[1], 223.0f);
        // Brightness +0.3: 0 -> 76.5 -> 76; white stays white.
        float b[] = {0.0f, 255.0f};
        corrupt_image(Corruption::Brightness, 5, b, 1, 2, 0);
        QCOMPARE(b[0], 76.0f);
        QCOMPARE(b[1], 255.0f);
        // Gaussian blur, sigma 1 (severity 5), of one white pixel in the middle of 9x9: the kernel's
        // center weight squared, 1 / (sum over -4..4 of exp(-i^2/2))^2 = 0.159156 -> 40.58 -> 40.
        std::vector<float> dot(81, 0.0f);
        dot[40] = 255.0f;
        corrupt_image(Corruption::GaussianBlur, 5, dot.data(), 9, 9, 0);
        QCOMPARE(dot[40], 40.0f);
        QCOMPARE(dot[39], dot[41]); // symmetric
        // Defocus, severity 1: a disk of radius 0.3 is one pixel; the 3x3 Gaussian of sigma 0.4 makes
        // the center 0.919224^2 = 0.844973 (215.47 -> 215) and a side 0.919224 x 0.040388 (9.47 -> 9).
        std::vector<float> d(81, 0.0f);
        d[40] = 255.0f;
        corrupt_image(Corruption::DefocusBlur, 1, d.data(), 9, 9, 0);
        QCOMPARE(d[40], 215.0f);
        QCOMPARE(d[41], 9.0f);
        QCOMPARE(d[49], 9.0f);
        QCOMPARE(d[42], 0.0f);
        // Shift by severity pixels: the image moves whole, black fills in; mass is kept when it stays inside.
        std::vector<float> sq(100, 0.0f);
        for (int y = 4; y < 6; ++y)
            for (int x = 4; x < 6; ++x) sq[size_t(y * 10 + x)] = 200.0f;
        corrupt_image(Corruption::Shift, 2, sq.data(), 10, 10, 7);
        float mass = 0.0f;
        for (float v : sq) mass += v;
        QCOMPARE(mass, 800.0f);
        QCOMPARE(sq[44] + sq[45] + sq[54] + sq[55] < 800.0f, true); // it moved
        // A constant image: pixelate and JPEG keep it (up to JPEG's rounding), rotation keeps the middle.
        std::vector<float> flat(28 * 28, 100.0f);
        corrupt_image(Corruption::Pixelate, 5, flat.data(), 28, 28, 0);
        for (float v : flat) QCOMPARE(v, 100.0f);
        corrupt_image(Corruption::Jpeg, 5, flat.data(), 28, 28, 0);
        for (float v : flat) QVERIFY(std::fabs(v - 100.0f) <= 1.0f);
        QVERIFY_THROWS_EXCEPTION(Error, corrupt_image(Corruption::Contrast, 6, two, 1, 2, 0));
        Corruption c;
        QVERIFY(parse_corruption("jpeg_compression", &c) && c == Corruption::Jpeg);
        QVERIFY(!parse_corruption("fog", &c));
    }

    // The deterministic corruptions against the reference functions themselves, run on one 28x28
    // image by tests/fixtures/make_corruption_goldens.py (skimage, OpenCV, PIL).
    void corruptionsMatchTheReference() {
        const auto bytes = test_support::read_bytes(SPARSESCOPE_TEST_DATA "/corruptions/goldens.json");
        const nlohmann::json j = nlohmann::json::parse(bytes.begin(), bytes.end());
        const std::vector<float> image = j.at("image").get<std::vector<float>>();
        std::vector<float> mine(28 * 28); // the same pattern the script draws
        for (int y = 0; y < 28; ++y)
            for (int x = 0; x < 28; ++x) mine[size_t(y * 28 + x)] = float((x * 37 + y * 91 + ((x * y) % 17) * 5) % 256);
        QCOMPARE(mine, image);
        QStringList failures;
        for (const auto& [name, per_severity] : j.at("goldens").items()) {
            Corruption c;
            QVERIFY2(parse_corruption(name, &c), name.c_str());
            for (int s = 1; s <= 5; ++s) {
                const std::vector<float> want = per_severity.at(size_t(s - 1)).get<std::vector<float>>();
                std::vector<float> got = image;
                corrupt_image(c, s, got.data(), 28, 28, 0);
                int off = 0;
                float worst = 0.0f;
                for (size_t i = 0; i < got.size(); ++i) {
                    off += got[i] != want[i];
                    worst = std::max(worst, std::fabs(got[i] - want[i]));
                }
                // Gaussian blur sums in another order than SciPy: a value right on a whole level may
                // truncate one level apart (one pixel of 784 at severity 1). Everything else is exact.
                const bool blur = c == Corruption::GaussianBlur;
                const QString what = QStringLiteral("%1 severity %2: %3 of 784 pixels differ, by up to %4").arg(QString::fromStdString(name)).arg(s).arg(off).arg(worst);
                if (!(blur ? worst <= 1.0f && off <= 2 : off == 0)) failures << what;
            }
        }
        QVERIFY2(failures.isEmpty(), qPrintable(failures.join(QStringLiteral("; "))));
    }

    // Noise statistics over many pixels match the parameters: Gaussian sd 0.10 (severity 5) around
    // mid-gray, impulse noise flipping 7 % of pixels, shot noise with mean x and variance x / 50.
    void noiseMatchesItsParameters() {
        const int n = 200000;
        std::vector<float> g(n, 127.0f);
        corrupt_image(Corruption::GaussianNoise, 5, g.data(), 1, n, 11);
        double mean = 0.0, var = 0.0;
        for (float v : g) mean += v;
        mean /= n;
        for (float v : g) var += (v - mean) * (v - mean);
        const double sd = std::sqrt(var / n) / 255.0;
        QVERIFY2(std::fabs(sd - 0.10) < 0.003, qPrintable(QString::number(sd)));
        QVERIFY2(std::fabs(mean - 126.5) < 0.5, qPrintable(QString::number(mean))); // truncation lowers by half a level
        std::vector<float> imp(n, 127.0f);
        corrupt_image(Corruption::ImpulseNoise, 5, imp.data(), 1, n, 12);
        int salt = 0, pepper = 0;
        for (float v : imp) salt += v == 255.0f, pepper += v == 0.0f;
        QVERIFY2(std::fabs((salt + pepper) / double(n) - 0.07) < 0.003, qPrintable(QString::number(salt + pepper)));
        QVERIFY(std::abs(salt - pepper) < n / 100);
        std::vector<float> shot(n, 51.0f); // x = 0.2: Poisson(0.2 x 50 = 10) / 50
        corrupt_image(Corruption::ShotNoise, 5, shot.data(), 1, n, 13);
        double m = 0.0, v2 = 0.0;
        for (float v : shot) m += (v + 0.5) / 255.0; // undo the truncation on average
        m /= n;
        for (float v : shot) v2 += ((v + 0.5) / 255.0 - m) * ((v + 0.5) / 255.0 - m);
        v2 /= n;
        QVERIFY2(std::fabs(m - 0.2) < 0.003, qPrintable(QString::number(m)));
        QVERIFY2(std::fabs(v2 - 0.2 / 50.0) < 0.0004, qPrintable(QString::number(v2)));
        std::vector<float> big(n, 178.5f); // x = 0.7 at severity 1: Poisson(350), the large-mean sampler
        corrupt_image(Corruption::ShotNoise, 1, big.data(), 1, n, 14);
        double mb = 0.0;
        for (float v : big) mb += (v + 0.5) / 255.0;
        QVERIFY2(std::fabs(mb / n - 0.7) < 0.003, qPrintable(QString::number(mb / n)));
    }

    // A corrupted dataset is the same whatever the thread count, different per severity and seed,
    // and refused when its samples are not images of pixel values.
    void corruptedDatasetsAreRepeatable() {
        Dataset d;
        d.source_path = "synthetic";
        d.count = 64;
        d.features = 28 * 28;
        for (int i = 0; i < d.count * d.features; ++i) d.raw.push_back(float((i * 7919) % 256));
        d.labels.assign(size_t(d.count), 0);
        const Dataset a = corrupt_dataset(d, 28, 28, Corruption::GaussianNoise, 3, 5, 1);
        const Dataset b = corrupt_dataset(d, 28, 28, Corruption::GaussianNoise, 3, 5, 2);
        QCOMPARE(a.raw, b.raw);
        QVERIFY(a.raw != d.raw);
        QVERIFY(corrupt_dataset(d, 28, 28, Corruption::GaussianNoise, 3, 6, 1).raw != a.raw);
        QVERIFY(corrupt_dataset(d, 28, 28, Corruption::GaussianNoise, 4, 5, 1).raw != a.raw);
        QCOMPARE(a.format, std::string("+gaussian_noise:3"));
        QVERIFY_THROWS_EXCEPTION(Error, corrupt_dataset(d, 27, 28, Corruption::Contrast, 1));
        d.raw[5] = 300.0f;
        QVERIFY_THROWS_EXCEPTION(Error, corrupt_dataset(d, 28, 28, Corruption::Contrast, 1));
    }

    // The comparison with dense goes beyond the average: per-class discordant counts with their
    // McNemar p-values, the flipped samples ranked by the change in p(true class), and both
    // models' calibration. Four samples of two classes, by hand.
    void comparisonFindsFlipsPerClass() {
        BaselineOutputs b;
        b.samples = 4;
        b.classes = 2;
        const int labels[] = {0, 0, 1, 1};
        // dense: p(class 0) = 0.9, 0.6, 0.2, 0.7 -> right, right, right, wrong
        const float dense_p0[] = {0.9f, 0.6f, 0.2f, 0.7f};
        for (int i = 0; i < 4; ++i) {
            b.log_probs.push_back(std::log(dense_p0[i]));
            b.log_probs.push_back(std::log(1.0f - dense_p0[i]));
            b.argmax.push_back(dense_p0[i] > 0.5f ? 0 : 1);
            b.correct.push_back(b.argmax.back() == labels[i]);
        }
        // compressed: p(class 0) = 0.3, 0.55, 0.4, 0.2 -> wrong, right, right, right
        const float comp_p0[] = {0.3f, 0.55f, 0.4f, 0.2f};
        std::vector<float> logits;
        for (float p : comp_p0) logits.push_back(std::log(p)), logits.push_back(std::log(1.0f - p));
        ComparisonAccumulator acc(b, 2);
        acc.add(0, logits.data(), labels, 4);
        const Comparison c = acc.finish();
        QCOMPARE(c.lost, 1);
        QCOMPARE(c.gained, 1);
        QCOMPARE(c.class_lost, (std::vector<int>{1, 0}));
        QCOMPARE(c.class_gained, (std::vector<int>{0, 1}));
        QCOMPARE(c.class_p, (std::vector<double>{1.0, 1.0})); // one discordant sample proves nothing
        QCOMPARE(c.flipped.size(), size_t(2));
        QCOMPARE(c.flipped[0].sample, 0); // p(true) 0.9 -> 0.3 moved more than 0.3 -> 0.8
        QVERIFY(c.flipped[0].lost() && !c.flipped[1].lost());
        QVERIFY(std::fabs(c.flipped[1].p_true - 0.8f) < 1e-5f);
        // Dense confidences 0.9, 0.6, 0.8, 0.7 with right, right, right, wrong; compressed 0.7, 0.55, 0.6, 0.8, all but the first right.
        const CalibrationResult dense = calibration({0.9f, 0.6f, 0.8f, 0.7f}, {1, 1, 1, 0});
        QVERIFY(std::fabs(c.dense_calibration.ece - dense.ece) < 1e-6);
        const CalibrationResult comp = calibration({0.7f, 0.55f, 0.6f, 0.8f}, {0, 1, 1, 1});
        QVERIFY(std::fabs(c.calibration.ece - comp.ece) < 1e-6);
        QVERIFY(c.calibration.ece > 0.0);
    }

    // CE by hand: two corruptions at two severities. Errors compressed 0.2 + 0.4, dense 0.1 + 0.2
    // for the first (CE 2), equal for the second (CE 1): mCE 1.5; the gaps are mean points lost.
    void corruptionErrorByHand() {
        RobustnessOptions o;
        o.corruptions = {Corruption::Contrast, Corruption::Jpeg};
        o.severities = {1, 3};
        const std::vector<double> comp{0.8, 0.6, 0.9, 0.7}, dense{0.9, 0.8, 0.9, 0.7};
        const RobustnessResult r = robustness_from_accuracies(o, 100, comp, &dense);
        QCOMPARE(r.cells.size(), size_t(4));
        QCOMPARE(r.cells[1].severity, 3);
        QVERIFY(std::fabs(r.ce[0] - 2.0) < 1e-12);
        QVERIFY(std::fabs(r.ce[1] - 1.0) < 1e-12);
        QVERIFY(std::fabs(r.mce - 1.5) < 1e-12);
        QVERIFY(std::fabs(r.gap_points[0] - 15.0) < 1e-9);
        QVERIFY(std::fabs(r.mean_accuracy - 0.75) < 1e-12);
        const RobustnessResult alone = robustness_from_accuracies(o, 100, comp, nullptr);
        QVERIFY(std::isnan(alone.mce) && alone.ce.empty());
        QVERIFY_THROWS_EXCEPTION(Error, robustness_from_accuracies(o, 100, {0.5}, nullptr));
    }

    // Both models through the corrupted sets: a model against itself has CE 1 everywhere; the
    // dense side comes from the cache the second time, with the same numbers.
    void robustnessRunsAndCachesTheDenseSide() {
        QTemporaryDir cache;
        qputenv("XDG_CACHE_HOME", cache.path().toUtf8());
        Model m = test_support::tiny_moe_model(); // 4 inputs: a 2x2 image
        m.sha256_pending = std::async(std::launch::deferred, [] { return std::string(64, 'c'); }).share();
        Dataset d;
        d.source_path = "synthetic";
        d.sha256 = std::string(64, 'd');
        d.count = 200;
        d.features = 4;
        d.num_classes = 2;
        for (int i = 0; i < d.count * 4; ++i) d.raw.push_back(float((i * 37) % 256));
        for (int i = 0; i < d.count; ++i) d.labels.push_back(i % 2);
        RobustnessOptions o;
        o.corruptions = {Corruption::GaussianNoise, Corruption::Contrast};
        const RobustnessResult first = evaluate_robustness(m, &m, d, o);
        QVERIFY(!first.dense_from_cache);
        QCOMPARE(first.cells.size(), size_t(6));
        for (double ce : first.ce) QCOMPARE(ce, 1.0);
        QCOMPARE(first.mce, 1.0);
        const RobustnessResult second = evaluate_robustness(m, &m, d, o);
        QVERIFY(second.dense_from_cache);
        for (size_t i = 0; i < first.cells.size(); ++i) QCOMPARE(second.cells[i].dense_accuracy, first.cells[i].dense_accuracy);
        o.seed = 9; // another seed is another measurement
        QVERIFY(!evaluate_robustness(m, &m, d, o).dense_from_cache);
        int h = 0, w = 0;
        QVERIFY(image_shape(m, &h, &w) && h == 2 && w == 2);
        qunsetenv("XDG_CACHE_HOME");
    }
};

QTEST_GUILESS_MAIN(TestRobustness)
#include "test_robustness.moc"
