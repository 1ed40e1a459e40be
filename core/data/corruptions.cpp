// corruptions.cpp - the twelve corruptions (corruptions.h). Each works on values scaled to [0, 1]
// as the reference does, and ends as the reference's uint8 image: clipped to [0, 1], times 255,
// truncated (numpy's uint8 cast) - or rounded where the reference goes through PIL (pixelate,
// JPEG).
#include "data/corruptions.h"

#include "error.h"
#include "kernels/thread_pool.h"

#include <jpeglib.h>

#include <algorithm>
#include <cmath>
#include <array>
#include <csetjmp>
#include <cstring>

namespace ss {

namespace {

constexpr double kPi = 3.14159265358979323846;

// A counter-based generator: splitmix64 over (seed, stream), so every sample's draws are fixed
// whatever order or thread makes them.
class Rng {
public:
    explicit Rng(uint64_t seed) : state_(seed) {}
    uint64_t next() {
        uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    double uniform() { return double(next() >> 11) * (1.0 / 9007199254740992.0); } // [0, 1)
    double normal() { // Box-Muller, one of the pair
        double u1 = uniform();
        while (u1 <= 0.0) u1 = uniform();
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * uniform());
    }
    int64_t poisson(double lam) {
        if (lam <= 0.0) return 0;
        if (lam < 10.0) { // Knuth: multiply uniforms until below exp(-lam)
            const double limit = std::exp(-lam);
            int64_t k = 0;
            double p = uniform();
            while (p > limit) p *= uniform(), ++k;
            return k;
        }
        // Hoermann's transformed rejection (PTRS, 1993), as numpy draws large means.
        const double slam = std::sqrt(lam), loglam = std::log(lam);
        const double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
        const double invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2.0);
        for (;;) {
            const double u = uniform() - 0.5, v = uniform(), us = 0.5 - std::fabs(u);
            const double k = std::floor((2.0 * a / us + b) * u + lam + 0.43);
            if (us >= 0.07 && v <= vr) return int64_t(k);
            if (k < 0.0 || (us < 0.013 && v > us)) continue;
            if (std::log(v) + std::log(invalpha) - std::log(a / (us * us) + b) <= -lam + k * loglam - std::lgamma(k + 1.0)) return int64_t(k);
        }
    }

private:
    uint64_t state_;
};

uint64_t stream_seed(uint64_t seed, Corruption c, int severity, uint64_t sample) {
    Rng r(seed ^ (uint64_t(c) << 56) ^ (uint64_t(severity) << 48));
    r.next();
    return r.next() ^ (sample * 0xD1B54A32D192ED03ull);
}

double clip01(double v) { return v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v; }
float to_uint8_truncated(double v01) { return float(std::floor(clip01(v01) * 255.0)); } // np.uint8(np.clip(x, 0, 1) * 255)

// scipy.ndimage.gaussian_filter as skimage.filters.gaussian calls it: truncate 4, borders 'nearest'.
void gaussian_filter(std::vector<double>& x, int h, int w, double sigma) {
    const int r = int(4.0 * sigma + 0.5);
    std::vector<double> k(size_t(2 * r + 1));
    double sum = 0.0;
    for (int i = -r; i <= r; ++i) sum += k[size_t(i + r)] = std::exp(-0.5 * double(i * i) / (sigma * sigma));
    for (double& v : k) v /= sum;
    std::vector<double> t(x.size());
    for (int y = 0; y < h; ++y) // rows, then columns
        for (int xx = 0; xx < w; ++xx) {
            double s = 0.0;
            for (int i = -r; i <= r; ++i) s += k[size_t(i + r)] * x[size_t(y * w + std::clamp(xx + i, 0, w - 1))];
            t[size_t(y * w + xx)] = s;
        }
    for (int y = 0; y < h; ++y)
        for (int xx = 0; xx < w; ++xx) {
            double s = 0.0;
            for (int i = -r; i <= r; ++i) s += k[size_t(i + r)] * t[size_t(std::clamp(y + i, 0, h - 1) * w + xx)];
            x[size_t(y * w + xx)] = s;
        }
}

int reflect101(int i, int n) { // OpenCV's default border: ... 2 1 | 0 1 2 ... n-1 | n-2 ...
    if (n == 1) return 0;
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
    return i;
}

// The reference's defocus: a disk of `radius` on a 17x17 grid, normalized, blurred by a 3x3
// Gaussian of `alias` (cv2.GaussianBlur), applied as cv2.filter2D with reflect-101 borders.
void defocus(std::vector<double>& x, int h, int w, double radius, double alias) {
    // The kernel in float32, as the reference builds it (numpy float32 disk, cv2.GaussianBlur on
    // float32: rows, then columns); the image is filtered in double.
    constexpr int R = 8, N = 2 * R + 1;
    std::vector<float> disk(N * N, 0.0f);
    float total = 0.0f;
    for (int y = -R; y <= R; ++y)
        for (int xx = -R; xx <= R; ++xx)
            if (double(xx * xx + y * y) <= radius * radius) disk[size_t((y + R) * N + xx + R)] = 1.0f, total += 1.0f;
    for (float& v : disk) v /= total;
    double gd[3], gs = 0.0; // cv2.getGaussianKernel(3, alias), computed in double, stored as float
    for (int i = 0; i < 3; ++i) gs += gd[i] = std::exp(-double((i - 1) * (i - 1)) / (2.0 * alias * alias));
    const float g[3] = {float(gd[0] / gs), float(gd[1] / gs), float(gd[2] / gs)};
    std::vector<float> rows(N * N), blurred(N * N);
    for (int y = 0; y < N; ++y)
        for (int xx = 0; xx < N; ++xx) {
            float s = 0.0f;
            for (int d = -1; d <= 1; ++d) s += g[d + 1] * disk[size_t(y * N + reflect101(xx + d, N))];
            rows[size_t(y * N + xx)] = s;
        }
    for (int y = 0; y < N; ++y)
        for (int xx = 0; xx < N; ++xx) {
            float s = 0.0f;
            for (int d = -1; d <= 1; ++d) s += g[d + 1] * rows[size_t(reflect101(y + d, N) * N + xx)];
            blurred[size_t(y * N + xx)] = s;
        }
    const std::vector<double> kernel(blurred.begin(), blurred.end());
    struct Tap {
        int dy, dx;
        double k;
    };
    std::vector<Tap> taps; // the kernel's non-zero entries (at most 5x5 of the 17x17), in row order
    for (int ky = 0; ky < N; ++ky)
        for (int kx = 0; kx < N; ++kx)
            if (kernel[size_t(ky * N + kx)] != 0.0) taps.push_back({ky - R, kx - R, kernel[size_t(ky * N + kx)]});
    std::vector<double> out(x.size(), 0.0);
    for (int y = 0; y < h; ++y)
        for (int xx = 0; xx < w; ++xx) {
            double s = 0.0;
            for (const Tap& t : taps) s += t.k * x[size_t(reflect101(y + t.dy, h) * w + reflect101(xx + t.dx, w))];
            out[size_t(y * w + xx)] = s;
        }
    x.swap(out);
}

// PIL's Image.resize with the BOX filter, one axis: output pixel i averages the input pixels whose
// centers fall within its footprint (PIL's box_filter: -0.5 < t <= 0.5), unweighted.
std::vector<double> box_resize_axis(const std::vector<double>& in, int rows, int in_n, int out_n, bool along_rows) {
    const double scale = double(in_n) / out_n, filterscale = std::max(scale, 1.0), support = 0.5 * filterscale;
    std::vector<double> out(size_t(rows) * size_t(out_n));
    for (int i = 0; i < out_n; ++i) {
        const double center = (i + 0.5) * scale;
        const int lo = std::max(int(center - support + 0.5), 0), hi = std::min(int(center + support + 0.5), in_n);
        std::vector<int> taps;
        for (int j = lo; j < hi; ++j) {
            const double t = (j - center + 0.5) / filterscale;
            if (t > -0.5 && t <= 0.5) taps.push_back(j);
        }
        for (int r = 0; r < rows; ++r) {
            double s = 0.0;
            for (int j : taps) s += along_rows ? in[size_t(r * in_n + j)] : in[size_t(j * rows + r)];
            const double v = taps.empty() ? 0.0 : s / double(taps.size());
            if (along_rows) out[size_t(r * out_n + i)] = v;
            else out[size_t(i * rows + r)] = v;
        }
    }
    return out;
}

// (h, w) -> (oh, ow) in PIL's BOX resampling; each pass rounds to uint8 as PIL's 8-bit images do.
std::vector<double> box_resize(const std::vector<double>& img, int h, int w, int oh, int ow) {
    std::vector<double> horiz = box_resize_axis(img, h, w, ow, true); // (h, ow)
    for (double& v : horiz) v = std::clamp(std::round(v), 0.0, 255.0);
    std::vector<double> vert = box_resize_axis(horiz, ow, h, oh, false); // (oh, ow)
    for (double& v : vert) v = std::clamp(std::round(v), 0.0, 255.0);
    return vert;
}

struct JpegError {
    jpeg_error_mgr mgr;
    std::jmp_buf jump;
};
void jpeg_fail(j_common_ptr info) { std::longjmp(reinterpret_cast<JpegError*>(info->err)->jump, 1); }

// libjpeg reports errors by longjmp: these two hold no C++ object with a destructor across it.
bool jpeg_encode(const unsigned char* gray, int h, int w, int quality, unsigned char** buffer, unsigned long* size) {
    jpeg_compress_struct c{};
    JpegError err{};
    c.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = jpeg_fail;
    if (setjmp(err.jump)) {
        jpeg_destroy_compress(&c);
        return false;
    }
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, buffer, size);
    c.image_width = JDIMENSION(w);
    c.image_height = JDIMENSION(h);
    c.input_components = 1;
    c.in_color_space = JCS_GRAYSCALE;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, quality, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = const_cast<unsigned char*>(gray) + size_t(c.next_scanline) * size_t(w);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    return true;
}

