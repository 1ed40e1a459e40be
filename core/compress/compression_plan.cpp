// compression_plan.cpp
#include "compress/compression_plan.h"

#include "error.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>

namespace ss {

namespace {

using nlohmann::json;

double parse_fraction(const std::string& s, const std::string& where) {
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !(v >= 0.0 && v < 1.0)) throw Error(where + ": sparsity must be a number in [0, 1), found '" + s + "'");
    return v;
}

int parse_int(const std::string& s, const std::string& where, const char* what) {
    char* end = nullptr;
    const long v = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || v < 1 || v > 1 << 20) throw Error(where + ": " + what + " must be a positive integer, found '" + s + "'");
    return int(v);
}

std::string fraction_text(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
}

} // namespace

std::string PruneSpec::label() const {
    switch (method) {
    case PruneMethod::None: return "none";
    case PruneMethod::Magnitude: return "magnitude:" + fraction_text(sparsity) + (block == 4 ? ":block4" : "");
    case PruneMethod::MagnitudeLayer: return "magnitude-layer:" + fraction_text(sparsity) + (block == 4 ? ":block4" : "");
    case PruneMethod::NM: return "nm:" + std::to_string(n) + ":" + std::to_string(m);
    case PruneMethod::Neurons: return "neurons:" + fraction_text(sparsity);
    case PruneMethod::Wanda: return "wanda:" + fraction_text(sparsity);
    }
    return "none";
}

PruneSpec parse_prune_spec(const std::string& text) {
    const std::string where = "prune '" + text + "'";
    PruneSpec p;
    if (text.empty() || text == "none") return p;
    const size_t colon = text.find(':');
    const std::string method = text.substr(0, colon), rest = colon == std::string::npos ? "" : text.substr(colon + 1);
    if (method == "magnitude") p.method = PruneMethod::Magnitude;
    else if (method == "magnitude-layer") p.method = PruneMethod::MagnitudeLayer;
    else if (method == "neurons") p.method = PruneMethod::Neurons;
    else if (method == "wanda") p.method = PruneMethod::Wanda;
    else if (method == "nm") p.method = PruneMethod::NM;
    else
        throw Error(where + ": unknown method (magnitude:S[:block4], magnitude-layer:S[:block4], nm:N:M, neurons:S, wanda:S, none; "
                            "experts:K or experts:NAME,... drop experts: as --prune, or drop_experts in a plan file)");
    if (p.method == PruneMethod::NM) {
        const size_t c2 = rest.find(':');
        if (c2 == std::string::npos) throw Error(where + ": expected nm:N:M, e.g. nm:2:4");
        p.n = parse_int(rest.substr(0, c2), where, "N");
        p.m = parse_int(rest.substr(c2 + 1), where, "M");
        if (p.n > p.m) throw Error(where + ": N = " + std::to_string(p.n) + " must not exceed M = " + std::to_string(p.m));
        if (p.m > 256) throw Error(where + ": M must be at most 256");
        return p;
    }
    std::string fraction = rest;
    if (const size_t c2 = rest.find(':'); c2 != std::string::npos) {
        const std::string option = rest.substr(c2 + 1);
        if ((p.method != PruneMethod::Magnitude && p.method != PruneMethod::MagnitudeLayer) || option != "block4")
            throw Error(where + ": unknown option '" + option + "' (only magnitude:S:block4 and magnitude-layer:S:block4 take one)");
        p.block = 4;
        fraction = rest.substr(0, c2);
    }
    p.sparsity = parse_fraction(fraction, where);
    return p;
}

bool CompressionPlan::needs_calibration() const {
    if (prune.method == PruneMethod::Wanda || drop_experts > 0 || quant_by_use.enabled) return true;
    for (const auto& [name, o] : layers)
        if (o.prune && o.prune->method == PruneMethod::Wanda) return true;
    return false;
}

bool CompressionPlan::is_identity() const {
    return prune.method == PruneMethod::None && quant.scheme == QuantScheme::None && drop_experts == 0 && drop_expert_names.empty() &&
           top_k == 0 && top_k_per_layer.empty() && layers.empty() && !quant_by_use.enabled;
}

std::string CompressionPlan::prune_label() const {
    std::string s = prune.label();
    bool overrides = false;
    for (const auto& [name, o] : layers) overrides |= bool(o.prune);
    if (overrides) s += " (+layers)";
    if (drop_experts) s += ", drop " + std::to_string(drop_experts) + " experts";
    if (!drop_expert_names.empty()) s += ", drop " + std::to_string(drop_expert_names.size()) + " named experts";
    return s;
}

std::string CompressionPlan::quant_label() const {
    std::string s = quant.label();
    bool overrides = false;
    for (const auto& [name, o] : layers) overrides |= bool(o.quant);
    if (overrides) s += " (+layers)";
    if (quant_by_use.enabled) s += " (+by use)";
    return s;
}

std::string CompressionPlan::summary() const {
    std::string s = "prune " + prune_label() + ", quant " + quant_label();
    if (top_k) s += ", top-" + std::to_string(top_k);
    return s;
}

std::string CompressionPlan::to_json() const {
    json j = json::object();
    j["prune"] = prune.label();
    j["quant"] = quant.label();
    if (drop_experts) j["drop_experts"] = drop_experts;
    if (!drop_expert_names.empty()) j["drop_experts"] = drop_expert_names;
    if (!top_k_per_layer.empty()) {
        j["top_k"] = top_k_per_layer;
        if (top_k) j["top_k"]["*"] = top_k;
    } else if (top_k) {
        j["top_k"] = top_k;
    }
    if (!layers.empty()) {
        json l = json::object();
        for (const auto& [name, o] : layers) {
            json e = json::object();
            if (o.prune) e["prune"] = o.prune->label();
            if (o.quant) e["quant"] = o.quant->label();
            l[name] = e;
        }
        j["layers"] = l;
    }
    if (quant_by_use.enabled)
        j["quant_experts_by_use"] = {{"high", quant_by_use.high.label()}, {"low", quant_by_use.low.label()},
                                     {"high_share", quant_by_use.high_share}, {"low_share", quant_by_use.low_share}};
    if (needs_calibration()) j["calibration_samples"] = calibration_samples;
    return j.dump();
}

