// error.h - the one exception type the engine throws.
//
// Every message names the file, the field and the rule that was broken, e.g.
//   "model.safetensors: tensor 'stem.weight': data_offsets [0, 12) exceed data section of 8 bytes"
// Callers (CLI, GUI) print what() as is; nothing in core/ catches and hides errors.
#pragma once

#include <stdexcept>
#include <string>

namespace ss {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

} // namespace ss
