// corruptions.h - common corruptions of grayscale images, applied on the fly to any image dataset
// (Hendrycks & Dietterich 2019, "Benchmarking Neural Network Robustness to Common Corruptions and
// Perturbations"). Ten follow the CIFAR-10-C generator's functions and parameters (make_cifar_c.py,
// for 32x32 images; 28x28 is 0.875 of that and the values are used unscaled, docs/robustness.md);
// rotation and shift are SparseScope's own (MNIST-style geometry). Severities 1-5. Random ones draw
// from a counter-based generator seeded by (seed, corruption, severity, sample), so a corrupted set
// is the same on every machine and in every order it is made.
#pragma once

#include "data/dataset.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ss {

enum class Corruption {
    GaussianNoise, ShotNoise, ImpulseNoise, SpeckleNoise, // noise
    GaussianBlur, DefocusBlur,                            // blur
    Contrast, Brightness, Pixelate, Jpeg,                 // digital
    Rotate, Shift,                                        // geometry
};
inline constexpr int kCorruptionCount = 12;
inline constexpr Corruption kAllCorruptions[kCorruptionCount] = {
    Corruption::GaussianNoise, Corruption::ShotNoise, Corruption::ImpulseNoise, Corruption::SpeckleNoise,
    Corruption::GaussianBlur, Corruption::DefocusBlur, Corruption::Contrast, Corruption::Brightness,
    Corruption::Pixelate, Corruption::Jpeg, Corruption::Rotate, Corruption::Shift};

const char* corruption_name(Corruption c); // "gaussian_noise", ..., as the CIFAR-10-C files are named
bool parse_corruption(const std::string& name, Corruption* out);

// Corrupts one image in place: `pixels` (h, w) row-major, values 0..255. Results are whole numbers
// 0..255, as the reference code's uint8 images. Throws ss::Error for a severity outside 1..5.
void corrupt_image(Corruption c, int severity, float* pixels, int h, int w, uint64_t seed);

// A copy of `d` with every sample corrupted (the labels, class names and hash source kept; the
// format says which corruption). The dataset must hold (h, w) images: features == h x w and every
// value within 0..255 - else ss::Error naming the dataset and the rule. Samples are corrupted on
// `threads` threads (the result does not depend on it).
Dataset corrupt_dataset(const Dataset& d, int h, int w, Corruption c, int severity, uint64_t seed = 0, int threads = 1);

} // namespace ss
