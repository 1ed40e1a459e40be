// csv_dataset.h - a dataset from a CSV file: one sample per line, one column holds the label.
//
// Comma separated; '\r\n' or '\n' line ends; fields may be wrapped in double quotes. The first line
// is a header when any of its fields is not a number. The label column is chosen by name (needs a
// header) or by 0-based index; by default a column named label / class / target / y, else column 0.
// Every value must be a finite number and every label a non-negative integer; an error names the
// line and the column.
#pragma once

#include "data/dataset.h"

#include <string>

namespace ss {

// limit > 0: only the first `limit` samples are read (as --limit asks); the file's hash still
// covers all of it.
Dataset load_csv_dataset(const std::string& path, const std::string& label_column, int64_t limit = 0);

} // namespace ss
