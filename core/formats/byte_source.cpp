// byte_source.cpp - POSIX mmap behind ByteSource.
#include "formats/byte_source.h"

#include "error.h"
#include "formats/file_io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ss {

namespace {

class MappedFile final : public ByteSource {
public:
    MappedFile(void* p, size_t n) : p_(p), n_(n) {}
    ~MappedFile() override {
        if (p_) munmap(p_, n_);
    }
    const uint8_t* data() const override { return static_cast<const uint8_t*>(p_); }
    size_t size() const override { return n_; }
    void release(size_t offset, size_t length) const override {
        const size_t page = size_t(sysconf(_SC_PAGESIZE));
        const size_t begin = (offset + page - 1) / page * page, end = std::min(n_, offset + length) / page * page; // whole pages only
        if (end > begin) madvise(static_cast<uint8_t*>(p_) + begin, end - begin, MADV_DONTNEED);
    }

private:
    void* p_;
    size_t n_;
};

class VectorBytes final : public ByteSource {
public:
    explicit VectorBytes(std::vector<uint8_t> b) : b_(std::move(b)) {}
    const uint8_t* data() const override { return b_.data(); }
    size_t size() const override { return b_.size(); }

private:
    std::vector<uint8_t> b_;
};

} // namespace

std::shared_ptr<const ByteSource> map_file(const std::string& path) {
    require_regular_file(path);
    // O_NONBLOCK: should the path have become a FIFO since the check, open still returns.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) throw Error(path + ": cannot open: " + std::strerror(errno));
    struct stat st {};
    if (fstat(fd, &st) != 0) {
        const int e = errno;
        ::close(fd);
        throw Error(path + ": cannot stat: " + std::strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        throw Error(path + ": is not a regular file; SparseScope reads regular files only");
    }
    const size_t n = size_t(st.st_size);
    if (n == 0) {
        ::close(fd);
        return std::make_shared<VectorBytes>(std::vector<uint8_t>{});
    }
    void* p = mmap(nullptr, n, PROT_READ, MAP_PRIVATE, fd, 0);
    const int e = errno;
    ::close(fd);
    if (p == MAP_FAILED) throw Error(path + ": cannot map: " + std::strerror(e));
    return std::make_shared<MappedFile>(p, n);
}

std::shared_ptr<const ByteSource> bytes_source(std::vector<uint8_t> bytes) {
    return std::make_shared<VectorBytes>(std::move(bytes));
}

} // namespace ss
