// difference_hash.cpp - area-average down to 9x8, then compare neighbours (difference_hash.h).
#include "data/difference_hash.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace ss {

namespace {
// Weights (cells, size): how much of source pixel i falls in cell k when `size` pixels are split
// into `cells` equal parts; each cell's weights sum to size / cells.
std::vector<double> coverage(int cells, int size) {
    std::vector<double> w(size_t(cells) * size_t(size), 0.0);
    const double step = double(size) / cells;
    for (int k = 0; k < cells; ++k) {
        const double lo = k * step, hi = (k + 1) * step;
        for (int i = int(lo); i < size && i < hi; ++i) w[size_t(k) * size + i] = std::min(hi, i + 1.0) - std::max(lo, double(i));
    }
    return w;
}
} // namespace

void difference_hash_grid(const float* pixels, int height, int width, double grid[8 * 9]) {
    const std::vector<double> wy = coverage(8, height), wx = coverage(9, width);
    const double area = (double(height) / 8) * (double(width) / 9);
    std::vector<double> rows(size_t(8) * width, 0.0); // (8, width): each band of rows summed
    for (int r = 0; r < 8; ++r)
        for (int y = 0; y < height; ++y) {
            const double w = wy[size_t(r) * height + y];
            if (w == 0.0) continue;
            for (int x = 0; x < width; ++x) rows[size_t(r) * width + x] += w * pixels[size_t(y) * width + x];
        }
    for (int r = 0; r < 8; ++r)
        for (int c = 0; c < 9; ++c) {
            double s = 0.0;
            for (int x = 0; x < width; ++x) s += wx[size_t(c) * width + x] * rows[size_t(r) * width + x];
            grid[r * 9 + c] = s / area;
        }
}

uint64_t difference_hash(const float* pixels, int height, int width) {
    double g[8 * 9];
    difference_hash_grid(pixels, height, width, g);
    uint64_t h = 0;
    for (int r = 0; r < 8; ++r)
        for (int c = 0; c < 8; ++c)
            // Brighter by more than rounding: cells of equal pixels summed with different fractional
            // weights may differ in the last bits.
            if (g[r * 9 + c + 1] > g[r * 9 + c] + 1e-9 * std::max(1.0, std::abs(g[r * 9 + c])))
                h |= uint64_t(1) << (r * 8 + c);
    return h;
}

} // namespace ss
