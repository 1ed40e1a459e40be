// file_io.h - whole-file reads and atomic writes with messages that name the file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ss {

// Throws ss::Error naming the path unless it is an existing regular file (or a link to one):
// opening a FIFO would block forever, a device could be endless. Every reader calls it first.
void require_regular_file(const std::string& path);

// Reads a regular file into memory. Throws ss::Error("PATH: cannot open ...") on failure.
std::vector<uint8_t> read_file_bytes(const std::string& path);

// A text file's bytes; a name ending in ".gz" is inflated (gzip) as it is read. Throws ss::Error
// naming the file when it cannot be read, the gzip data is corrupt, or the text would exceed
// `max_bytes` (so a gzip bomb stops at the limit instead of filling memory).
std::string read_text_file(const std::string& path, size_t max_bytes);

// Writes to PATH.tmp then renames over PATH, so a failed write never leaves half a file.
void write_file_bytes(const std::string& path, const std::vector<uint8_t>& bytes);

bool file_exists(const std::string& path);
bool is_directory(const std::string& path);

} // namespace ss
