// test_governance.cpp - data governance: the difference hash against hand-computed images and an
// independent reference, exact and near duplicates, train/test leakage in Fashion-MNIST, dataset
// cards (sidecar, Debian copyright file, refusals), PSI and the two-sample KS test by hand, drift.
#include "data/dataset_card.h"
#include "data/difference_hash.h"
#include "data/duplicates.h"
#include "data/idx_dataset.h"
#include "data/text_overlap.h"
#include "error.h"
#include "eval/drift.h"
#include "formats/file_io.h"
#include "test_support.h"

#include <QTemporaryDir>

#include <nlohmann/json.hpp>

#include <QtTest>

#include <cmath>
#include <fstream>

using namespace ss;

namespace {

std::vector<float> image(int side, const std::function<float(int y, int x)>& f) {
    std::vector<float> v(size_t(side) * size_t(side));
    for (int y = 0; y < side; ++y)
        for (int x = 0; x < side; ++x) v[size_t(y) * size_t(side) + size_t(x)] = f(y, x);
    return v;
}

Dataset images(const std::vector<std::vector<float>>& samples, const std::vector<int>& labels) {
    Dataset d;
    d.source_path = "images";
    d.count = int(samples.size());
    d.features = int(samples.front().size());
    for (const auto& s : samples) d.raw.insert(d.raw.end(), s.begin(), s.end());
    d.labels = labels;
    d.num_classes = 1 + *std::max_element(labels.begin(), labels.end());
    return d;
}

uint64_t hex64(const std::string& s) { return std::stoull(s, nullptr, 16); }

const char* kFashion = "/usr/share/datasets/fashion-mnist";

} // namespace

class TestGovernance : public QObject {
    Q_OBJECT
private slots:
    // 28 columns make 9 cells of 3 1/9 pixels: cell 3 covers 9.33-12.44 (dark), cell 4 12.44-15.56
    // (dark to 14, bright after: brighter than cell 3), cell 5 15.56-18.67 (bright: brighter than
    // cell 4), then equal. So bits 3 and 4 of every row: 0x18 in each byte.
    void differenceHashOfAnEdgeByHand() {
        const std::vector<float> edge = image(28, [](int, int x) { return x < 14 ? 10.0f : 200.0f; });
        QCOMPARE(difference_hash(edge.data(), 28, 28), uint64_t(0x1818181818181818ull));
        double g[8 * 9];
        difference_hash_grid(edge.data(), 28, 28, g);
        QVERIFY(std::fabs(g[4] - (10.0 * (14 - 12.0 - 4.0 / 9) + 200.0 * (15.0 + 5.0 / 9 - 14)) / (28.0 / 9)) < 1e-9);
        // A ramp brightening to the right sets every bit; to the left none; a flat image none
        // (equal cells summed with different fractional weights are not "brighter").
        const std::vector<float> right = image(28, [](int, int x) { return float(x); });
        const std::vector<float> left = image(28, [](int, int x) { return float(27 - x); });
        const std::vector<float> flat = image(28, [](int, int) { return 0.3f; });
        QCOMPARE(difference_hash(right.data(), 28, 28), ~uint64_t(0));
        QCOMPARE(difference_hash(left.data(), 28, 28), uint64_t(0));
        QCOMPARE(difference_hash(flat.data(), 28, 28), uint64_t(0));
        QCOMPARE(hamming_distance(0x1818181818181818ull, 0), 16);
    }

    // Hashes of real images against tests/fixtures/make_dhash_goldens.py's independent numpy code.
    void differenceHashMatchesReference() {
        if (!idx_dir_has_split(kFashion, "t10k")) QSKIP("Fashion-MNIST is not installed (scripts/install-deps)");
        std::ifstream in(SPARSESCOPE_TEST_DATA "/dhash/goldens.json");
        const nlohmann::json g = nlohmann::json::parse(in);
        const Dataset test = load_idx_dir(kFashion, "t10k"), train = load_idx_dir(kFashion, "train");
        for (const auto& [index, hex] : g["test"].items())
            QCOMPARE(difference_hash(test.sample(std::stoi(index)), 28, 28), hex64(hex.get<std::string>()));
        for (const auto& [index, hex] : g["train"].items())
            QCOMPARE(difference_hash(train.sample(std::stoi(index)), 28, 28), hex64(hex.get<std::string>()));
        // The known pair: test 4998 is train 13360 again, one hash bit apart.
        QCOMPARE(hamming_distance(hex64(g["test"]["4998"]), hex64(g["train"]["13360"])), 1);
    }

