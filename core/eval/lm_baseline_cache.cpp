// lm_baseline_cache.cpp
//
// File layout (little-endian): "SSLMBL01" | 32-byte key (raw SHA-256) | i64 measured_at |
// i32 chunks | i32 rows_per_chunk | i32 vocab | i32 threads | f64 dense_prompt_tps |
// f64 dense_gen_p50_ms | rows: f32 nll | i32 argmax | f32 lo | f32 step | u16 code[vocab]
// (log-probability = lo + code * step).
#include "eval/lm_baseline_cache.h"

#include "error.h"
#include "eval/baseline_cache.h"
#include "eval/machine_info.h"
#include "formats/byte_source.h"
#include "formats/file_io.h"
#include "formats/sha256.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>

#include <unistd.h>

namespace ss {

namespace {

constexpr char kMagic[8] = {'S', 'S', 'L', 'M', 'B', 'L', '0', '1'};
constexpr size_t kHeader = 8 + 32 + 8 + 4 * 4 + 8 * 2;
constexpr size_t kRowHead = 16;

size_t row_bytes(int vocab) { return kRowHead + 2 * size_t(vocab); }

std::vector<uint8_t> unhex(const std::string& hex) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(uint8_t(std::stoi(hex.substr(i, 2), nullptr, 16)));
    return out;
}

template <class T> T get(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
template <class T> void put(uint8_t*& p, T v) {
    std::memcpy(p, &v, sizeof v);
    p += sizeof v;
}

} // namespace

std::string lm_baseline_cache_key(const Model& dense, const TokenData& data, int ctx, int chunks, int gen_tokens, int threads) {
    const std::string model_sha = dense.sha256();
    if (model_sha.empty()) return {};
    const std::string tokens_sha = sha256_hex(data.tokens.data(), data.tokens.size() * sizeof(int32_t));
    const MachineInfo& m = machine_info();
    const std::string text = "sparsescope-lm-baseline-v1|model=" + model_sha + "|tokens=" + tokens_sha + "|ctx=" + std::to_string(ctx) +
                             "|chunks=" + std::to_string(chunks) + "|gen=" + std::to_string(gen_tokens) + "|threads=" + std::to_string(threads) +
                             "|cpu=" + m.cpu + "|" + m.cpu_id + "|app=" + m.app_version;
    return sha256_hex(text.data(), text.size());
}

std::optional<LmBaselineCache> LmBaselineCache::open(const std::string& dir, const std::string& key, int chunks, int rows_per_chunk, int vocab) {
    if (key.size() != 64 || chunks <= 0 || rows_per_chunk <= 0 || vocab <= 0) return std::nullopt;
    LmBaselineCache c;
    c.path = dir + "/" + key + ".lm.bin";
    try {
        if (!file_exists(c.path)) return std::nullopt;
        c.bytes_ = map_file(c.path);
    } catch (const Error&) {
        return std::nullopt;
    }
    const uint8_t* b = c.bytes_->data();
    const size_t size = c.bytes_->size();
    // Sizes first: the file must be exactly the rows its header and the caller's shape announce.
    if (size < kHeader || std::memcmp(b, kMagic, 8) != 0 || unhex(key) != std::vector<uint8_t>(b + 8, b + 40)) return std::nullopt;
    c.measured_at = get<int64_t>(b + 40);
    if (get<int32_t>(b + 48) != chunks || get<int32_t>(b + 52) != rows_per_chunk || get<int32_t>(b + 56) != vocab) return std::nullopt;
    c.threads = get<int32_t>(b + 60);
    c.dense_prompt_tps = get<double>(b + 64);
    c.dense_gen_p50_ms = get<double>(b + 72);
    if (uint64_t(chunks) * uint64_t(rows_per_chunk) * row_bytes(vocab) != size - kHeader || c.threads < 1 || !std::isfinite(c.dense_prompt_tps) ||
        c.dense_prompt_tps <= 0 || !std::isfinite(c.dense_gen_p50_ms) || c.dense_gen_p50_ms < 0)
        return std::nullopt;
    c.chunks_ = chunks;
    c.rows_ = rows_per_chunk;
    c.vocab_ = vocab;
    const float max_step = float(kLmBaselineRange / 65535.0 * 1.001);
    for (int ch = 0; ch < chunks; ++ch) {
        for (int r = 0; r < rows_per_chunk; ++r) {
            const uint8_t* row = c.row_at(ch, r);
            const float nll = get<float>(row), lo = get<float>(row + 8), step = get<float>(row + 12);
            const int32_t top = get<int32_t>(row + 4);
            if (!std::isfinite(nll) || nll < 0 || top < 0 || top >= vocab || !std::isfinite(lo) || lo > 0 || !(step >= 0 && step <= max_step))
                return std::nullopt;
        }
        c.release_chunk(ch);
    }
    return c;
}

const uint8_t* LmBaselineCache::row_at(int chunk, int row) const {
    return bytes_->data() + kHeader + (size_t(chunk) * size_t(rows_) + size_t(row)) * row_bytes(vocab_);
}

void LmBaselineCache::log_probs(int chunk, int row, std::vector<double>& out) const {
    const uint8_t* p = row_at(chunk, row);
    const double lo = get<float>(p + 8), step = get<float>(p + 12);
    out.resize(size_t(vocab_));
    double mx = -1e300;
    for (int i = 0; i < vocab_; ++i) {
        out[size_t(i)] = lo + step * get<uint16_t>(p + kRowHead + 2 * size_t(i));
        mx = std::max(mx, out[size_t(i)]);
    }
    double sum = 0.0;
    for (double v : out) sum += std::exp(v - mx);
    const double lse = mx + std::log(sum);
    for (double& v : out) v -= lse;
}

double LmBaselineCache::nll(int chunk, int row) const { return get<float>(row_at(chunk, row)); }
int LmBaselineCache::argmax(int chunk, int row) const { return get<int32_t>(row_at(chunk, row) + 4); }

void LmBaselineCache::release_chunk(int chunk) const {
    bytes_->release(kHeader + size_t(chunk) * size_t(rows_) * row_bytes(vocab_), size_t(rows_) * row_bytes(vocab_));
}

LmBaselineWriter::LmBaselineWriter(std::string dir, std::string key, int chunks, int rows_per_chunk, int vocab, int threads)
    : dir_(std::move(dir)), key_(std::move(key)), chunks_(chunks), rows_(rows_per_chunk), vocab_(vocab), threads_(threads), row_(row_bytes(vocab)) {
    if (key_.size() != 64) throw Error("language-model baseline cache: no key (the model has no file hash)");
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) throw Error(dir_ + ": cannot create the baseline cache directory: " + ec.message());
    tmp_ = dir_ + "/" + key_ + ".lm.bin.tmp." + std::to_string(::getpid());
    f_ = std::fopen(tmp_.c_str(), "wb");
    if (!f_) throw Error(tmp_ + ": cannot create: " + std::strerror(errno));
    std::vector<uint8_t> header(kHeader, 0); // completed by finish
    if (std::fwrite(header.data(), 1, header.size(), f_) != header.size()) throw Error(tmp_ + ": write failed: " + std::strerror(errno));
}

