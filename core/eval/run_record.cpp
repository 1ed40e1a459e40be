// run_record.cpp
#include "eval/run_record.h"

#include "data/dataset_card.h"
#include "error.h"
#include "eval/machine_info.h"

#include <ctime>

namespace ss {

std::string utc_now_iso8601() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

namespace {
RunRecord record_of(const Model& model, const std::string& data_path, const std::string& data_sha256, const CompressionPlan& plan) {
    RunRecord r;
    r.created_at = utc_now_iso8601();
    r.model_name = model.name;
    r.model_path = model.source_path;
    r.dataset_path = data_path;
    r.dataset_sha256 = data_sha256;
    r.model_sha256 = model.sha256();
    r.app_version = machine_info().app_version;
    r.plan = plan;
    return r;
}
} // namespace

RunRecord make_run_record(const Model& model, const Dataset& data, const CompressionPlan& plan) {
    RunRecord r = record_of(model, data.source_path, data.sha256, plan);
    r.input = model.input;
    // The card goes with the run; an unreadable dataset-card.json does not stop the evaluation but
    // says so in the card.
    DatasetProvenance provenance;
    try {
        provenance = find_dataset_provenance(data);
    } catch (const Error& e) {
        provenance.origin = std::string("unreadable: ") + e.what();
    }
    r.dataset_card = dataset_card_json(data, provenance);
    return r;
}

RunRecord make_run_record(const Model& model, const TokenData& data, const CompressionPlan& plan) {
    return record_of(model, data.source_path, data.sha256, plan);
}

} // namespace ss
