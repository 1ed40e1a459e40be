// overloaded.cpp
#include "model/overloaded.h"

#include "error.h"

#include <string>

namespace ss {

void refuse_layer_kind(const char* pass, const char* kind) {
    throw Error(std::string(pass) + ": " + kind + " layers are not supported here");
}

} // namespace ss
