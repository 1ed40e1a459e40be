// idx_dataset.h - the IDX format of MNIST, Fashion-MNIST, KMNIST and EMNIST (raw or gzip).
//
// Header: 0x00 0x00 dtype ndims, then ndims big-endian u32 sizes, then the values big-endian.
// Images: (count, d1, ...) of u8 / i8 / i16 / i32 / f32 / f64; labels: (count) of an integer type.
#pragma once

#include "data/dataset.h"

#include <cstdint>
#include <string>

namespace ss {

// Loads a pair of IDX files; the two counts must agree. Throws ss::Error naming the file.
// `limit` > 0: only the first `limit` samples are read (and counted); 0: all of them.
Dataset load_idx_pair(const std::string& images_path, const std::string& labels_path, int64_t limit = 0);

// Loads split "t10k" (also matches "test") or "train" from a directory of IDX files, e.g.
// t10k-images-idx3-ubyte.gz or emnist-letters-test-images-idx3-ubyte.gz.
Dataset load_idx_dir(const std::string& dir, const std::string& split, int64_t limit = 0);

// Whether `dir` holds an IDX pair of the split ("t10k" also matches "test"), whether or not it reads.
bool idx_dir_has_split(const std::string& dir, const std::string& split);

// ".../X-images-idx3-ubyte[.gz]" -> ".../X-labels-idx1-ubyte[.gz]"; empty when not an images name.
std::string idx_labels_path_for(const std::string& images_path);

} // namespace ss
