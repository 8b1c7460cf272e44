// Read-only memory mapping of a whole file (RAII). Move-only; the mapping is released when the
// owner is destroyed. An empty file maps to an empty span (mmap cannot map 0 bytes).
//
// make_resident() swaps the mapping for a private copy in anonymous memory that asks for
// transparent huge pages. Why: a file mapping lives in 4 KiB pages, and streaming weights through
// 4 KiB pages costs a TLB miss per page (a nested page walk in a VM); measured on dev-2c, Gemma 3
// 270M decode ran at 73 tok/s from the mapping and 91 tok/s from 2 MiB pages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
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
    bool                     resident() const { return m_region != nullptr; }

    // Copies the file into anonymous huge-page memory and drops the mapping; bytes() moves. Returns
    // false, keeping the mapping, when the file is larger than half of the memory available now (a
    // mapping can be paged out under pressure, a private copy cannot) or the allocation fails.
    // `progress(fraction)` returning false throws v4::Error(cancelled); the mapping is then kept.
    bool make_resident(const std::function<bool(float)> & progress = {});
    // The resident copy stays writable until seal(), so the loader can rearrange weight rows in
    // place (kernels/cpu/x16.h). writable(p): p's address for writing, nullptr when the file is not
    // resident, is sealed, or p lies outside it.
    uint8_t * writable(const uint8_t * p) const;
    // Read-only from now on, as the mapping was.
    void      seal();

private:
    void release() noexcept;

    const uint8_t * m_data = nullptr;
    size_t          m_size = 0;
    void *          m_region = nullptr; // the anonymous allocation when resident (m_data lies inside)
    size_t          m_region_size = 0;
    bool            m_sealed = false;
};

} // namespace v4
