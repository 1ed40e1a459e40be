// pruning_exemplars.cpp - the intersection of the runs' lost samples (pruning_exemplars.h).
#include "eval/pruning_exemplars.h"

#include "error.h"

#include <algorithm>
#include <map>

namespace ss {

ExemplarReport pruning_identified_exemplars(const std::vector<const RunRecord*>& runs) {
    if (runs.empty()) throw Error("pruning-identified exemplars: no runs given");
    const RunRecord& first = *runs.front();
    for (const RunRecord* r : runs) {
        const std::string who = "run " + std::to_string(r->id);
        if (!r->result.has_comparison) throw Error(who + " was not compared with the dense model: no samples are known to have flipped");
        if (r->dataset_path != first.dataset_path || r->dataset_sha256 != first.dataset_sha256)
            throw Error(who + " measured other data (" + r->dataset_path + ") than run " + std::to_string(first.id) + " (" + first.dataset_path + ")");
        if (r->model_name != first.model_name || r->model_sha256 != first.model_sha256)
            throw Error(who + " measured another model (" + r->model_name + ") than run " + std::to_string(first.id) + " (" + first.model_name + ")");
        if (r->result.samples != first.result.samples)
            throw Error(who + " evaluated " + std::to_string(r->result.samples) + " samples, run " + std::to_string(first.id) + " " +
                        std::to_string(first.result.samples));
    }
    ExemplarReport rep;
    rep.samples = first.result.samples;
    // sample -> (count of runs that lost it, its exemplar so far)
    std::map<int, PruningExemplar> lost_by_all;
    for (const FlippedSample& f : first.result.comparison.flipped)
        if (f.lost()) lost_by_all[f.sample] = {f.sample, f.label, f.dense_pred, {}, 0.0, f.dense_p_true};
    for (const RunRecord* r : runs) {
        rep.run_ids.push_back(r->id);
        std::map<int, const FlippedSample*> lost;
        for (const FlippedSample& f : r->result.comparison.flipped)
            if (f.lost()) lost[f.sample] = &f;
        for (auto it = lost_by_all.begin(); it != lost_by_all.end();) {
            const auto hit = lost.find(it->first);
            if (hit == lost.end()) {
                it = lost_by_all.erase(it);
                continue;
            }
            it->second.preds.push_back(hit->second->pred);
            it->second.mean_p_true += double(hit->second->p_true) / double(runs.size());
            ++it;
        }
    }
    for (auto& [sample, e] : lost_by_all) {
        if (size_t(e.label) >= rep.per_class.size()) rep.per_class.resize(size_t(e.label) + 1, 0);
        ++rep.per_class[size_t(e.label)];
        rep.exemplars.push_back(std::move(e));
    }
    std::stable_sort(rep.exemplars.begin(), rep.exemplars.end(),
                     [](const PruningExemplar& a, const PruningExemplar& b) { return a.mean_p_true < b.mean_p_true; });
    return rep;
}

} // namespace ss
