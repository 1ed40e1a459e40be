// npy_dataset.h - a dataset from a pair of NumPy .npy files: X (count, features...) and y (count).
//
// X: uint8, float32, float64 or int64 ('|u1', '<f4', '<f8', '<i8'); y: int64, int32 or uint8
// ('<i8', '<i4', '|u1'); both C order (fortran_order False), format version 1, 2 or 3. The header
// and the byte count are checked before anything is allocated.
#pragma once

#include "data/dataset.h"

#include <string>

namespace ss {

// limit > 0: only the first `limit` samples are converted (the mapped rest is never touched);
// the hash still covers both files whole.
Dataset load_npy_pair(const std::string& x_path, const std::string& y_path, int64_t limit = 0);

} // namespace ss
