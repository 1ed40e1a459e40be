// kernel_plan.cpp
#include "kernels/kernel_plan.h"
#include "model/matrices.h"

#include "kernels/blas_setup.h"
#include "kernels/dense_linear.h"
#include "kernels/quant_matmul.h"
#include "kernels/simd_path.h"
#include "eval/machine_info.h"
#include "kernels/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <utility>
#include <vector>

namespace ss {

namespace {

std::atomic<KernelSelection> g_selection{KernelSelection::Measured};

const char* family_name(KernelFamily f) {
    switch (f) {
    case KernelFamily::Dense: return "dense";
    case KernelFamily::Csr: return "csr";
    case KernelFamily::Bsr: return "bsr4";
    case KernelFamily::Nm24: return "nm24";
    case KernelFamily::Quant: return "quant";
    }
    return "dense";
}

bool parse_family(const std::string& s, KernelFamily* f) {
    for (KernelFamily c : {KernelFamily::Dense, KernelFamily::Csr, KernelFamily::Bsr, KernelFamily::Nm24, KernelFamily::Quant})
        if (s == family_name(c)) {
            *f = c;
            return true;
        }
    return false;
}

// --- the per-machine cache: "key \t small \t large" lines ---------------------------------------

std::filesystem::path cache_path() {
    if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::filesystem::path(x) / "sparsescope" / "kernel-choices.tsv";
    if (const char* h = std::getenv("HOME"); h && *h) return std::filesystem::path(h) / ".cache" / "sparsescope" / "kernel-choices.tsv";
    return {};
}

struct Cache {
    std::mutex mutex;
    bool loaded = false;
    std::map<std::string, std::pair<KernelFamily, KernelFamily>> entries;

