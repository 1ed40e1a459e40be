// runs_csv.h - runs as CSV (RFC 4180) for spreadsheets and pandas: one column per value, plain
// numbers (no thousands separators, units or "%"), units in the column names. The same columns
// from `sparsescope-cli sessions export --format csv` and the window's File > Export Runs Table.
#pragma once

#include "eval/run_record.h"

#include <string>
#include <vector>

namespace ss {

// Header, then one line per run. Classifier columns, then a language model's metrics (empty for
// the other task), then machine and note. Shares (accuracy, agreement, sparsity) are fractions in
// [0, 1]; accuracy_delta and its 95 % interval are fractions too (0.01 = 1 point); others_cpus is the
// mean number of CPUs other processes kept busy during the run (machine_load.h; empty: not
// measured); hidden is 1 for runs the user hid (deleted runs are not passed in).
std::string runs_to_csv(const std::vector<RunRecord>& runs);

// A field quoted when it holds a comma, a quote or a line break (quotes doubled).
std::string csv_field(const std::string& s);

} // namespace ss
