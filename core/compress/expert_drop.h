// expert_drop.h - removing experts from MoE layers.
#pragma once

#include "model/model.h"

#include <string>
#include <vector>

namespace ss {

// Removes the experts at `positions` (current positions) from `moe`: their router rows go with
// them, so routing renormalizes over the rest; top_k is clamped to the experts left. At least one
// expert must remain.
void drop_experts(MoeLayer& moe, std::vector<int> positions);

// The `count` positions with the lowest `share` (ties: higher position first).
std::vector<int> least_used_experts(const std::vector<double>& share, int count);

// "moe.3" -> (layer "moe", original id 3). Throws ss::Error for another form.
std::pair<std::string, int> parse_expert_name(const std::string& name);

} // namespace ss
