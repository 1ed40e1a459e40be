// run_record.h - one evaluated configuration: what was asked, on what, and what was measured.
#pragma once

#include "compression.h"
#include "evaluate.h"

#include <cstdint>
#include <string>

namespace ss {

struct RunRecord {
    int64_t id = 0;         // 1-based within a session
    std::string created_at; // UTC, ISO 8601 ("2026-11-28T12:00:00Z")
    std::string model_name;
    std::string model_path;
    std::string dataset_path;
    CompressionSpec spec;
    EvalResult result;
};

std::string utc_now_iso8601();

} // namespace ss
