// fuzz_baseline_cache.cpp - libFuzzer target: the baseline cache files (eval --cached-baseline),
// a classifier's (KEY.bin) and a language model's (KEY.lm.bin), read with the key 0xaa x 32. The
// language model's shape is taken from the file's own header so the row checks are reached; every
// row of an accepted file is decoded. Nothing may escape: a bad file is simply not used.
#include "eval/baseline_cache.h"
#include "eval/lm_baseline_cache.h"
#include "fuzz_support.h"

#include <sys/stat.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string dir = fuzz::temp_path("cache");
    mkdir(dir.c_str(), 0700);
    const std::string key(64, 'a');
    if (FILE* f = std::fopen((dir + "/" + key + ".bin").c_str(), "wb")) {
        if (size) std::fwrite(data, 1, size, f);
        std::fclose(f);
    }
    if (auto c = ss::read_cached_baseline(dir, key)) {
        const auto& o = c->outputs;
        if (o.argmax.size() != size_t(o.samples) || o.log_probs.size() != size_t(o.samples) * size_t(o.classes)) std::abort();
    }
    if (FILE* f = std::fopen((dir + "/" + key + ".lm.bin").c_str(), "wb")) {
        if (size) std::fwrite(data, 1, size, f);
        std::fclose(f);
    }
    int32_t shape[3] = {1, 1, 1};
    if (size >= 60) std::memcpy(shape, data + 48, sizeof shape);
    if (auto c = ss::LmBaselineCache::open(dir, key, shape[0], shape[1], shape[2])) {
        std::vector<double> lp;
        for (int ch = 0; ch < shape[0]; ++ch)
            for (int r = 0; r < shape[1]; ++r) {
                c->log_probs(ch, r, lp);
                for (double v : lp)
                    if (!(v <= 1e-9) || !std::isfinite(v)) std::abort(); // log-probabilities, renormalized
                if (c->argmax(ch, r) < 0 || c->argmax(ch, r) >= shape[2] || !(c->nll(ch, r) >= 0)) std::abort();
            }
    }
    return 0;
}
