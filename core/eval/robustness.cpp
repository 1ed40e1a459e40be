// robustness.cpp - corrupted test splits through both models (robustness.h).
#include "eval/robustness.h"

#include "error.h"
#include "eval/baseline_cache.h"
#include "formats/file_io.h"
#include "formats/sha256.h"
#include "model/forward.h"
#include "kernels/thread_pool.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace ss {

namespace {

int argmax_row(const float* z, int n) { return int(std::max_element(z, z + n) - z); }

// Top-1 accuracy of `model` on the first n samples of `d`.
double accuracy_on(const Model& model, const Dataset& d, int n, int batch) {
    const int features = model.input_features(), classes = model.num_classes();
    ForwardWorkspace ws;
    std::vector<float> x(size_t(batch) * size_t(features)), logits(size_t(batch) * size_t(classes));
    int correct = 0;
    for (int start = 0; start < n; start += batch) {
        const int m = std::min(batch, n - start);
        preprocess_input(model.input, d.sample(start), size_t(m) * size_t(features), x.data());
        forward(model, x.data(), m, logits.data(), {}, ws, nullptr);
        for (int i = 0; i < m; ++i) correct += argmax_row(&logits[size_t(i) * size_t(classes)], classes) == d.labels[size_t(start + i)];
    }
    return n ? double(correct) / n : 0.0;
}

std::string cache_key(const Model& dense, const Dataset& data, int n, const RobustnessOptions& opt) {
    const std::string model_hash = dense.sha256();
    if (model_hash.empty()) return {};
    std::string k = "sparsescope-robustness-v1|" + model_hash + "|" + data.sha256 + "|" + std::to_string(n) + "|" + std::to_string(opt.seed) + "|";
    char in[128];
    std::snprintf(in, sizeof in, "%.17g,%.17g,%.17g|", dense.input.scale, dense.input.mean, dense.input.std);
    k += in;
    for (Corruption c : opt.corruptions) k += std::string(corruption_name(c)) + ",";
    k += "|";
    for (int s : opt.severities) k += std::to_string(s) + ",";
    return sha256_hex(k.data(), k.size());
}

std::string cache_dir() { return (std::filesystem::path(baseline_cache_dir()).parent_path() / "robustness").string(); }

std::optional<std::vector<double>> read_cache(const std::string& key, size_t cells) {
    const std::string path = cache_dir() + "/" + key + ".json";
    if (key.empty() || !file_exists(path)) return std::nullopt;
    try {
        const auto bytes = read_file_bytes(path);
        const auto j = nlohmann::json::parse(bytes.begin(), bytes.end());
        if (j.at("key") != key) return std::nullopt;
        std::vector<double> acc = j.at("dense_accuracy").get<std::vector<double>>();
        if (acc.size() != cells) return std::nullopt;
        for (double a : acc)
            if (!(a >= 0.0 && a <= 1.0)) return std::nullopt;
        return acc;
    } catch (const std::exception&) {
        return std::nullopt; // a damaged file is measured again and replaced
    }
}

void write_cache(const std::string& key, const std::vector<double>& acc) {
    if (key.empty()) return;
    try {
        std::filesystem::create_directories(cache_dir());
        const std::string text = nlohmann::json{{"key", key}, {"dense_accuracy", acc}}.dump();
        write_file_bytes(cache_dir() + "/" + key + ".json", std::vector<uint8_t>(text.begin(), text.end()));
    } catch (const std::exception&) {
        // a cache that cannot be written costs time, not results
    }
}

} // namespace

bool image_shape(const Model& model, int* h, int* w) {
    const auto& s = model.input.shape;
    if (s.size() == 2 && s[0] > 0 && s[1] > 0) return (*h = s[0], *w = s[1]), true;
    if (s.size() == 3 && s[0] == 1 && s[1] > 0 && s[2] > 0) return (*h = s[1], *w = s[2]), true; // (1, H, W)
    const int f = model.input_features(), side = int(std::lround(std::sqrt(double(f))));
    if (side > 1 && side * side == f) return (*h = side, *w = side), true;
    return false;
}

