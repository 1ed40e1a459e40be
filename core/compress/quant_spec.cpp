// quant_spec.cpp
#include "compress/quant_spec.h"

#include "error.h"

#include <vector>

namespace ss {

int QuantSpec::bits() const {
    switch (scheme) {
    case QuantScheme::None: return 32;
    case QuantScheme::Int8: return 8;
    case QuantScheme::Int4: return 4;
    case QuantScheme::Int3: return 3;
    case QuantScheme::Int2: return 2;
    case QuantScheme::F16:
    case QuantScheme::BF16: return 16;
    }
    return 32;
}

std::string QuantSpec::label() const {
    switch (scheme) {
    case QuantScheme::None: return "none";
    case QuantScheme::F16: return "fp16";
    case QuantScheme::BF16: return "bf16";
    default: break;
    }
    std::string s = "int" + std::to_string(bits());
    if (group) s += ":g" + std::to_string(group);
    if (asym) s += ":asym";
    return s;
}

QuantSpec parse_quant_spec(const std::string& text) {
    const std::string where = "quant '" + text + "'";
    QuantSpec q;
    if (text == "none" || text.empty()) return q;
    if (text == "fp16") return {QuantScheme::F16, 0, false};
    if (text == "bf16") return {QuantScheme::BF16, 0, false};
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
        const size_t c = text.find(':', start);
        parts.push_back(text.substr(start, c == std::string::npos ? std::string::npos : c - start));
        if (c == std::string::npos) break;
        start = c + 1;
    }
    if (parts[0] == "int8") q.scheme = QuantScheme::Int8;
    else if (parts[0] == "int4") q.scheme = QuantScheme::Int4;
    else if (parts[0] == "int3") q.scheme = QuantScheme::Int3;
    else if (parts[0] == "int2") q.scheme = QuantScheme::Int2;
    else throw Error(where + ": unknown scheme (none, int8, int4:gG, int3:gG, int2:gG, fp16, bf16; ':asym' for a zero point)");
    for (size_t i = 1; i < parts.size(); ++i) {
        const std::string& p = parts[i];
        if (p == "asym") {
            q.asym = true;
        } else if (p == "sym") {
            q.asym = false;
        } else if (p.size() > 1 && p[0] == 'g') {
            const std::string g = p.substr(1);
            if (g != "32" && g != "64" && g != "128") throw Error(where + ": group size must be 32, 64 or 128, found " + g);
            q.group = std::stoi(g);
        } else {
            throw Error(where + ": unknown option '" + p + "' (gG or asym)");
        }
    }
    if (q.scheme != QuantScheme::Int8 && q.group == 0)
        throw Error(where + ": " + parts[0] + " needs a group size, e.g. " + parts[0] + ":g32");
    return q;
}

} // namespace ss
