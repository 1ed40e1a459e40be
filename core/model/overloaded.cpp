// overloaded.cpp
#include "model/overloaded.h"

#include "error.h"

#include <string>

namespace ss {

void refuse_layer_kind(const char* pass, const char* kind) {
    throw Error(std::string(pass) + ": a " + kind + " layer is not supported here (this works on classifier layers only)");
}

} // namespace ss
