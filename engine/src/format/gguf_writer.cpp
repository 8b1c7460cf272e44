#include "format/gguf_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include "v4/error.h"

namespace v4::gguf {

namespace {

constexpr uint32_t k_version = 3;

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

// Buffered little-endian output to a FILE; the first failure is remembered and reported once.
class out_file {
public:
    out_file(const std::string & path) : m_path(path), m_f(std::fopen(path.c_str(), "wb")) {
        if (m_f == nullptr) {
            throw Error(ErrorCode::io, path + ": cannot create: " + std::strerror(errno));
        }
    }
    ~out_file() {
        if (m_f != nullptr) {
            std::fclose(m_f);
        }
    }
    void bytes(const void * p, size_t n) {
        if (n > 0 && std::fwrite(p, 1, n, m_f) != n) {
            throw Error(ErrorCode::io, m_path + ": write failed: " + std::strerror(errno));
        }
        m_pos += n;
    }
    template <class T> void put(T v) { bytes(&v, sizeof v); }
    void str(const std::string & s) {
        put<uint64_t>(s.size());
        bytes(s.data(), s.size());
    }
    void pad_to(uint64_t alignment) {
        static const uint8_t zeros[256] = {};
        uint64_t             n = align_up(m_pos, alignment) - m_pos;
        while (n > 0) {
            const size_t k = static_cast<size_t>(std::min<uint64_t>(n, sizeof zeros));
            bytes(zeros, k);
            n -= k;
        }
    }
    void close() {
        const int rc = std::fclose(m_f);
        m_f          = nullptr;
        if (rc != 0) {
            throw Error(ErrorCode::io, m_path + ": close failed: " + std::strerror(errno));
        }
    }
    uint64_t pos() const { return m_pos; }

private:
    std::string m_path;
    FILE *      m_f;
    uint64_t    m_pos = 0;
};

void write_value(out_file & o, const value & v) {
    switch (v.type) {
        case value_type::uint8:   o.put(static_cast<uint8_t>(std::get<uint64_t>(v.data))); break;
        case value_type::int8:    o.put(static_cast<int8_t>(std::get<int64_t>(v.data))); break;
        case value_type::uint16:  o.put(static_cast<uint16_t>(std::get<uint64_t>(v.data))); break;
        case value_type::int16:   o.put(static_cast<int16_t>(std::get<int64_t>(v.data))); break;
        case value_type::uint32:  o.put(static_cast<uint32_t>(std::get<uint64_t>(v.data))); break;
        case value_type::int32:   o.put(static_cast<int32_t>(std::get<int64_t>(v.data))); break;
        case value_type::uint64:  o.put(std::get<uint64_t>(v.data)); break;
        case value_type::int64:   o.put(std::get<int64_t>(v.data)); break;
        case value_type::float32: o.put(static_cast<float>(std::get<double>(v.data))); break;
        case value_type::float64: o.put(std::get<double>(v.data)); break;
        case value_type::boolean: o.put(static_cast<uint8_t>(std::get<bool>(v.data) ? 1 : 0)); break;
        case value_type::string:  o.str(std::get<std::string>(v.data)); break;
        case value_type::array: {
            const auto & arr = std::get<value::array_t>(v.data);
            o.put(static_cast<uint32_t>(arr.element_type));
            o.put<uint64_t>(arr.elements.size());
            for (const value & e : arr.elements) {
                write_value(o, e);
            }
            break;
        }
    }
}

} // namespace

void writer::set_metadata(std::vector<metadata_entry> entries) {
    std::set<std::string> seen;
    for (const metadata_entry & e : entries) {
        if (!seen.insert(e.key).second) {
            throw Error(ErrorCode::invalid_argument, "duplicate metadata key '" + e.key + "'");
        }
    }
    m_metadata = std::move(entries);
}

void writer::set_value(const std::string & key, value v) {
    for (metadata_entry & e : m_metadata) {
        if (e.key == key) {
            e.val = std::move(v);
            return;
        }
    }
    m_metadata.push_back({key, std::move(v)});
}

void writer::erase_metadata(const std::string & key) {
    std::erase_if(m_metadata, [&](const metadata_entry & e) { return e.key == key; });
}

void writer::add_tensor(std::string name, dtype type, std::vector<int64_t> shape, size_t n_bytes, fill_fn fill) {
    if (shape.empty() || shape.size() > 4) {
        throw Error(ErrorCode::invalid_argument, "tensor '" + name + "': needs 1 to 4 dimensions");
    }
    int64_t rows = 1;
    for (size_t i = 1; i < shape.size(); ++i) {
        rows *= shape[i];
    }
    const auto per_row = row_bytes(type, shape[0]);
    if (!per_row || rows < 0 || *per_row * static_cast<size_t>(rows) != n_bytes) {
        throw Error(ErrorCode::invalid_argument, "tensor '" + name + "': " + std::to_string(n_bytes) +
                                                     " bytes do not match its shape and type " + traits(type).name);
    }
    for (const pending & p : m_tensors) {
        if (p.name == name) {
            throw Error(ErrorCode::invalid_argument, "duplicate tensor '" + name + "'");
        }
    }
    m_tensors.push_back({std::move(name), type, std::move(shape), n_bytes, std::move(fill)});
}

uint64_t writer::alignment() const {
    for (const metadata_entry & e : m_metadata) {
        if (e.key == "general.alignment") {
            const uint64_t a = e.val.as_u64(e.key);
            if (a == 0 || (a & (a - 1)) != 0) {
                throw Error(ErrorCode::invalid_argument, "general.alignment " + std::to_string(a) + " is not a power of two");
            }
            return a;
        }
    }
    return 32;
}

void writer::write(const std::string & path) const {
    const uint64_t    align   = alignment();
    const std::string partial = path + ".partial";
    try {
        out_file o(partial);
        o.bytes("GGUF", 4);
        o.put(k_version);
        o.put<uint64_t>(m_tensors.size());
        o.put<uint64_t>(m_metadata.size());
        for (const metadata_entry & e : m_metadata) {
            o.str(e.key);
            o.put(static_cast<uint32_t>(e.val.type));
            write_value(o, e.val);
        }
        uint64_t offset = 0;
        for (const pending & t : m_tensors) {
            o.str(t.name);
            o.put(static_cast<uint32_t>(t.shape.size()));
            for (int64_t d : t.shape) {
                o.put(static_cast<uint64_t>(d));
            }
            o.put(static_cast<uint32_t>(t.type));
            o.put(offset);
            offset = align_up(offset + t.n_bytes, align);
        }
        o.pad_to(align);
        std::vector<uint8_t> buf;
        for (const pending & t : m_tensors) {
            buf.assign(t.n_bytes, 0);
            t.fill(buf.data());
            o.bytes(buf.data(), buf.size());
            o.pad_to(align);
        }
        o.close();
    } catch (...) {
        std::remove(partial.c_str());
        throw;
    }
    if (std::rename(partial.c_str(), path.c_str()) != 0) {
        const int err = errno;
        std::remove(partial.c_str());
        throw Error(ErrorCode::io, path + ": cannot rename the finished file into place: " + std::strerror(err));
    }
}

} // namespace v4::gguf
