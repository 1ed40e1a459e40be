// text_noise.h - typing errors put into text at a given rate, to see whether a compressed language
// model copes with noisy input as well as the dense one. Each ASCII letter is, with probability
// `rate`, replaced by another letter, deleted, doubled with a random letter after it, or swapped
// with the letter after it (one of the four alike), as typos and OCR errors do. Other bytes (digits,
// punctuation, whitespace, every UTF-8 multi-byte character) are kept, so the text stays valid
// UTF-8. Seeded and counter-based: the same text, rate and seed give the same noisy text.
#pragma once

#include <cstdint>
#include <string>

namespace ss {

// rate in [0, 1]; throws ss::Error outside it.
std::string add_typos(const std::string& text, double rate, uint64_t seed = 0);

} // namespace ss
