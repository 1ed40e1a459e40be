// file_io.cpp
#include "formats/file_io.h"

#include "error.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <zlib.h>

namespace ss {

void require_regular_file(const std::string& path) {
    std::error_code ec;
    const auto st = std::filesystem::status(path, ec);
    if (ec || st.type() == std::filesystem::file_type::not_found) throw Error(path + ": no such file or directory");
    if (st.type() == std::filesystem::file_type::directory) throw Error(path + ": is a directory, expected a file");
    if (st.type() != std::filesystem::file_type::regular)
        throw Error(path + ": is not a regular file (a FIFO, device or socket); SparseScope reads regular files only");
}

std::vector<uint8_t> read_file_bytes(const std::string& path) {
    require_regular_file(path);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path + ": cannot open: " + std::strerror(errno));
    in.seekg(0, std::ios::end);
    const std::streamoff size = in.tellg();
    if (size < 0) throw Error(path + ": cannot determine file size");
    in.seekg(0);
    std::vector<uint8_t> bytes(static_cast<size_t>(size));
    if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size))
        throw Error(path + ": read failed");
    return bytes;
}

std::string read_text_file(const std::string& path, size_t max_bytes) {
    if (!std::filesystem::path(path).string().ends_with(".gz")) {
        const auto bytes = read_file_bytes(path);
        if (bytes.size() > max_bytes) throw Error(path + ": " + std::to_string(bytes.size()) + " bytes, more than the " + std::to_string(max_bytes) + " a text may have");
        return std::string(bytes.begin(), bytes.end());
    }
    require_regular_file(path);
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) throw Error(path + ": cannot open: " + std::strerror(errno));
    std::string text;
    char buf[1 << 16];
    for (;;) {
        const int got = gzread(f, buf, sizeof buf);
        if (got < 0) {
            int err = 0;
            const std::string msg = gzerror(f, &err);
            gzclose(f);
            throw Error(path + ": corrupt gzip data (" + msg + ")");
        }
        if (got == 0) break;
        if (text.size() + size_t(got) > max_bytes) {
            gzclose(f);
            throw Error(path + ": inflates to more than the " + std::to_string(max_bytes) + " bytes a text may have");
        }
        text.append(buf, size_t(got));
    }
    int err = 0;
    gzerror(f, &err);
    gzclose(f);
    if (err == Z_BUF_ERROR) throw Error(path + ": the gzip stream ends early (truncated file)");
    return text;
}

void write_file_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw Error(tmp + ": cannot create: " + std::strerror(errno));
        out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
        if (!out) throw Error(tmp + ": write failed");
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) throw Error(path + ": cannot replace: " + ec.message());
}

bool file_exists(const std::string& path) {
    std::error_code ec;
    return std::filesystem::exists(path, ec);
}

bool is_directory(const std::string& path) {
    std::error_code ec;
    return std::filesystem::is_directory(path, ec);
}

} // namespace ss