    // Five images: 0 and 1 identical, 2 = 0 with a few pixels changed, 3 unlike them, 4 = 3 with a
    // different label. Pairs: (0,1) exact, (0,2) and (1,2) near, (3,4) exact with a label conflict.
    void duplicatesWithinASplit() {
        const auto base = image(28, [](int y, int x) { return float((x * 9 + y * 5) % 256); });
        auto changed = base;
        for (int i = 0; i < 20; ++i) changed[size_t(i * 37)] += 30.0f; // RMS 30 x sqrt(20 / 784) = 4.79
        const auto other = image(28, [](int y, int x) { return float(((27 - x) * 7 + y * y) % 256); });
        const Dataset d = images({base, base, changed, other, other}, {0, 0, 0, 1, 2});
        const DuplicateReport r = find_duplicates(d);
        QCOMPARE(r.exact_pairs, int64_t(2));
        QCOMPARE(r.near_pairs, int64_t(2));
        QCOMPARE(r.label_conflicts, int64_t(1));
        QCOMPARE(r.first_affected, 5);
        QVERIFY(r.images);
        QCOMPARE(r.image_side, 28);
        QCOMPARE(r.pairs.size(), size_t(4));
        QVERIFY(r.pairs[0].exact && r.pairs[1].exact);
        QCOMPARE(r.pairs[2].a, 0);
        QCOMPARE(r.pairs[2].b, 2);
        QVERIFY(std::fabs(r.pairs[2].rms - 30.0 * std::sqrt(20.0 / 784.0)) < 1e-9);
        QVERIFY(!r.pairs[1].same_label || !r.pairs[0].same_label);

        // A stricter pixel limit refuses the near pairs; threads do not change the answer.
        DuplicateOptions strict;
        strict.max_rms = 4.0 / 255.0;
        QCOMPARE(find_duplicates(d, strict).near_pairs, int64_t(0));
        DuplicateOptions two;
        two.threads = 2;
        const DuplicateReport r2 = find_duplicates(d, two);
        QCOMPARE(r2.near_pairs, r.near_pairs);
        QCOMPARE(r2.exact_pairs, r.exact_pairs);

        // Tabular rows: exact duplicates only.
        test_support::Synthetic s(5, 2, 6);
        std::copy(s.dataset.sample(0), s.dataset.sample(0) + 5, s.dataset.raw.begin() + 5 * 5);
        const DuplicateReport t = find_duplicates(s.dataset);
        QVERIFY(!t.images);
        QCOMPARE(t.exact_pairs, int64_t(1));
        QCOMPARE(t.pairs.front().a, 0);
        QCOMPARE(t.pairs.front().b, 5);
    }

    void leakageAcrossSplits() {
        const auto a = image(28, [](int y, int x) { return float((x * 3 + y * 11) % 256); });
        const auto b = image(28, [](int y, int x) { return float((x * x + y) % 256); });
        const Dataset test = images({a, b}, {0, 1});
        const Dataset train = images({b, b, a}, {1, 0, 0});
        const DuplicateReport r = find_leakage(test, train);
        QCOMPARE(r.exact_pairs, int64_t(3)); // a-a, b-b twice
        QCOMPARE(r.label_conflicts, int64_t(1));
        QCOMPARE(r.first_affected, 2);
        test_support::Synthetic other(5, 2, 3);
        QVERIFY(test_support::error_message([&] { find_leakage(test, other.dataset); }).find("same size") != std::string::npos);
    }