bool jpeg_decode(const unsigned char* buffer, unsigned long size, unsigned char* gray, int h, int w) {
    jpeg_decompress_struct d{};
    JpegError err{};
    d.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = jpeg_fail;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&d);
        return false;
    }
    jpeg_create_decompress(&d);
    jpeg_mem_src(&d, buffer, size);
    jpeg_read_header(&d, TRUE);
    jpeg_start_decompress(&d);
    if (int(d.output_width) != w || int(d.output_height) != h || d.output_components != 1) longjmp(err.jump, 1);
    while (d.output_scanline < d.output_height) {
        JSAMPROW row = gray + size_t(d.output_scanline) * size_t(w);
        jpeg_read_scanlines(&d, &row, 1);
    }
    jpeg_finish_decompress(&d);
    jpeg_destroy_decompress(&d);
    return true;
}

// Encodes the 8-bit grayscale image as a baseline JPEG of `quality` (libjpeg, as PIL saves an 'L'
// image) and decodes it back.
void jpeg_round_trip(float* pixels, int h, int w, int quality) {
    std::vector<unsigned char> gray(size_t(h) * size_t(w));
    for (size_t i = 0; i < gray.size(); ++i) gray[i] = (unsigned char)std::clamp(std::lround(pixels[i]), 0L, 255L);
    unsigned char* buffer = nullptr;
    unsigned long size = 0;
    const bool ok = jpeg_encode(gray.data(), h, w, quality, &buffer, &size) && jpeg_decode(buffer, size, gray.data(), h, w);
    std::free(buffer);
    if (!ok) throw Error("JPEG corruption: libjpeg could not encode and decode a " + std::to_string(w) + "x" + std::to_string(h) + " image");
    for (size_t i = 0; i < gray.size(); ++i) pixels[i] = float(gray[i]);
}