CompressionPlan parse_compression_plan(const std::string& text, const std::string& where) {
    json j;
    try {
        j = json::parse(text);
    } catch (const std::exception& e) {
        throw Error(where + ": not valid JSON: " + e.what());
    }
    if (!j.is_object()) throw Error(where + ": a plan is a JSON object");
    auto str = [&](const json& v, const std::string& key) {
        if (!v.is_string()) throw Error(where + ": '" + key + "' must be a string in the flag form");
        return v.get<std::string>();
    };
    auto wrap = [&](const std::string& key, auto&& f) {
        try {
            return f();
        } catch (const Error& e) {
            throw Error(where + ": '" + key + "': " + e.what());
        }
    };
    // An integer in lo..hi, checked before it is narrowed: JSON's 4294967297 must not become 1.
    auto integer = [&](const json& v, const std::string& key, int lo, int hi) {
        const bool in_range = (v.is_number_unsigned() && v.get<uint64_t>() <= uint64_t(hi) && int64_t(v.get<uint64_t>()) >= lo) ||
                              (v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() >= lo && v.get<int64_t>() <= hi);
        if (!in_range)
            throw Error(where + ": '" + key + "' = " + v.dump() + " must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi));
        return int(v.get<int64_t>());
    };
    constexpr int kMaxExperts = 1 << 16;
    CompressionPlan p;
    for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string& key = it.key();
        const json& v = it.value();
        if (key == "prune") {
            p.prune = wrap(key, [&] { return parse_prune_spec(str(v, key)); });
        } else if (key == "quant") {
            p.quant = wrap(key, [&] { return parse_quant_spec(str(v, key)); });
        } else if (key == "drop_experts") {
            if (v.is_number()) p.drop_experts = integer(v, key, 0, kMaxExperts);
            else if (v.is_array())
                for (const auto& n : v) p.drop_expert_names.push_back(str(n, key));
            else throw Error(where + ": 'drop_experts' must be a count or a list of expert names like \"moe.3\"");
        } else if (key == "top_k") {
            if (v.is_number()) p.top_k = integer(v, key, 1, kMaxExperts);
            else if (v.is_object())
                for (auto t = v.begin(); t != v.end(); ++t) {
                    const int k = integer(t.value(), "top_k." + t.key(), 1, kMaxExperts);
                    if (t.key() == "*") p.top_k = k;
                    else p.top_k_per_layer[t.key()] = k;
                }
            else throw Error(where + ": 'top_k' must be a positive integer or an object {layer: k}");
        } else if (key == "layers") {
            if (!v.is_object()) throw Error(where + ": 'layers' must be an object {layer name: {prune, quant}}");
            for (auto l = v.begin(); l != v.end(); ++l) {
                LayerOverride o;
                if (!l.value().is_object()) throw Error(where + ": 'layers." + l.key() + "' must be an object");
                for (auto f = l.value().begin(); f != l.value().end(); ++f) {
                    const std::string k = "layers." + l.key() + "." + f.key();
                    if (f.key() == "prune") o.prune = wrap(k, [&] { return parse_prune_spec(str(f.value(), k)); });
                    else if (f.key() == "quant") o.quant = wrap(k, [&] { return parse_quant_spec(str(f.value(), k)); });
                    else throw Error(where + ": unknown key '" + k + "' (prune, quant)");
                }
                if (o.prune && o.prune->method == PruneMethod::Magnitude)
                    throw Error(where + ": 'layers." + l.key() + ".prune': global magnitude cannot be a per-layer override; use magnitude-layer:S");
                p.layers[l.key()] = o;
            }
        } else if (key == "quant_experts_by_use") {
            if (!v.is_object() || !v.contains("high") || !v.contains("low"))
                throw Error(where + ": 'quant_experts_by_use' needs \"high\" and \"low\" schemes");
            p.quant_by_use.enabled = true;
            p.quant_by_use.high = wrap(key + ".high", [&] { return parse_quant_spec(str(v["high"], key + ".high")); });
            p.quant_by_use.low = wrap(key + ".low", [&] { return parse_quant_spec(str(v["low"], key + ".low")); });
            for (const char* k : {"high_share", "low_share"})
                if (v.contains(k)) {
                    if (!v[k].is_number() || v[k].get<double>() < 0 || v[k].get<double>() > 1)
                        throw Error(where + ": 'quant_experts_by_use." + k + "' must be a share in [0, 1]");
                    (std::string(k) == "high_share" ? p.quant_by_use.high_share : p.quant_by_use.low_share) = v[k].get<double>();
                }
        } else if (key == "calibration_samples") {
            p.calibration_samples = integer(v, key, 1, 1000000);
        } else {
            throw Error(where + ": unknown key '" + key + "' (prune, quant, drop_experts, top_k, layers, quant_experts_by_use, calibration_samples)");
        }
    }
    return p;
}

CompressionPlan plan_from_flags(const std::string& prune, const std::string& quant, int top_k) {
    CompressionPlan p;
    p.prune = parse_prune_spec(prune);
    p.quant = parse_quant_spec(quant);
    p.top_k = top_k;
    return p;
}

} // namespace ss
