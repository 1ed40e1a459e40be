// sweep_grid.cpp
#include "eval/sweep_grid.h"

#include "error.h"

#include <cstdlib>
#include <set>

namespace ss {

namespace {

std::vector<std::string> split(const std::string& list, const std::string& what) {
    std::vector<std::string> out;
    std::string item;
    auto flush = [&] {
        const size_t a = item.find_first_not_of(" \t"), b = item.find_last_not_of(" \t");
        if (a == std::string::npos) throw Error("sweep " + what + " '" + list + "': empty item (write items separated by commas)");
        out.push_back(item.substr(a, b - a + 1));
        item.clear();
    };
    for (char c : list) {
        if (c == ',') flush();
        else item += c;
    }
    flush();
    return out;
}

std::string prune_flag(const std::string& method, double sparsity) {
    if (method == "none" || sparsity == 0.0) return "none";
    if (method.rfind("nm:", 0) == 0) return method;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", sparsity);
    if (method == "magnitude:block4") return std::string("magnitude:") + buf + ":block4";
    if (method == "magnitude-layer:block4") return std::string("magnitude-layer:") + buf + ":block4";
    return method + ":" + buf;
}

} // namespace

SweepGrid parse_sweep_grid(const std::string& methods, const std::string& sparsities, const std::string& quants, const std::string& top_ks) {
    SweepGrid g;
    g.methods = split(methods, "methods");
    for (const std::string& m : g.methods) parse_prune_spec(prune_flag(m, 0.5)); // throws for an unknown method
    for (const std::string& s : split(sparsities, "sparsities")) {
        char* end = nullptr;
        const double v = std::strtod(s.c_str(), &end);
        if (*end != '\0' || !(v >= 0.0 && v < 1.0)) throw Error("sweep sparsities: '" + s + "' must be a number in [0, 1)");
        g.sparsities.push_back(v);
    }
    g.quants = split(quants, "quantization");
    for (const std::string& q : g.quants) parse_quant_spec(q);
    for (const std::string& k : split(top_ks, "top-k")) {
        char* end = nullptr;
        const long v = std::strtol(k.c_str(), &end, 10);
        if (*end != '\0' || v < 0 || v > 1024) throw Error("sweep top-k: '" + k + "' must be 0 (the model's own) or a positive integer");
        g.top_ks.push_back(int(v));
    }
    return g;
}

std::vector<CompressionPlan> expand_sweep(const SweepGrid& grid) {
    std::vector<CompressionPlan> out;
    std::set<std::string> seen;
    for (const std::string& m : grid.methods)
        for (double s : grid.sparsities)
            for (const std::string& q : grid.quants)
                for (int k : grid.top_ks) {
                    CompressionPlan p = plan_from_flags(prune_flag(m, s), q, k);
                    if (seen.insert(p.to_json()).second) out.push_back(std::move(p));
                }
    return out;
}

std::string sweep_grid_key(const CompressionPlan& plan, const std::string& model_sha256, const std::string& dataset_sha256,
                           int sample_limit) {
    return plan.to_json() + "|model:" + model_sha256 + "|data:" + dataset_sha256 + "|samples:" + std::to_string(sample_limit);
}

SweepShard parse_sweep_shard(const std::string& text) {
    const size_t slash = text.find('/');
    auto number = [&](const std::string& s) {
        if (s.empty() || s.size() > 6 || s.find_first_not_of("0123456789") != std::string::npos)
            throw Error("--shard '" + text + "': expected I/N with whole numbers, e.g. 0/4");
        return std::stoi(s);
    };
    if (slash == std::string::npos) throw Error("--shard '" + text + "': expected I/N, e.g. 0/4 (the first of four shards)");
    SweepShard s{number(text.substr(0, slash)), number(text.substr(slash + 1))};
    if (s.count < 1) throw Error("--shard '" + text + "': N must be at least 1");
    if (s.index >= s.count) throw Error("--shard '" + text + "': I counts from 0 and must be below N (0.." + std::to_string(s.count - 1) + ")");
    return s;
}

} // namespace ss