LmBaselineWriter::~LmBaselineWriter() {
    if (f_) {
        std::fclose(f_);
        std::remove(tmp_.c_str());
    }
}

void LmBaselineWriter::add_row(const double* lp, double nll, int argmax) {
    double mx = lp[0], mn = lp[0];
    for (int i = 1; i < vocab_; ++i) {
        mx = std::max(mx, lp[i]);
        mn = std::min(mn, lp[i]);
    }
    const double lo = std::max(mn, mx - kLmBaselineRange);
    const float step = mx > lo ? float((mx - lo) / 65535.0) : 0.0f;
    uint8_t* p = row_.data();
    put(p, float(nll));
    put(p, int32_t(argmax));
    put(p, float(lo));
    put(p, step);
    for (int i = 0; i < vocab_; ++i) {
        const double v = std::clamp(lp[i], lo, mx);
        const long q = step > 0 ? std::lround((v - lo) / double(step)) : 0;
        put(p, uint16_t(std::min(q, 65535L)));
    }
    if (std::fwrite(row_.data(), 1, row_.size(), f_) != row_.size()) throw Error(tmp_ + ": write failed: " + std::strerror(errno));
    ++added_;
}

std::string LmBaselineWriter::finish(double dense_prompt_tps, double dense_gen_p50_ms) {
    if (added_ != int64_t(chunks_) * rows_)
        throw Error(tmp_ + ": " + std::to_string(added_) + " rows written, " + std::to_string(int64_t(chunks_) * rows_) + " announced");
    std::vector<uint8_t> header(kHeader);
    uint8_t* p = header.data();
    std::memcpy(p, kMagic, 8);
    p += 8;
    const std::vector<uint8_t> raw = unhex(key_);
    std::memcpy(p, raw.data(), 32);
    p += 32;
    put(p, int64_t(std::time(nullptr)));
    put(p, int32_t(chunks_));
    put(p, int32_t(rows_));
    put(p, int32_t(vocab_));
    put(p, int32_t(threads_));
    put(p, dense_prompt_tps);
    put(p, dense_gen_p50_ms);
    const bool ok = std::fseek(f_, 0, SEEK_SET) == 0 && std::fwrite(header.data(), 1, header.size(), f_) == header.size();
    const bool closed = std::fclose(f_) == 0;
    f_ = nullptr;
    const std::string path = dir_ + "/" + key_ + ".lm.bin";
    if (!ok || !closed || std::rename(tmp_.c_str(), path.c_str()) != 0) {
        std::remove(tmp_.c_str());
        throw Error(path + ": cannot write the language-model baseline cache: " + std::strerror(errno));
    }
    return path;
}

} // namespace ss
