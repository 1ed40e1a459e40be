// idx_dataset.h - the IDX format of MNIST-like datasets (raw or gzip).
//
// Header: 0x00 0x00 dtype ndims, then ndims big-endian u32 sizes, then the values big-endian.
// Images are idx3 (count, rows, cols) of u8; labels are idx1 (count) of u8.
#pragma once

#include "dataset.h"

#include <string>

namespace ss {

// Loads a pair of IDX files. The two counts must agree; only dtype 0x08 (u8) is accepted here.
Dataset load_idx_pair(const std::string& images_path, const std::string& labels_path);

// Loads split "t10k" or "train" from a directory holding {split}-images-idx3-ubyte[.gz] and
// {split}-labels-idx1-ubyte[.gz].
Dataset load_idx_dir(const std::string& dir, const std::string& split);

} // namespace ss