// Bilinear resampling at (sx, sy) with a black outside (the background of MNIST-style images).
double bilinear(const std::vector<double>& x, int h, int w, double sx, double sy) {
    const int x0 = int(std::floor(sx)), y0 = int(std::floor(sy));
    const double fx = sx - x0, fy = sy - y0;
    auto at = [&](int yy, int xx) { return yy < 0 || yy >= h || xx < 0 || xx >= w ? 0.0 : x[size_t(yy * w + xx)]; };
    return (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
}

} // namespace

const char* corruption_name(Corruption c) {
    switch (c) {
    case Corruption::GaussianNoise: return "gaussian_noise";
    case Corruption::ShotNoise: return "shot_noise";
    case Corruption::ImpulseNoise: return "impulse_noise";
    case Corruption::SpeckleNoise: return "speckle_noise";
    case Corruption::GaussianBlur: return "gaussian_blur";
    case Corruption::DefocusBlur: return "defocus_blur";
    case Corruption::Contrast: return "contrast";
    case Corruption::Brightness: return "brightness";
    case Corruption::Pixelate: return "pixelate";
    case Corruption::Jpeg: return "jpeg_compression";
    case Corruption::Rotate: return "rotate";
    case Corruption::Shift: return "shift";
    }
    return "unknown";
}

