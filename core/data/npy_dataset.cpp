// npy_dataset.cpp
#include "data/npy_dataset.h"

#include "data/npy_array.h"

#include "formats/byte_source.h"
#include "error.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <string_view>

namespace ss {


Dataset load_npy_pair(const std::string& x_path, const std::string& y_path, int64_t limit) {
    const NpyArray x = open_npy(x_path);
    const NpyArray y = open_npy(y_path);
    if (x.shape.size() < 2) throw Error(x_path + ": X must have shape (count, features...), found " + std::to_string(x.shape.size()) + " dimension(s)");
    if (!(y.shape.size() == 1 || (y.shape.size() == 2 && y.shape[1] == 1)))
        throw Error(y_path + ": y must have shape (count,) or (count, 1)");
    if (y.descr == "<f4" || y.descr == "<f8") throw Error(y_path + ": labels must be integers (int64, int32 or uint8), found " + y.descr);
    if (x.shape[0] != y.shape[0])
        throw Error(y_path + ": holds " + std::to_string(y.shape[0]) + " labels but " + x_path + " holds " + std::to_string(x.shape[0]) + " samples");
    if (x.shape[0] == 0) throw Error(x_path + ": holds no samples");
    uint64_t features = 1;
    for (size_t i = 1; i < x.shape.size(); ++i) features *= x.shape[i];
    if (features == 0 || features > (1u << 24)) throw Error(x_path + ": " + std::to_string(features) + " features per sample is out of range");
    if (x.shape[0] > uint64_t(std::numeric_limits<int>::max())) throw Error(x_path + ": too many samples");

    Dataset d;
    d.source_path = x_path;
    d.format = "npy";
    d.files = {x_path, y_path};
    d.count = int(limit > 0 ? std::min<uint64_t>(x.shape[0], uint64_t(limit)) : x.shape[0]); // --limit: the rest is never read
    d.features = int(features);
    d.raw.resize(size_t(d.count) * features);
    for (uint64_t i = 0; i < d.raw.size(); ++i) {
        const double v = value_at(x, i);
        if (!std::isfinite(v))
            throw Error(x_path + ": sample " + std::to_string(i / features) + ", feature " + std::to_string(i % features) + " is not finite");
        d.raw[i] = float(v);
    }
    d.labels.resize(size_t(d.count));
    for (int i = 0; i < d.count; ++i) {
        const double v = value_at(y, uint64_t(i));
        if (v < 0 || v > 65535) throw Error(y_path + ": label " + std::to_string(i) + " = " + std::to_string(int64_t(v)) + " is not a class index in 0..65535");
        d.labels[size_t(i)] = int(v);
    }
    finish_dataset(d);
    return d;
}

} // namespace ss
