// tensor_names.h - the one table of classifier-v1 tensor names (PyTorch naming).
#pragma once

#include <string>

namespace ss::tensor_names {

inline std::string weight(const std::string& prefix) { return prefix + ".weight"; }
inline std::string bias(const std::string& prefix) { return prefix + ".bias"; }
inline std::string weight_scale(const std::string& prefix) { return prefix + ".weight_scale"; }   // quantized storage
inline std::string weight_packed(const std::string& prefix) { return prefix + ".weight_packed"; } // packed low-bit codes
inline std::string weight_zero(const std::string& prefix) { return prefix + ".weight_zero"; }     // asymmetric zero points
inline std::string moe_gate(const std::string& moe) { return moe + ".gate"; }
inline std::string moe_expert(const std::string& moe, int expert) { return moe + ".experts." + std::to_string(expert); }
inline std::string moe_fc1(const std::string& moe, int expert) { return moe_expert(moe, expert) + ".fc1"; }
inline std::string moe_fc2(const std::string& moe, int expert) { return moe_expert(moe, expert) + ".fc2"; }

} // namespace ss::tensor_names
