// file_kind.h - what a path holds, told from its first bytes (a directory from the files in it),
// never from its name: a file manager passes any file as it is, and a session renamed .safetensors
// is still a session. Used to open a command-line argument as what it is, and to say what a file
// is when a loader refuses it.
#pragma once

#include <string>

namespace ss {

enum class FileKind {
    Missing,          // no such path, or not readable
    NotRegular,       // a FIFO, device or socket: never opened (reading it could block)
    Session,          // SQLite 3 database ("SQLite format 3\0"): a SparseScope session
    Safetensors,      // u64 little-endian header length that fits the file, then '{'
    Onnx,             // a protobuf ModelProto: field 1 (ir_version) varint first, binary content
    Gguf,             // "GGUF"
    Npy,              // "\x93NUMPY"
    Idx,              // 0x00 0x00, an IDX type code (0x08-0x0E), 1-4 dimensions
    Gzip,             // 0x1f 0x8b: a compressed IDX file, as Fashion-MNIST ships
    Text,             // no NUL byte in the first 4 KiB: CSV, text to tokenize, JSON
    ModelDirectory,   // config.json with model.safetensors, a shard index, or .safetensors files
    DatasetDirectory, // IDX files (raw or gzip), e.g. the Fashion-MNIST directory
    OtherDirectory,
    Unknown,          // a regular file none of the above describes
};

// What path is. Reads at most the first 64 bytes of a file (4 KiB for text), or lists a
// directory; never throws.
FileKind detect_file_kind(const std::string& path);

// "a SparseScope session (SQLite database)", "a safetensors file", ... for messages.
std::string file_kind_description(FileKind kind);

// What a window opens a path as.
enum class OpenRole { Model, Dataset, Session, None };
OpenRole open_role(FileKind kind);

} // namespace ss