bool parse_corruption(const std::string& name, Corruption* out) {
    for (Corruption c : kAllCorruptions)
        if (name == corruption_name(c)) return (*out = c), true;
    return false;
}

void corrupt_image(Corruption c, int severity, float* pixels, int h, int w, uint64_t seed) {
    if (severity < 1 || severity > 5) throw Error("corruption " + std::string(corruption_name(c)) + ": severity " + std::to_string(severity) + " is not 1..5");
    const size_t n = size_t(h) * size_t(w);
    const int s = severity - 1;
    Rng rng(seed);
    std::vector<double> x(n);
    for (size_t i = 0; i < n; ++i) x[i] = double(pixels[i]) / 255.0;
    switch (c) {
    case Corruption::GaussianNoise: {
        const double sd = std::array{0.04, 0.06, 0.08, 0.09, 0.10}[size_t(s)];
        for (size_t i = 0; i < n; ++i) pixels[i] = to_uint8_truncated(x[i] + sd * rng.normal());
        return;
    }
    case Corruption::ShotNoise: {
        const double k = std::array{500.0, 250.0, 100.0, 75.0, 50.0}[size_t(s)];
        for (size_t i = 0; i < n; ++i) pixels[i] = to_uint8_truncated(double(rng.poisson(x[i] * k)) / k);
        return;
    }
    case Corruption::ImpulseNoise: { // skimage random_noise 's&p': each pixel flipped with p = amount, half to 1, half to 0
        const double amount = std::array{0.01, 0.02, 0.03, 0.05, 0.07}[size_t(s)];
        for (size_t i = 0; i < n; ++i) {
            double v = x[i];
            if (rng.uniform() < amount) v = rng.uniform() < 0.5 ? 1.0 : 0.0;
            pixels[i] = to_uint8_truncated(v);
        }
        return;
    }
    case Corruption::SpeckleNoise: {
        const double sd = std::array{0.06, 0.10, 0.12, 0.16, 0.20}[size_t(s)];
        for (size_t i = 0; i < n; ++i) pixels[i] = to_uint8_truncated(x[i] + x[i] * sd * rng.normal());
        return;
    }
    case Corruption::GaussianBlur:
        gaussian_filter(x, h, w, std::array{0.4, 0.6, 0.7, 0.8, 1.0}[size_t(s)]);
        break;
    case Corruption::DefocusBlur: {
        static constexpr double radius[] = {0.3, 0.4, 0.5, 1.0, 1.5}, alias[] = {0.4, 0.5, 0.6, 0.2, 0.1};
        defocus(x, h, w, radius[s], alias[s]);
        break;
    }
    case Corruption::Contrast: { // toward the image's own mean
        const double f = std::array{0.75, 0.5, 0.4, 0.3, 0.15}[size_t(s)];
        double mean = 0.0;
        for (double v : x) mean += v;
        mean /= double(n);
        for (double& v : x) v = (v - mean) * f + mean;
        break;
    }
    case Corruption::Brightness: { // HSV value + c; for gray pixels V is the pixel itself
        const double add = std::array{0.05, 0.1, 0.15, 0.2, 0.3}[size_t(s)];
        for (double& v : x) v = clip01(v + add);
        break;
    }
    case Corruption::Pixelate: {
        const double f = std::array{0.95, 0.9, 0.85, 0.75, 0.65}[size_t(s)];
        std::vector<double> img(n);
        for (size_t i = 0; i < n; ++i) img[i] = std::round(pixels[i]);
        const int sh = std::max(1, int(h * f)), sw = std::max(1, int(w * f));
        const std::vector<double> back = box_resize(box_resize(img, h, w, sh, sw), sh, sw, h, w);
        for (size_t i = 0; i < n; ++i) pixels[i] = float(back[i]);
        return;
    }
    case Corruption::Jpeg:
        jpeg_round_trip(pixels, h, w, std::array{80, 65, 58, 50, 40}[size_t(s)]);
        return;
    case Corruption::Rotate: { // about the center, by +-angle (random sign), bilinear, black outside
        const double deg = std::array{5.0, 10.0, 15.0, 20.0, 30.0}[size_t(s)] * (rng.uniform() < 0.5 ? -1.0 : 1.0);
        const double a = deg * kPi / 180.0, ca = std::cos(a), sa = std::sin(a);
        const double cy = (h - 1) / 2.0, cx = (w - 1) / 2.0;
        std::vector<double> out(n);
        for (int y = 0; y < h; ++y)
            for (int xx = 0; xx < w; ++xx) { // the source of each output pixel: the inverse rotation
                const double dx = xx - cx, dy = y - cy;
                out[size_t(y * w + xx)] = bilinear(x, h, w, cx + ca * dx + sa * dy, cy - sa * dx + ca * dy);
            }
        x.swap(out);
        break;
    }
    case Corruption::Shift: { // by (dx, dy), the larger of the two `s` pixels, black filling in
        const int m = severity;
        const bool along_x = rng.uniform() < 0.5;
        const int other = int(std::floor(rng.uniform() * (2 * m + 1))) - m;
        const int sx = along_x ? (rng.uniform() < 0.5 ? -m : m) : other, sy = along_x ? other : (rng.uniform() < 0.5 ? -m : m);
        std::vector<double> out(n, 0.0);
        for (int y = 0; y < h; ++y)
            for (int xx = 0; xx < w; ++xx) {
                const int from_y = y - sy, from_x = xx - sx;
                if (from_y >= 0 && from_y < h && from_x >= 0 && from_x < w) out[size_t(y * w + xx)] = x[size_t(from_y * w + from_x)];
            }
        x.swap(out);
        break;
    }
    }
    for (size_t i = 0; i < n; ++i) pixels[i] = to_uint8_truncated(x[i]);
}

Dataset corrupt_dataset(const Dataset& d, int h, int w, Corruption c, int severity, uint64_t seed, int threads) {
    if (h < 1 || w < 1 || int64_t(h) * w != d.features)
        throw Error(d.source_path + ": samples of " + std::to_string(d.features) + " values are not " + std::to_string(h) + "x" + std::to_string(w) +
                    " images; corruptions need the model's input shape to be an image");
    for (size_t i = 0; i < d.raw.size(); ++i)
        if (!(d.raw[i] >= 0.0f && d.raw[i] <= 255.0f))
            throw Error(d.source_path + ": sample " + std::to_string(i / size_t(d.features)) + " holds " + std::to_string(d.raw[i]) +
                        "; corruptions need pixel values 0..255");
    Dataset out = d;
    out.format = d.format + "+" + corruption_name(c) + ":" + std::to_string(severity);
    const int saved = compute_threads();
    if (threads > 0) set_compute_threads(threads);
    parallel_for(d.count, 16, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i)
            corrupt_image(c, severity, out.raw.data() + size_t(i) * size_t(d.features), h, w, stream_seed(seed, c, severity, uint64_t(i)));
    });
    if (threads > 0) set_compute_threads(saved);
    return out;
}

} // namespace ss
