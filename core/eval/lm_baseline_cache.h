// lm_baseline_cache.h - the dense language model's next-token distributions and speed on one
// evaluation, kept on disk, so that a compressed evaluation needs neither the dense model in
// memory nor its time (eval --cached-baseline on a language model).
//
// One file per (model SHA-256, the token ids, ctx, chunks, generation steps, compute threads, CPU,
// app version), in the classifier baselines' directory (baseline_cache_dir). Per scored position
// (chunk c, positions ctx/2 .. ctx-2 as lm_evaluate scores them): the dense NLL of the next token
// and the dense top-1 token exactly, and the log-probabilities of the whole vocabulary as 16-bit
// codes over [max - 32, max] nats (step 4.9e-4; below that floor, probabilities < 1.3e-14 are
// stored as the floor), as llama.cpp's KL-divergence base file keeps them. Reading renormalizes
// the decoded row, so KL(dense || compressed) from the cache differs from the side-by-side value
// by about step x the mean |log-ratio| (tested: within 1 % relative or 1e-4 nats).
// Also the dense prompt tokens/s (median over chunks) and generation ms per token (median).
// A file that does not match its key or shape, or holds values out of range, is not used.
#pragma once

#include "data/token_data.h"
#include "model/model.h"

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ss {

class ByteSource;

inline constexpr double kLmBaselineRange = 32.0; // nats of log-probability below each row's maximum kept

// Hex SHA-256 naming the file; empty when the model has no file hash.
std::string lm_baseline_cache_key(const Model& dense, const TokenData& data, int ctx, int chunks, int gen_tokens, int threads);

class LmBaselineCache {
public:
    // The cached baseline for `key` with this shape, if a valid one is in `dir`.
    static std::optional<LmBaselineCache> open(const std::string& dir, const std::string& key, int chunks, int rows_per_chunk, int vocab);

    // Row `row` (0 .. rows_per_chunk - 1) of chunk `chunk`: the dense log-probabilities (vocab),
    // decoded and renormalized; the dense NLL of the next token and the dense top-1.
    void log_probs(int chunk, int row, std::vector<double>& out) const;
    double nll(int chunk, int row) const;
    int argmax(int chunk, int row) const;
    // Gives the mapped pages of a chunk back once it has been compared.
    void release_chunk(int chunk) const;

    double dense_prompt_tps = 0.0, dense_gen_p50_ms = 0.0;
    int threads = 1;
    int64_t measured_at = 0; // Unix seconds
    std::string path;

private:
    const uint8_t* row_at(int chunk, int row) const;
    std::shared_ptr<const ByteSource> bytes_;
    int chunks_ = 0, rows_ = 0, vocab_ = 0;
};

// Writes a cache file as the evaluation goes (to PATH.tmp, renamed into place by finish).
class LmBaselineWriter {
public:
    LmBaselineWriter(std::string dir, std::string key, int chunks, int rows_per_chunk, int vocab, int threads);
    ~LmBaselineWriter();
    LmBaselineWriter(const LmBaselineWriter&) = delete;
    LmBaselineWriter& operator=(const LmBaselineWriter&) = delete;

    // One scored position, in order: the dense log-probabilities (vocab), its next-token NLL and top-1.
    void add_row(const double* log_probs, double nll, int argmax);
    // Completes the file; returns its path. Throws ss::Error naming the file when it cannot be
    // written or fewer rows than announced were added.
    std::string finish(double dense_prompt_tps, double dense_gen_p50_ms);

private:
    std::string dir_, key_, tmp_;
    std::FILE* f_ = nullptr;
    int chunks_, rows_, vocab_, threads_;
    int64_t added_ = 0;
    std::vector<uint8_t> row_;
};

} // namespace ss
