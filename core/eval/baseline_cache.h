// baseline_cache.h - the dense model's outputs and speed on a dataset, kept on disk, so that a
// compressed evaluation need not hold the dense model in memory (eval --cached-baseline).
//
// One file per (model SHA-256, dataset SHA-256, samples, preprocessing, compute threads, CPU,
// app version): BaselineOutputs as compute_baseline measured them - argmax, log-probabilities and
// correctness per sample, throughput and batch-1 latency - with the time of that measurement.
// Files live in $XDG_CACHE_HOME/sparsescope/baselines (else ~/.cache/...). A file that does not
// match its key, is truncated or holds values out of range is ignored (and replaced), never used.
#pragma once

#include "data/dataset.h"
#include "eval/baseline_comparison.h"
#include "model/model.h"

#include <cstdint>
#include <optional>
#include <string>

namespace ss {

struct CachedBaseline {
    BaselineOutputs outputs;
    int64_t measured_at = 0; // Unix seconds
    std::string path;        // the cache file
};

// The cache directory: $XDG_CACHE_HOME/sparsescope/baselines, else $HOME/.cache/sparsescope/baselines.
std::string baseline_cache_dir();

// Hex SHA-256 naming the cache file of this measurement. Empty when the model has no file hash
// (built in memory): such baselines are not cached.
std::string baseline_cache_key(const Model& dense, const Dataset& data, int samples, int threads);

// The cached baseline for `key` in `dir`, if a valid one is there.
std::optional<CachedBaseline> read_cached_baseline(const std::string& dir, const std::string& key);

// Writes it (to a temporary file, renamed into place). Throws ss::Error naming the file.
std::string write_cached_baseline(const std::string& dir, const std::string& key, const BaselineOutputs& b);

} // namespace ss