std::vector<double> corrupted_accuracies(const Model& model, const Dataset& data, int h, int w, const RobustnessOptions& opt) {
    check_dataset_matches(data, model.input_features(), model.num_classes(), model.name);
    for (int s : opt.severities)
        if (s < 1 || s > 5) throw Error("robustness: severity " + std::to_string(s) + " is not 1..5");
    const int n = opt.limit > 0 ? std::min(opt.limit, data.count) : data.count;
    Dataset head; // the first n samples only: corrupting (or copying) the rest would be wasted work
    head.source_path = data.source_path;
    head.format = data.format;
    head.count = n;
    head.features = data.features;
    head.num_classes = data.num_classes;
    head.raw.assign(data.raw.begin(), data.raw.begin() + long(size_t(n) * size_t(data.features)));
    head.labels.assign(data.labels.begin(), data.labels.begin() + n);
    std::vector<double> acc;
    const size_t cells = opt.corruptions.size() * opt.severities.size();
    for (Corruption c : opt.corruptions)
        for (int s : opt.severities) {
            const Dataset bad = corrupt_dataset(head, h, w, c, s, opt.seed, opt.threads);
            acc.push_back(accuracy_on(model, bad, n, std::max(1, opt.batch)));
            if (opt.progress && !opt.progress(float(acc.size()) / float(cells))) throw Error("robustness: canceled");
        }
    return acc;
}

RobustnessResult robustness_from_accuracies(const RobustnessOptions& opt, int samples, const std::vector<double>& compressed,
                                            const std::vector<double>* dense) {
    RobustnessResult r;
    r.samples = samples;
    r.seed = opt.seed;
    const size_t S = opt.severities.size();
    if (compressed.size() != opt.corruptions.size() * S || (dense && dense->size() != compressed.size()))
        throw Error("robustness: accuracies do not match the corruptions x severities asked");
    double sum = 0.0, dense_sum = 0.0, ce_sum = 0.0;
    for (size_t c = 0; c < opt.corruptions.size(); ++c) {
        double err = 0.0, dense_err = 0.0, gap = 0.0;
        for (size_t s = 0; s < S; ++s) {
            const size_t i = c * S + s;
            CorruptionCell cell{opt.corruptions[c], opt.severities[s], compressed[i]};
            sum += compressed[i];
            err += 1.0 - compressed[i];
            if (dense) {
                cell.dense_accuracy = (*dense)[i];
                dense_sum += (*dense)[i];
                dense_err += 1.0 - (*dense)[i];
                gap += 100.0 * ((*dense)[i] - compressed[i]);
            }
            r.cells.push_back(cell);
        }
        if (dense) {
            // A dense model with no error under this corruption: CE is 1 when the compressed one has none either.
            const double ce = dense_err > 0.0 ? err / dense_err : (err > 0.0 ? std::numeric_limits<double>::infinity() : 1.0);
            r.ce.push_back(ce);
            ce_sum += ce;
            r.gap_points.push_back(gap / double(S));
        }
    }
    const double cells = double(std::max<size_t>(1, compressed.size()));
    r.mean_accuracy = sum / cells;
    if (dense && !opt.corruptions.empty()) {
        r.dense_mean_accuracy = dense_sum / cells;
        r.mce = ce_sum / double(opt.corruptions.size());
    }
    return r;
}

RobustnessResult evaluate_robustness(const Model& compressed, const Model* dense, const Dataset& data, const RobustnessOptions& opt) {
    int h = 0, w = 0;
    if (!image_shape(compressed, &h, &w))
        throw Error(compressed.name + ": input of " + std::to_string(compressed.input_features()) +
                    " values is not an image (no 2-D input shape, not a square); corruptions apply to images");
    const int n = opt.limit > 0 ? std::min(opt.limit, data.count) : data.count;
    struct ThreadsBack { // the caller's thread count, also when a measurement throws
        int saved = compute_threads();
        ~ThreadsBack() { set_compute_threads(saved); }
    } threads_back;
    set_compute_threads(std::max(1, opt.threads));
    std::optional<std::vector<double>> dense_acc;
    bool cached = false;
    const size_t cells = opt.corruptions.size() * opt.severities.size();
    std::string key;
    if (dense) {
        key = cache_key(*dense, data, n, opt);
        dense_acc = read_cache(key, cells);
        cached = dense_acc.has_value();
        if (!dense_acc) {
            RobustnessOptions half = opt; // the dense half of the progress
            if (opt.progress) half.progress = [&](float f) { return opt.progress(0.5f * f); };
            dense_acc = corrupted_accuracies(*dense, data, h, w, half);
            write_cache(key, *dense_acc);
        }
    }
    RobustnessOptions rest = opt;
    if (opt.progress && dense && !cached) rest.progress = [&](float f) { return opt.progress(0.5f + 0.5f * f); };
    const std::vector<double> acc = corrupted_accuracies(compressed, data, h, w, rest);
    RobustnessResult r = robustness_from_accuracies(opt, n, acc, dense_acc ? &*dense_acc : nullptr);
    r.dense_from_cache = cached;
    return r;
}

} // namespace ss
