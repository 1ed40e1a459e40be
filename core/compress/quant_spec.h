// quant_spec.h - how one weight matrix is quantized, in the flag grammar users type:
//   none | int8 | int8:gG | int4:gG | int3:gG | int2:gG [":asym"] | fp16 | bf16
// int8 without a group is per output channel (one scale per row). Group sizes G are 32, 64 or 128,
// along the input dimension; a last group shorter than G (when G does not divide the input
// dimension) has its own scale over the values it has.
#pragma once

#include <string>

namespace ss {

enum class QuantScheme { None, Int8, Int4, Int3, Int2, F16, BF16 };

struct QuantSpec {
    QuantScheme scheme = QuantScheme::None;
    int group = 0;     // 0: per output channel (int8 only); else 32, 64 or 128
    bool asym = false; // integer schemes: a zero point per group

    int bits() const;         // 32 for none, 8/4/3/2, 16 for fp16/bf16
    bool is_integer() const { return scheme == QuantScheme::Int8 || scheme == QuantScheme::Int4 || scheme == QuantScheme::Int3 || scheme == QuantScheme::Int2; }
    std::string label() const; // the flag form, e.g. "int4:g32:asym"
    bool operator==(const QuantSpec&) const = default;
};

// Parses the flag form; throws ss::Error("quant 'TEXT': ...") naming the rule broken.
QuantSpec parse_quant_spec(const std::string& text);

} // namespace ss
