// duplicates.cpp - exact duplicates by value hash, near duplicates by dHash then pixels (duplicates.h).
#include "data/duplicates.h"

#include "data/difference_hash.h"
#include "error.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>
#include <unordered_map>

namespace ss {

namespace {

uint64_t value_hash(const float* v, int n) { // FNV-1a over the values' bytes
    uint64_t h = 0xcbf29ce484222325ull;
    const auto* p = reinterpret_cast<const unsigned char*>(v);
    for (size_t i = 0; i < size_t(n) * sizeof(float); ++i) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

double rms_difference(const float* a, const float* b, int n) {
    double s = 0.0;
    for (int i = 0; i < n; ++i) {
        const double d = double(a[i]) - double(b[i]);
        s += d * d;
    }
    return std::sqrt(s / std::max(1, n));
}

// Pairs kept for viewing: exact first, then the closest.
bool closer(const DuplicatePair& x, const DuplicatePair& y) {
    if (x.exact != y.exact) return x.exact;
    if (x.rms != y.rms) return x.rms < y.rms;
    return x.a != y.a ? x.a < y.a : x.b < y.b;
}

void keep_closest(std::vector<DuplicatePair>& pairs, size_t n) {
    if (pairs.size() <= n) return;
    std::nth_element(pairs.begin(), pairs.begin() + ptrdiff_t(n), pairs.end(), closer);
    pairs.resize(n);
}

struct Partial {
    int64_t candidates = 0, near = 0, conflicts = 0;
    std::vector<DuplicatePair> pairs;
};

// Hamming-distance scan of one block of rows: hashes a[i] for i in [lo, hi) against b[j] for j in
// [j0(i), nb). popcnt is in every x86-64 processor since 2008; the portable loop stays for others.
template <class Visit>
__attribute__((target("popcnt"))) void scan_popcnt(const uint64_t* a, int lo, int hi, const uint64_t* b, int nb, bool triangle,
                                                   int max_hamming, Visit&& visit) {
    for (int i = lo; i < hi; ++i) {
        const uint64_t h = a[i];
        for (int j = triangle ? i + 1 : 0; j < nb; ++j)
            if (__builtin_popcountll(h ^ b[j]) <= max_hamming) visit(i, j, __builtin_popcountll(h ^ b[j]));
    }
}

template <class Visit>
void scan_portable(const uint64_t* a, int lo, int hi, const uint64_t* b, int nb, bool triangle, int max_hamming, Visit&& visit) {
    for (int i = lo; i < hi; ++i)
        for (int j = triangle ? i + 1 : 0; j < nb; ++j)
            if (hamming_distance(a[i], b[j]) <= max_hamming) visit(i, j, hamming_distance(a[i], b[j]));
}

// One implementation for both questions: `b` null means pairs within `a`.
DuplicateReport compare(const Dataset& a, const Dataset* b, const DuplicateOptions& o, const std::string& a_name, const std::string& b_name) {
    const Dataset& other = b ? *b : a;
    if (b && a.features != b->features)
        throw Error(a.source_path + " and " + b->source_path + ": samples of " + std::to_string(a.features) + " and " +
                    std::to_string(b->features) + " values cannot be compared for leakage (they must have the same size)");
    if (o.max_hamming < 0 || o.max_hamming > 64) throw Error("duplicates: max_hamming " + std::to_string(o.max_hamming) + " outside 0..64");
    DuplicateReport r;
    r.first = a_name;
    r.second = b ? b_name : "";
    r.first_count = a.count;
    r.second_count = b ? b->count : 0;
    const int n = a.features;
    std::vector<uint8_t> affected(size_t(a.count), 0);
    std::vector<DuplicatePair> pairs;

    // Exact: the other split's samples by value hash; equal hashes confirmed value by value.
    std::vector<uint64_t> ha(size_t(a.count)), hb;
    for (int i = 0; i < a.count; ++i) ha[size_t(i)] = value_hash(a.sample(i), n);
    if (b) {
        hb.resize(size_t(b->count));
        for (int j = 0; j < b->count; ++j) hb[size_t(j)] = value_hash(b->sample(j), n);
    }
    const std::vector<uint64_t>& hother = b ? hb : ha;
    std::unordered_multimap<uint64_t, int> index;
    index.reserve(hother.size());
    for (int j = 0; j < other.count; ++j) index.emplace(hother[size_t(j)], j);
    auto identical = [&](int i, int j) { return std::memcmp(a.sample(i), other.sample(j), size_t(n) * sizeof(float)) == 0; };
    for (int i = 0; i < a.count; ++i) {
        const auto [lo, hi] = index.equal_range(ha[size_t(i)]);
        for (auto it = lo; it != hi; ++it) {
            const int j = it->second;
            if ((!b && j <= i) || !identical(i, j)) continue;
            ++r.exact_pairs;
            const bool same = a.labels[size_t(i)] == other.labels[size_t(j)];
            r.label_conflicts += same ? 0 : 1;
            affected[size_t(i)] = 1;
            if (!b) affected[size_t(j)] = 1;
            pairs.push_back({i, j, true, 0, 0.0, same});
            keep_closest(pairs, size_t(4) * size_t(std::max(1, o.max_pairs)) + 1024);
        }
    }

    // Near: square images only.
    r.image_side = square_image_side(a);
    r.images = r.image_side > 0;
    if (r.images) {
        float lo = 0.0f, hi = 0.0f;
        for (const Dataset* d : {&a, &other})
            if (!d->raw.empty()) {
                const auto [mn, mx] = std::minmax_element(d->raw.begin(), d->raw.end());
                lo = std::min(lo, *mn);
                hi = std::max(hi, *mx);
            }
        const double range = hi > lo ? double(hi) - double(lo) : 1.0;
        r.rms_limit = o.max_rms * range;
        const int side = r.image_side;
        auto dhashes = [&](const Dataset& d) {
            std::vector<uint64_t> h(size_t(d.count));
            for (int i = 0; i < d.count; ++i) h[size_t(i)] = difference_hash(d.sample(i), side, side);
            return h;
        };
        const std::vector<uint64_t> da = dhashes(a), db = b ? dhashes(*b) : std::vector<uint64_t>();
        const std::vector<uint64_t>& dother = b ? db : da;
        const int threads = std::max(1, std::min(o.threads, 64));
        std::vector<Partial> parts(static_cast<size_t>(threads));
        std::vector<std::vector<uint8_t>> part_affected(size_t(threads), std::vector<uint8_t>(size_t(a.count), 0));
        // Rows split so each thread has about the same number of pairs (the triangle thins out).
        std::vector<int> bounds(size_t(threads) + 1, a.count);
        bounds[0] = 0;
        for (int t = 1; t < threads; ++t) {
            const double f = double(t) / threads;
            bounds[size_t(t)] = b ? int(f * a.count) : int(a.count * (1.0 - std::sqrt(1.0 - f)));
        }
        const bool has_popcnt = __builtin_cpu_supports("popcnt");
        auto work = [&](int t) {
            Partial& p = parts[size_t(t)];
            std::vector<uint8_t>& aff = part_affected[size_t(t)];
            auto visit = [&](int i, int j, int hamming) {
                if (ha[size_t(i)] == hother[size_t(j)] && identical(i, j)) return; // exact, counted above
                ++p.candidates;
                const double rms = rms_difference(a.sample(i), other.sample(j), n);
                if (rms > r.rms_limit) return;
                ++p.near;
                const bool same = a.labels[size_t(i)] == other.labels[size_t(j)];
                p.conflicts += same ? 0 : 1;
                aff[size_t(i)] = 1;
                if (!b) aff[size_t(j)] = 1;
                p.pairs.push_back({i, j, false, hamming, rms, same});
                keep_closest(p.pairs, size_t(4) * size_t(std::max(1, o.max_pairs)) + 1024);
            };
            if (has_popcnt)
                scan_popcnt(da.data(), bounds[size_t(t)], bounds[size_t(t) + 1], dother.data(), other.count, !b, o.max_hamming, visit);
            else
                scan_portable(da.data(), bounds[size_t(t)], bounds[size_t(t) + 1], dother.data(), other.count, !b, o.max_hamming, visit);
        };
        std::vector<std::thread> pool;
        for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
        work(0);
        for (std::thread& th : pool) th.join();
        for (int t = 0; t < threads; ++t) {
            const Partial& p = parts[size_t(t)];
            r.near_candidates += p.candidates;
            r.near_pairs += p.near;
            r.label_conflicts += p.conflicts;
            pairs.insert(pairs.end(), p.pairs.begin(), p.pairs.end());
            for (int i = 0; i < a.count; ++i) affected[size_t(i)] |= part_affected[size_t(t)][size_t(i)];
        }
    }
    r.first_affected = int(std::count(affected.begin(), affected.end(), uint8_t(1)));
    keep_closest(pairs, size_t(std::max(0, o.max_pairs)));
    std::sort(pairs.begin(), pairs.end(), closer);
    r.pairs = std::move(pairs);
    return r;
}

} // namespace

int square_image_side(const Dataset& d) {
    const int side = int(std::lround(std::sqrt(double(d.features))));
    return side >= 8 && side * side == d.features ? side : 0;
}

DuplicateReport find_duplicates(const Dataset& d, const DuplicateOptions& options, const std::string& name) {
    return compare(d, nullptr, options, name, "");
}

DuplicateReport find_leakage(const Dataset& test, const Dataset& train, const DuplicateOptions& options, const std::string& test_name,
                             const std::string& train_name) {
    return compare(test, &train, options, test_name, train_name);
}

} // namespace ss
