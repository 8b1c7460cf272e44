// Read-only memory mapping of a whole file (RAII). Move-only; the mapping is released when the
// owner is destroyed. An empty file maps to an empty span (mmap cannot map 0 bytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace v4 {

class mapped_file {
public:
    // Throws v4::Error(io) naming the path and the system error.
    static mapped_file open(const std::string & path);

    mapped_file() = default;
    mapped_file(mapped_file && other) noexcept;
    mapped_file & operator=(mapped_file && other) noexcept;
    mapped_file(const mapped_file &) = delete;
    mapped_file & operator=(const mapped_file &) = delete;
    ~mapped_file();

    std::span<const uint8_t> bytes() const { return {m_data, m_size}; }
    size_t                   size() const { return m_size; }

private:
    void release() noexcept;

    const uint8_t * m_data = nullptr;
    size_t          m_size = 0;
};

} // namespace v4
