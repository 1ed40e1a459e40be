// text_overlap.h - train/test leakage for text: the word n-grams (13 words, as GPT-3's
// contamination check counts them) of the evaluation text that also occur in the training text.
// Words are lowercased runs of letters and digits; punctuation and line breaks separate them, so a
// verse quoted with other punctuation still counts. Long shared windows mean the model may have
// read what it is scored on.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ss {

struct TextOverlap {
    int n = 13;
    int64_t test_windows = 0, shared_windows = 0; // word n-grams of the test text; those also in the training text
    int64_t test_lines = 0, lines_touched = 0;    // non-empty lines of the test text; those where a shared window starts
    std::vector<std::string> examples;            // the first shared windows (words joined by spaces)
};

// n in 1..64; throws ss::Error outside it. The training text is hashed whole (8 bytes per window).
TextOverlap text_overlap(const std::string& test, const std::string& train, int n = 13, int max_examples = 10);

} // namespace ss
