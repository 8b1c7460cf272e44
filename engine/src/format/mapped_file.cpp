#include "format/mapped_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
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

// MemAvailable from /proc/meminfo in bytes; 0 when unknown.
uint64_t available_memory() {
    std::ifstream meminfo("/proc/meminfo");
    std::string   key;
    uint64_t      kib = 0;
    std::string   unit;
    while (meminfo >> key >> kib >> unit) {
        if (key == "MemAvailable:") {
            return kib * 1024;
        }
    }
    return 0;
}

constexpr size_t k_huge_page = size_t{2} << 20;

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

bool mapped_file::make_resident(const std::function<bool(float)> & progress) {
    if (m_size == 0 || resident()) {
        return resident();
    }
    if (m_size > available_memory() / 2) {
        return false;
    }
    // One huge page of slack, so the copy can start on a 2 MiB boundary (THP backs aligned ranges).
    const size_t region_size = m_size + k_huge_page;
    void *       region = ::mmap(nullptr, region_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED) {
        return false;
    }
    ::madvise(region, region_size, MADV_HUGEPAGE); // advice only: without THP the copy still works
    const auto base = reinterpret_cast<uintptr_t>(region);
    auto *     dst = reinterpret_cast<uint8_t *>((base + k_huge_page - 1) & ~(k_huge_page - 1));
    ::madvise(const_cast<uint8_t *>(m_data), m_size, MADV_SEQUENTIAL);
    constexpr size_t k_step = size_t{64} << 20;
    for (size_t off = 0; off < m_size; off += k_step) {
        const size_t n = std::min(k_step, m_size - off);
        std::memcpy(dst + off, m_data + off, n);
        // drop the copied pages from this process (they stay in the page cache), so the load does
        // not hold the file twice at its peak
        ::madvise(const_cast<uint8_t *>(m_data) + off, n, MADV_DONTNEED);
        if (progress && !progress(static_cast<float>(off + n) / static_cast<float>(m_size))) {
            ::munmap(region, region_size);
            throw Error(ErrorCode::cancelled, "model loading cancelled");
        }
    }
    ::munmap(const_cast<uint8_t *>(m_data), m_size);
    m_data = dst;
    m_region = region;
    m_region_size = region_size;
    return true;
}

uint8_t * mapped_file::writable(const uint8_t * p) const {
    if (!resident() || m_sealed || p < m_data || p >= m_data + m_size) {
        return nullptr;
    }
    return static_cast<uint8_t *>(m_region) + (p - static_cast<const uint8_t *>(m_region));
}

void mapped_file::seal() {
    if (resident() && !m_sealed) {
        ::mprotect(m_region, m_region_size, PROT_READ);
        m_sealed = true;
    }
}

mapped_file::mapped_file(mapped_file && other) noexcept
    : m_data(std::exchange(other.m_data, nullptr)), m_size(std::exchange(other.m_size, 0)),
      m_region(std::exchange(other.m_region, nullptr)), m_region_size(std::exchange(other.m_region_size, 0)),
      m_sealed(std::exchange(other.m_sealed, false)) {}

mapped_file & mapped_file::operator=(mapped_file && other) noexcept {
    if (this != &other) {
        release();
        m_data = std::exchange(other.m_data, nullptr);
        m_size = std::exchange(other.m_size, 0);
        m_region = std::exchange(other.m_region, nullptr);
        m_region_size = std::exchange(other.m_region_size, 0);
        m_sealed = std::exchange(other.m_sealed, false);
    }
    return *this;
}

mapped_file::~mapped_file() { release(); }

void mapped_file::release() noexcept {
    if (m_region != nullptr) {
        ::munmap(m_region, m_region_size);
    } else if (m_data != nullptr) {
        ::munmap(const_cast<uint8_t *>(m_data), m_size);
    }
    m_data = nullptr;
    m_size = 0;
    m_region = nullptr;
    m_region_size = 0;
    m_sealed = false;
}

} // namespace v4
