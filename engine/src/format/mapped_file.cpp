#include "format/mapped_file.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "v4/error.h"

namespace v4 {

namespace {

[[noreturn]] void throw_io(const std::string & what, const std::string & path, int err) {
    throw Error(ErrorCode::io, what + " '" + path + "': " + std::strerror(err));
}

// Closes the descriptor on every path out of open(); the mapping outlives it.
struct fd_guard {
    int fd;
    ~fd_guard() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

} // namespace

mapped_file mapped_file::open(const std::string & path) {
    fd_guard guard{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (guard.fd < 0) {
        throw_io("cannot open", path, errno);
    }
    struct stat st {};
    if (::fstat(guard.fd, &st) != 0) {
        throw_io("cannot stat", path, errno);
    }
    if (!S_ISREG(st.st_mode)) {
        throw Error(ErrorCode::io, "cannot map '" + path + "': not a regular file");
    }
    mapped_file out;
    if (st.st_size == 0) {
        return out;
    }
    const auto size = static_cast<size_t>(st.st_size);
    void *     p    = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, guard.fd, 0);
    if (p == MAP_FAILED) {
        throw_io("cannot mmap", path, errno);
    }
    out.m_data = static_cast<const uint8_t *>(p);
    out.m_size = size;
    return out;
}

mapped_file::mapped_file(mapped_file && other) noexcept
    : m_data(std::exchange(other.m_data, nullptr)), m_size(std::exchange(other.m_size, 0)) {}

mapped_file & mapped_file::operator=(mapped_file && other) noexcept {
    if (this != &other) {
        release();
        m_data = std::exchange(other.m_data, nullptr);
        m_size = std::exchange(other.m_size, 0);
    }
    return *this;
}

mapped_file::~mapped_file() { release(); }

void mapped_file::release() noexcept {
    if (m_data != nullptr) {
        ::munmap(const_cast<uint8_t *>(m_data), m_size);
        m_data = nullptr;
        m_size = 0;
    }
}

} // namespace v4