    // What the check finds in Fashion-MNIST: no exact copies between the splits, but test image 4998
    // is train image 13360 again (RMS 0.743 by numpy), and a handful more like it.
    void fashionMnistLeakage() {
        if (!idx_dir_has_split(kFashion, "t10k")) QSKIP("Fashion-MNIST is not installed (scripts/install-deps)");
        const Dataset test = load_idx_dir(kFashion, "t10k"), train = load_idx_dir(kFashion, "train");
        DuplicateOptions o;
        o.threads = 2;
        const DuplicateReport r = find_leakage(test, train, o);
        QCOMPARE(r.exact_pairs, int64_t(0));
        QVERIFY(r.near_pairs >= 10 && r.near_pairs < 100);
        QCOMPARE(r.pairs.front().a, 4998);
        QCOMPARE(r.pairs.front().b, 13360);
        QCOMPARE(r.pairs.front().hamming, 1);
        QVERIFY(std::fabs(r.pairs.front().rms - 0.7431661445244575) < 1e-9);
        QCOMPARE(r.rms_limit, 0.04 * 255.0);
    }

    // Word 4-grams: the test's second line quotes "the mountain of the house" with other case and
    // punctuation; three of its windows are in the training text, touching one of three lines.
    void textOverlapByHand() {
        const std::string train = "and the mountain of the house shall be established\nin the top of the mountains\n";
        const std::string test = "a new line here\nThe Mountain, of the HOUSE shall stand\n\nnothing shared at all\n";
        const TextOverlap r = text_overlap(test, train, 4);
        // Test words: a new line here the mountain of the house shall stand nothing shared at all (15): 12 windows.
        QCOMPARE(r.test_windows, int64_t(12));
        QCOMPARE(r.shared_windows, int64_t(3)); // "the mountain of the", "mountain of the house", "of the house shall"
        QCOMPARE(r.examples.front(), std::string("the mountain of the"));
        QCOMPARE(r.test_lines, int64_t(3));
        QCOMPARE(r.lines_touched, int64_t(1));
        QCOMPARE(text_overlap(test, train, 13).shared_windows, int64_t(0));
        QCOMPARE(text_overlap("", train, 4).test_windows, int64_t(0));
        QVERIFY_THROWS_EXCEPTION(Error, text_overlap(test, train, 0));
    }

    void datasetCardFromSidecar() {
        QTemporaryDir dir;
        test_support::Synthetic s(4, 2, 10);
        const std::string csv = dir.filePath("data.csv").toStdString();
        {
            std::ofstream f(csv);
            f << "label,a,b\n0,1,2\n1,3,4\n";
        }
        const Dataset d = load_dataset(csv);
        QVERIFY(find_dataset_provenance(d).origin.empty());
        const std::string card = dir.filePath(kDatasetCardFile).toStdString();
        {
            std::ofstream f(card);
            f << R"({"name": "Toy", "license": "CC-BY-4.0", "source": "made by hand", "collection": "typed in"})";
        }
        const DatasetProvenance p = find_dataset_provenance(d);
        QCOMPARE(p.origin, card);
        QCOMPARE(p.name, std::string("Toy"));
        QCOMPARE(p.license, std::string("CC-BY-4.0"));
        QCOMPARE(p.collection, std::string("typed in"));
        const nlohmann::json j = nlohmann::json::parse(dataset_card_json(d, p));
        QCOMPARE(j["dataset"]["samples"].get<int>(), 2);
        QCOMPARE(j["dataset"]["class_counts"], nlohmann::json({1, 1}));
        QCOMPARE(j["provenance"]["license"].get<std::string>(), std::string("CC-BY-4.0"));
        QVERIFY(!j.contains("leakage"));
        // The provenance round-trips through the sidecar form.
        const DatasetProvenance back = parse_dataset_card(provenance_json(p), "again");
        QCOMPARE(back.license, p.license);
        QCOMPARE(back.source, p.source);

        // Refusals name the file and the key.
        QVERIFY(test_support::error_message([] { parse_dataset_card(R"({"licence": "MIT"})", "card.json"); })
                    .find("card.json: key 'licence' is not a dataset card field") != std::string::npos);
        QVERIFY(test_support::error_message([] { parse_dataset_card(R"({"name": 3})", "card.json"); }).find("'name' must be a string") != std::string::npos);
        QVERIFY(test_support::error_message([] { parse_dataset_card("[1]", "card.json"); }).find("one JSON object") != std::string::npos);
        QVERIFY(test_support::error_message([] { parse_dataset_card("{", "card.json"); }).find("card.json: not JSON") != std::string::npos);
        {
            std::ofstream f(card);
            f << "{\"name\": \"" << std::string(70000, 'x') << "\"}";
        }
        QVERIFY(test_support::error_message([&] { find_dataset_provenance(d); }).find("at most 65536") != std::string::npos);
    }

