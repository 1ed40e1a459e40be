// text_noise.cpp - letter substitutions, deletions, insertions and swaps (text_noise.h).
#include "data/text_noise.h"

#include "error.h"

#include <cctype>

namespace ss {

namespace {
uint64_t mix(uint64_t z) { // splitmix64's finalizer
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
bool letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char random_letter(uint64_t r, bool upper) { return char((upper ? 'A' : 'a') + int(r % 26)); }
} // namespace

std::string add_typos(const std::string& text, double rate, uint64_t seed) {
    if (!(rate >= 0.0 && rate <= 1.0)) throw Error("typo rate " + std::to_string(rate) + " outside 0..1");
    std::string out;
    out.reserve(text.size() + text.size() / 16);
    const uint64_t threshold = rate >= 1.0 ? ~uint64_t(0) : uint64_t(rate * 18446744073709551616.0);
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const uint64_t r = mix(seed * 0x9E3779B97F4A7C15ull + i + 1);
        if (!letter(c) || r >= threshold || (rate < 1.0 && threshold == 0)) {
            out += c;
            continue;
        }
        const uint64_t r2 = mix(r ^ 0xD1B54A32D192ED03ull);
        const bool upper = std::isupper(static_cast<unsigned char>(c));
        switch (r2 % 4) {
        case 0: { // substitute with a different letter
            char s = random_letter(r2 >> 8, upper);
            if (s == c) s = char(s == (upper ? 'Z' : 'z') ? s - 1 : s + 1);
            out += s;
            break;
        }
        case 1: break; // delete
        case 2: out += c, out += random_letter(r2 >> 8, upper); break; // insert after
        default: // swap with the next letter (none: kept)
            if (i + 1 < text.size() && letter(text[i + 1])) {
                out += text[i + 1];
                out += c;
                ++i;
            } else {
                out += c;
            }
        }
    }
    return out;
}

} // namespace ss
