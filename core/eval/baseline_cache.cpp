// baseline_cache.cpp
//
// File layout (little-endian): "SSBASE01" | 32-byte key (raw SHA-256) | i64 measured_at |
// i32 samples | i32 classes | i32 threads | f64 throughput_sps | f64 latency_p50_ms |
// i32 argmax[samples] | f32 log_probs[samples * classes] | u8 correct[samples].
#include "eval/baseline_cache.h"

#include "error.h"
#include "eval/machine_info.h"
#include "eval/run_record.h"
#include "formats/file_io.h"
#include "formats/sha256.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>

namespace ss {

namespace {

constexpr char kMagic[8] = {'S', 'S', 'B', 'A', 'S', 'E', '0', '1'};
constexpr size_t kHeader = 8 + 32 + 8 + 4 * 3 + 8 * 2;

template <class T> void put(std::vector<uint8_t>& out, const T& v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    out.insert(out.end(), p, p + sizeof v);
}

std::vector<uint8_t> unhex(const std::string& hex) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(uint8_t(std::stoi(hex.substr(i, 2), nullptr, 16)));
    return out;
}

} // namespace

std::string baseline_cache_dir() {
    if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/sparsescope/baselines";
    const char* home = std::getenv("HOME");
    return std::string(home && *home ? home : "/tmp") + "/.cache/sparsescope/baselines";
}

std::string baseline_cache_key(const Model& dense, const Dataset& data, int samples, int threads) {
    const std::string model_sha = dense.sha256();
    if (model_sha.empty() || data.sha256.empty()) return {};
    char pre[160];
    std::snprintf(pre, sizeof pre, "|scale=%.17g|mean=%.17g|std=%.17g", dense.input.scale, dense.input.mean, dense.input.std);
    const MachineInfo& m = machine_info();
    const std::string text = "sparsescope-baseline-v1|model=" + model_sha + "|data=" + data.sha256 + "|samples=" + std::to_string(samples) +
                             pre + "|threads=" + std::to_string(threads) + "|cpu=" + m.cpu + "|" + m.cpu_id + "|app=" + m.app_version;
    return sha256_hex(text.data(), text.size());
}

std::optional<CachedBaseline> read_cached_baseline(const std::string& dir, const std::string& key) {
    if (key.size() != 64) return std::nullopt;
    const std::string path = dir + "/" + key + ".bin";
    std::vector<uint8_t> b;
    try {
        if (!file_exists(path)) return std::nullopt;
        b = read_file_bytes(path);
    } catch (const Error&) {
        return std::nullopt;
    }
    if (b.size() < kHeader || std::memcmp(b.data(), kMagic, 8) != 0 || unhex(key) != std::vector<uint8_t>(b.begin() + 8, b.begin() + 40))
        return std::nullopt;
    CachedBaseline c;
    c.path = path;
    BaselineOutputs& o = c.outputs;
    size_t at = 40;
    auto get = [&](auto& v) {
        std::memcpy(&v, b.data() + at, sizeof v);
        at += sizeof v;
    };
    get(c.measured_at);
    get(o.samples);
    get(o.classes);
    get(o.threads);
    get(o.throughput_sps);
    get(o.latency_p50_ms);
    // Sizes are checked against the bytes present before anything is allocated.
    if (o.samples <= 0 || o.classes <= 0 || o.classes > (1 << 20) || o.threads < 1 ||
        uint64_t(o.samples) * (4 + 4 * uint64_t(o.classes) + 1) != b.size() - kHeader || !std::isfinite(o.throughput_sps) ||
        !std::isfinite(o.latency_p50_ms))
        return std::nullopt;
    o.argmax.resize(size_t(o.samples));
    o.log_probs.resize(size_t(o.samples) * size_t(o.classes));
    o.correct.resize(size_t(o.samples));
    std::memcpy(o.argmax.data(), b.data() + at, o.argmax.size() * 4);
    at += o.argmax.size() * 4;
    std::memcpy(o.log_probs.data(), b.data() + at, o.log_probs.size() * 4);
    at += o.log_probs.size() * 4;
    std::memcpy(o.correct.data(), b.data() + at, o.correct.size());
    for (int v : o.argmax)
        if (v < 0 || v >= o.classes) return std::nullopt;
    for (uint8_t v : o.correct)
        if (v > 1) return std::nullopt;
    return c;
}

std::string write_cached_baseline(const std::string& dir, const std::string& key, const BaselineOutputs& o) {
    if (key.size() != 64) throw Error("baseline cache: no key (the model has no file hash)");
    if (o.argmax.size() != size_t(o.samples) || o.log_probs.size() != size_t(o.samples) * size_t(o.classes) || o.correct.size() != size_t(o.samples))
        throw Error("baseline cache: inconsistent baseline outputs");
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw Error(dir + ": cannot create the baseline cache directory: " + ec.message());
    std::vector<uint8_t> out(kMagic, kMagic + 8);
    const std::vector<uint8_t> raw = unhex(key);
    out.insert(out.end(), raw.begin(), raw.end());
    put(out, int64_t(std::time(nullptr)));
    put(out, o.samples);
    put(out, o.classes);
    put(out, o.threads);
    put(out, o.throughput_sps);
    put(out, o.latency_p50_ms);
    const auto* a = reinterpret_cast<const uint8_t*>(o.argmax.data());
    out.insert(out.end(), a, a + o.argmax.size() * 4);
    const auto* l = reinterpret_cast<const uint8_t*>(o.log_probs.data());
    out.insert(out.end(), l, l + o.log_probs.size() * 4);
    out.insert(out.end(), o.correct.begin(), o.correct.end());
    const std::string path = dir + "/" + key + ".bin";
    write_file_bytes(path, out);
    return path;
}

} // namespace ss