    // Debian's package documents Fashion-MNIST in a DEP-5 copyright file: Expat (the MIT licence).
    void datasetCardFromDebian() {
        if (!file_exists("/usr/share/doc/dataset-fashion-mnist/copyright")) QSKIP("dataset-fashion-mnist is not installed");
        const Dataset d = load_dataset(kFashion, {"", "", 10, ""});
        const DatasetProvenance p = find_dataset_provenance(d);
        QCOMPARE(p.license, std::string("MIT"));
        QCOMPARE(p.source, std::string("https://github.com/zalandoresearch/fashion-mnist"));
        QCOMPARE(p.origin, std::string("/usr/share/doc/dataset-fashion-mnist/copyright"));
        QVERIFY(p.citation.find("Zalando") != std::string::npos);
    }

    // PSI of (0.5, 0.5) -> (0.25, 0.75): -0.25 ln 0.5 + 0.25 ln 1.5 = 0.27465307216702745.
    void populationStabilityIndexByHand() {
        QVERIFY(std::fabs(population_stability_index({0.5, 0.5}, {0.25, 0.75}) - 0.2746530721670274) < 1e-12);
        QCOMPARE(population_stability_index({0.2, 0.8}, {0.2, 0.8}), 0.0);
        // An empty bin is floored at 1e-4: (1 - 1e-4) ln(1 / 1e-4) + (1e-4 - 1) ln(1e-4 / 1).
        QVERIFY(std::fabs(population_stability_index({1.0, 0.0}, {0.0, 1.0}) - 2 * (1 - 1e-4) * std::log(1e4)) < 1e-9);
        // Feature PSI: a value shifted above the whole reference lands in the bin past its maximum.
        std::vector<float> ref, same, up;
        for (int i = 0; i < 100; ++i) {
            ref.push_back(float(i));
            same.push_back(float(99 - i));
            up.push_back(1000.0f);
        }
        QCOMPARE(feature_psi(ref, same), 0.0);
        QVERIFY(feature_psi(ref, up) > 5.0);
        QCOMPARE(feature_psi(std::vector<float>(50, 0.0f), std::vector<float>(20, 0.0f)), 0.0);
    }

    // D = 0.5 (at 10: all of a, half of b); p from scipy.special.kolmogorov at Stephens' lambda.
    void ksTwoSampleByHand() {
        std::vector<double> a, b;
        for (int i = 1; i <= 10; ++i) a.push_back(i);
        for (int i = 0; i < 12; ++i) b.push_back(4.5 + i);
        const KsResult r = ks_two_sample(a, b);
        QCOMPARE(r.d, 0.5);
        QVERIFY(std::fabs(r.p_value - 0.08729785202156963) < 1e-6);
        const KsResult same = ks_two_sample(a, a);
        QCOMPARE(same.d, 0.0);
        QCOMPARE(same.p_value, 1.0);
    }

    void driftOfABatchAgainstItself() {
        const Model m = test_support::tiny_moe_model();
        test_support::Synthetic s(4, 2, 300);
        const DriftReport same = drift_report(s.dataset, s.dataset, m, &m);
        QCOMPARE(same.psi_max, 0.0);
        QCOMPARE(same.compressed.psi, 0.0);
        QCOMPARE(same.reference_agreement, 1.0);
        QCOMPARE(same.compressed.reference_confidence, same.compressed.new_confidence);
        Dataset moved = s.dataset;
        for (int i = 0; i < moved.count; ++i) moved.raw[size_t(i) * 4] += 20.0f; // feature 0 only
        const DriftReport r = drift_report(s.dataset, moved, m, nullptr);
        QCOMPARE(r.psi_max_feature, 0);
        QCOMPARE(r.features_major, 1);
        QVERIFY(r.feature_psi[1] == 0.0 && r.feature_psi[3] == 0.0);
        QVERIFY(r.mean_value_ks.d > 0.9 && r.mean_value_ks.p_value < 1e-10);
        QVERIFY(!r.has_dense);
        test_support::Synthetic wide(5, 2, 10);
        QVERIFY(test_support::error_message([&] { input_drift(s.dataset, wide.dataset); }).find("same size") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestGovernance)
#include "test_governance.moc"
