// fuzz_onnx.cpp - libFuzzer target: any bytes as an ONNX model file through the importer. Only
// ss::Error may escape.
#include "error.h"
#include "formats/onnx_import.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = fuzz::write_temp("model.onnx", data, size);
    try {
        ss::import_onnx(path, ss::default_onnx_input());
    } catch (const ss::Error&) {
    }
    return 0;
}