    void load() {
        if (loaded) return;
        loaded = true;
        std::ifstream f(cache_path());
        std::string line;
        while (std::getline(f, line)) {
            std::istringstream in(line);
            std::string key, a, b;
            KernelFamily fa, fb;
            if (std::getline(in, key, '\t') && std::getline(in, a, '\t') && std::getline(in, b) && parse_family(a, &fa) && parse_family(b, &fb))
                entries[key] = {fa, fb}; // malformed lines are ignored (the cache is only a hint)
        }
    }
    void append(const std::string& key, KernelFamily a, KernelFamily b) {
        entries[key] = {a, b};
        const auto p = cache_path();
        if (p.empty()) return;
        std::error_code ec;
        std::filesystem::create_directories(p.parent_path(), ec);
        std::ofstream f(p, std::ios::app);
        if (f) f << key << '\t' << family_name(a) << '\t' << family_name(b) << '\n'; // a failed write only costs a re-measurement
    }
};

Cache& cache() {
    static Cache c;
    return c;
}

std::string cache_key(const LinearWeights& l, const PreparedMatrix& p, double sparsity) {
    const MachineInfo& m = machine_info();
    std::ostringstream k;
    k << m.cpu << '|' << m.cpu_id << '|' << m.blas << '|' << m.isa << "|threads=" << compute_threads() << '|' << l.out << 'x' << l.in << '|'
      << (l.quant ? l.quant->spec.label() : "f32") << "|sparsity=" << int(std::floor(sparsity * 20.0)) * 5 << "%|csr=" << bool(p.csr) << "|bsr=" << bool(p.bsr) << "|nm24=" << bool(p.nm24);
    return k.str();
}

// --- measurement ---------------------------------------------------------------------------------

void run(const LinearWeights& l, const PreparedMatrix& p, KernelFamily f, const float* x, int n, float* y) {
    LinearWeights probe; // a view of l's kernel copies with one family
    probe.in = l.in;
    probe.out = l.out;
    if (f == KernelFamily::Dense) probe.weight = WeightData::view(nullptr, l.weight.data(), l.weight.size()); // no copy
    probe.bias = WeightData::view(nullptr, l.bias.data(), l.bias.size());
    auto one = std::make_shared<PreparedMatrix>(p);
    one->family_small = one->family_large = f;
    probe.kernels = std::move(one);
    linear_forward(probe, x, n, y);
}

// Reads 8 MiB, so a matrix's weights leave the per-core L2 caches (2 MiB on the development
// machine) as they do in a forward pass, where the other layers' weights pass through in between.
void evict_l2() {
    static std::vector<float> junk(size_t(2) << 20, 1.0f);
    volatile float sink = 0.0f;
    float acc = 0.0f;
    for (size_t i = 0; i < junk.size(); i += 16) acc += junk[i];
    sink = acc;
    (void)sink;
}

double median_ns(const LinearWeights& l, const PreparedMatrix& p, KernelFamily f, const std::vector<float>& x, int n, std::vector<float>& y) {
    using Clock = std::chrono::steady_clock;
    run(l, p, f, x.data(), n, y.data()); // warm-up: thread pool, page faults
    std::vector<double> t;
    for (int rep = 0; rep < 5; ++rep) {
        evict_l2();
        const auto t0 = Clock::now();
        run(l, p, f, x.data(), n, y.data());
        t.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count());
    }
    std::nth_element(t.begin(), t.begin() + 2, t.end());
    return t[2];
}

KernelFamily fastest(const LinearWeights& l, const PreparedMatrix& p, const std::vector<KernelFamily>& candidates, int n) {
    if (candidates.size() == 1) return candidates[0];
    std::mt19937 rng(7);
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> x(size_t(n) * l.in), y(size_t(n) * l.out);
    for (auto& v : x) v = d(rng);
    KernelFamily best = candidates[0];
    double best_ns = 0.0;
    for (KernelFamily f : candidates) {
        const double ns = median_ns(l, p, f, x, n, y);
        if (f == candidates[0] || ns < best_ns) {
            best = f;
            best_ns = ns;
        }
    }
    return best;
}

// The share of 4x1 blocks (four output rows at one column) that are all zero.
double zero_block_share(const LinearWeights& l) {
    const float* w = std::as_const(l.weight).data();
    int64_t zero = 0, total = 0;
    for (int q = 0; q * 4 < l.out; ++q)
        for (int j = 0; j < l.in; ++j, ++total) {
            bool all = true;
            for (int i = 0; i < 4 && q * 4 + i < l.out && all; ++i) all = w[size_t(q * 4 + i) * l.in + j] == 0.0f;
            zero += all;
        }
    return total ? double(zero) / double(total) : 0.0;
}

void plan_matrix(LinearWeights& l) {
    const bool integer = l.quant && qmatrix_supports(*l.quant);
    if (l.weight.empty() && !integer) return;
    PreparedMatrix p;
    const double sparsity = double(count_zero_weights(l)) / double(std::max<int64_t>(1, l.weight_count()));
    const bool csr = sparsity >= (integer ? kCsrMinSparsityQuantized : kCsrMinSparsity);
    if (csr && l.weight.empty()) l.weight = WeightData(dense_weights(l)); // the sparse copy is built from fp32
    if (csr)
        p.csr = std::make_shared<const CsrMatrix>(csr_from_dense(std::as_const(l.weight).data(), l.out, l.in));
    if (integer) p.qmat = std::make_shared<const QMatrix>(qmatrix_from(*l.quant));
    // Blocks are worth it when the zeros come in blocks: at most 1.5x the nonzeros stored.
    if (!integer && p.csr && 1.0 - zero_block_share(l) <= 1.5 * (1.0 - sparsity))
        p.bsr = std::make_shared<const BsrMatrix>(bsr_from_dense(std::as_const(l.weight).data(), l.out, l.in));
    if (!integer && p.csr && fits_nm24(std::as_const(l.weight).data(), l.out, l.in))
        p.nm24 = std::make_shared<const Nm24Matrix>(nm24_from_dense(std::as_const(l.weight).data(), l.out, l.in));
    const KernelFamily base = integer ? KernelFamily::Quant : KernelFamily::Dense;
    std::vector<KernelFamily> candidates{base}; // for batches above kSmallBatchMax
    if (p.csr) candidates.push_back(KernelFamily::Csr);
    if (p.bsr) candidates.push_back(KernelFamily::Bsr);
    std::vector<KernelFamily> small = candidates; // the 2:4 kernel works row by row: small batches only
    if (p.nm24) small.push_back(KernelFamily::Nm24);

    if (small.size() == 1 || kernel_selection() == KernelSelection::Static) {
        p.family_small = small.back();
        p.family_large = candidates.back();
    } else {
        p.measured = true;
        const std::string key = cache_key(l, p, sparsity);
        Cache& c = cache();
        std::unique_lock lock(c.mutex);
        c.load();
        if (auto it = c.entries.find(key); it != c.entries.end()) {
            std::tie(p.family_small, p.family_large) = it->second;
        } else {
            lock.unlock();
            if (integer) l.weight = WeightData(); // measure Quant as it will run: without the fp32 copy
            p.family_small = fastest(l, p, small, 1);
            p.family_large = fastest(l, p, candidates, 32);
            lock.lock();
            c.append(key, p.family_small, p.family_large);
        }
    }
    // Keep only the copies a family uses: integer matrices never keep fp32.
    auto uses = [&](KernelFamily f) { return p.family_small == f || p.family_large == f; };
    const bool uses_base = uses(base);
    if (!uses(KernelFamily::Csr)) p.csr.reset();
    if (!uses(KernelFamily::Bsr)) p.bsr.reset();
    if (!uses(KernelFamily::Nm24)) p.nm24.reset();
    if (integer || !uses_base) l.weight = WeightData();
    if (integer && !uses_base) p.qmat.reset();
    if (p.qmat) { // the integer kernel's copy is now the only one of the codes, scales and zeros
        auto slim = std::make_shared<QuantizedWeights>();
        slim->spec = l.quant->spec;
        slim->out = l.quant->out;
        slim->in = l.quant->in;
        slim->group = l.quant->group;
        l.quant = std::move(slim);
    }
    l.kernels = std::make_shared<const PreparedMatrix>(std::move(p));
}

} // namespace

void set_kernel_selection(KernelSelection s) { g_selection = s; }
KernelSelection kernel_selection() { return g_selection; }

std::string kernel_name(const LinearWeights& l, int batch) {
    const PreparedMatrix& p = prepared(l);
    const std::string q = p.qmat ? (p.qmat->layout_bits == 4 ? "q4" : "q8") : "";
    const bool bf16 = l.weight.bf16_data() != nullptr;
    switch (kernel_for(p, batch)) {
    case Kernel::Sgemv: return bf16 ? "bf16-gemv" : "sgemv";
    case Kernel::Sgemm: return bf16 ? "bf16-tiles" : "sgemm";
    case Kernel::CsrRows: return "csr-rows";
    case Kernel::CsrPanel: return "csr-panel";
    case Kernel::BsrRows: return "bsr4-rows";
    case Kernel::BsrPanel: return "bsr4-panel";
    case Kernel::Nm24Rows: return "nm24-rows";
    case Kernel::QuantDot: return q + "-dot";
    case Kernel::QuantTiles: return q + "-tiles";
    }
    return "?";
}

void plan_kernels(Model& model) {
    // One matrix at a time: its fp32 restored (from codes, CSR or blocks), planned, and whatever its
    // kernels do not use dropped again - never every matrix's fp32 at once.
    // An integer matrix gets fp32 only if a sparse copy is to be built from it (plan_matrix).
    for_each_matrix(model, [](LinearWeights& l) { plan_matrix_kernels(l); });
}

void plan_matrix_kernels(LinearWeights& l) {
    l.quant = quantized_weights_of(l); // codes back from the integer kernel before it goes
    const bool integer = l.quant && qmatrix_supports(*l.quant);
    if (!integer && l.weight.empty() && l.weight_count() > 0) l.weight = WeightData(dense_weights(l));
    if (!integer && l.weight.is_deferred()) { // left uncompressed: runs as dense runs, on fp32 of its own
        const WeightData deferred = l.weight;
        l.weight.data();
        deferred.release_file_pages();
    }
    l.kernels.reset();
    plan_matrix(l);
}

std::string kernel_summary(const Model& model) {
    // "batch 1: 12 csr-rows, 6 sgemv; batch 256: 18 csr-panel" + how the choice was made.
    auto count = [&](int batch) {
        std::map<std::string, int> n;
        for_each_matrix(model, [&](const LinearWeights& l) { ++n[kernel_name(l, batch)]; });
        std::string s;
        for (const auto& [name, k] : n) s += (s.empty() ? "" : ", ") + std::to_string(k) + " " + name;
        return s;
    };
    int measured = 0;
    for_each_matrix(model, [&](const LinearWeights& l) { measured += prepared(l).measured; });
    std::string s = "batch 1: " + count(1) + "; batch 256: " + count(256);
    if (measured) s += " (measured choice for " + std::to_string(measured) + ")";
    return s + "; SIMD " + simd_path_name(simd_path()) + ", integer dot " + qmatmul_isa() + "; OpenBLAS " + blas_core_description();
}

} // namespace ss
