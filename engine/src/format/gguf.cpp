// GGUF v2/v3 parser. The layout (all little-endian):
//
//   "GGUF" u32 version  u64 n_tensors  u64 n_kv
//   n_kv      x { string key; u32 value_type; value }
//   n_tensors x { string name; u32 n_dims; u64 ne[n_dims]; u32 type; u64 offset }
//   padding to general.alignment (default 32), then the data section
//
// where string = { u64 length; bytes } and array = { u32 element_type; u64 count; elements }.
// Nothing read from the file is trusted: every count is checked against the bytes that are
// left before anything is allocated, and every message names the key or tensor at fault.
#include "format/gguf.h"

#include <bit>
#include <charconv>
#include <cstring>
#include <limits>
#include <map>
#include <utility>

#include "format/mapped_file.h"
#include "v4/error.h"

namespace v4::gguf {

namespace {

constexpr uint32_t k_max_dims          = 4;  // GGML_MAX_DIMS
constexpr int      k_max_array_depth   = 8;  // nested arrays; bounds the parser's recursion
constexpr uint64_t k_default_alignment = 32; // GGUF_DEFAULT_ALIGNMENT
constexpr char     k_alignment_key[]   = "general.alignment";
// Each parsed value takes sizeof(value) = 48 bytes, so a hostile file full of uint8 arrays would
// cost 48x its size. Real vocabularies hold ~10^5..10^6 elements per array; cap the total.
constexpr uint64_t k_max_array_elements = uint64_t{1} << 24;

// Smallest encodings, used to reject counts that cannot fit in the bytes left.
constexpr uint64_t k_min_kv_bytes     = 8 + 4 + 1;         // empty key, type, one-byte value
constexpr uint64_t k_min_tensor_bytes = 8 + 4 + 8 + 4 + 8; // empty name, n_dims, one dim, type, offset

std::string quoted(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    out += '\'';
    out += s;
    out += '\'';
    return out;
}

bool is_known_value_type(uint32_t raw) { return raw <= static_cast<uint32_t>(value_type::float64); }

// Bytes of one element of a fixed-size type, or the minimum encoding of a variable-size one.
uint64_t min_value_bytes(value_type t) {
    switch (t) {
        case value_type::uint8:
        case value_type::int8:
        case value_type::boolean: return 1;
        case value_type::uint16:
        case value_type::int16:   return 2;
        case value_type::uint32:
        case value_type::int32:
        case value_type::float32: return 4;
        case value_type::uint64:
        case value_type::int64:
        case value_type::float64: return 8;
        case value_type::string:  return 8;     // length
        case value_type::array:   return 4 + 8; // element type, count
    }
    return 1;
}

class parser {
public:
    parser(std::span<const uint8_t> bytes, const std::string & name) : m_bytes(bytes), m_name(name) {}

    [[noreturn]] void fail(const std::string & msg) const {
        std::string full = "gguf: ";
        if (!m_name.empty() && m_name != "<memory>") {
            full += m_name + ": ";
        }
        throw Error(ErrorCode::format, full + msg);
    }

    size_t pos() const { return m_pos; }
    size_t size() const { return m_bytes.size(); }
    size_t remaining() const { return m_bytes.size() - m_pos; }

    // `where` names what is being read ("key 'x'", "tensor #3"), used only when it fails.
    void need(uint64_t n, const char * what, std::string_view where) const {
        if (n > remaining()) {
            std::string msg = "file is truncated: ";
            if (!where.empty()) {
                msg += std::string(where) + ": ";
            }
            msg += std::string(what) + " at offset " + std::to_string(m_pos) + " needs " + std::to_string(n) +
                   " bytes but only " + std::to_string(remaining()) + " are left (file size " +
                   std::to_string(size()) + ")";
            fail(msg);
        }
    }

    template <typename T> T read(const char * what, std::string_view where) {
        need(sizeof(T), what, where);
        T v;
        std::memcpy(&v, m_bytes.data() + m_pos, sizeof(T));
        m_pos += sizeof(T);
        return v;
    }

    std::string read_string(const char * what, std::string_view where) {
        const auto len = read<uint64_t>(what, where);
        if (len > remaining()) {
            fail(std::string(where) + (where.empty() ? "" : ": ") + what + " length " + std::to_string(len) +
                 " exceeds the " + std::to_string(remaining()) + " bytes left in the file (at offset " +
                 std::to_string(m_pos - 8) + ", file size " + std::to_string(size()) + ")");
        }
        std::string s(reinterpret_cast<const char *>(m_bytes.data() + m_pos), static_cast<size_t>(len));
        m_pos += static_cast<size_t>(len);
        return s;
    }

    value read_value(value_type type, const std::string & where, int depth);

    uint64_t array_elements = 0; // over the whole file, checked against k_max_array_elements

    void check_count(uint64_t count, uint64_t min_each, const char * what, std::string_view where) const {
        if (min_each != 0 && count > remaining() / min_each) {
            fail(std::string(where) + (where.empty() ? "" : ": ") + what + " " + std::to_string(count) +
                 " cannot fit in the " + std::to_string(remaining()) + " bytes left (each needs at least " +
                 std::to_string(min_each) + " bytes; file size " + std::to_string(size()) + ")");
        }
    }

private:
    std::span<const uint8_t> m_bytes;
    size_t                   m_pos = 0;
    const std::string &      m_name;
};

value parser::read_value(value_type type, const std::string & where, int depth) {
    value v;
    v.type = type;
    switch (type) {
        case value_type::uint8:   v.data = uint64_t{read<uint8_t>("uint8 value", where)}; break;
        case value_type::int8:    v.data = int64_t{read<int8_t>("int8 value", where)}; break;
        case value_type::uint16:  v.data = uint64_t{read<uint16_t>("uint16 value", where)}; break;
        case value_type::int16:   v.data = int64_t{read<int16_t>("int16 value", where)}; break;
        case value_type::uint32:  v.data = uint64_t{read<uint32_t>("uint32 value", where)}; break;
        case value_type::int32:   v.data = int64_t{read<int32_t>("int32 value", where)}; break;
        case value_type::uint64:  v.data = uint64_t{read<uint64_t>("uint64 value", where)}; break;
        case value_type::int64:   v.data = int64_t{read<int64_t>("int64 value", where)}; break;
        case value_type::float32: v.data = double{read<float>("float32 value", where)}; break;
        case value_type::float64: v.data = read<double>("float64 value", where); break;
        case value_type::boolean: {
            const auto b = read<uint8_t>("bool value", where);
            if (b > 1) {
                fail(where + ": bool value " + std::to_string(b) + " at offset " + std::to_string(m_pos - 1) +
                     " is neither 0 nor 1");
            }
            v.data = b != 0;
            break;
        }
        case value_type::string: v.data = read_string("string", where); break;
        case value_type::array: {
            if (depth >= k_max_array_depth) {
                fail(where + ": arrays are nested more than " + std::to_string(k_max_array_depth) + " levels deep");
            }
            const auto raw_type = read<uint32_t>("array element type", where);
            if (!is_known_value_type(raw_type)) {
                fail(where + ": unknown array element type " + std::to_string(raw_type) + " at offset " +
                     std::to_string(m_pos - 4));
            }
            value::array_t arr;
            arr.element_type = static_cast<value_type>(raw_type);
            const auto count = read<uint64_t>("array count", where);
            check_count(count, min_value_bytes(arr.element_type), "array count", where);
            if (count > k_max_array_elements - array_elements) {
                fail(where + ": array count " + std::to_string(count) + " takes the metadata past " +
                     std::to_string(k_max_array_elements) + " array elements in total (a limit that bounds memory use)");
            }
            array_elements += count;
            arr.elements.reserve(static_cast<size_t>(count));
            for (uint64_t i = 0; i < count; ++i) {
                arr.elements.push_back(read_value(arr.element_type, where, depth + 1));
            }
            v.data = std::move(arr);
            break;
        }
    }
    return v;
}

[[noreturn]] void fail_key(std::string_view key, const std::string & msg) {
    throw Error(ErrorCode::format, "gguf: key " + quoted(key) + " " + msg);
}

const char * int_type_expectation = "an integer";

} // namespace

// ---- value -----------------------------------------------------------------------------------

const char * value_type_name(value_type type) {
    switch (type) {
        case value_type::uint8:   return "uint8";
        case value_type::int8:    return "int8";
        case value_type::uint16:  return "uint16";
        case value_type::int16:   return "int16";
        case value_type::uint32:  return "uint32";
        case value_type::int32:   return "int32";
        case value_type::float32: return "float32";
        case value_type::boolean: return "bool";
        case value_type::string:  return "string";
        case value_type::array:   return "array";
        case value_type::uint64:  return "uint64";
        case value_type::int64:   return "int64";
        case value_type::float64: return "float64";
    }
    return "unknown";
}

uint64_t value::as_u64(std::string_view key) const {
    if (const auto * u = std::get_if<uint64_t>(&data)) {
        return *u;
    }
    if (const auto * i = std::get_if<int64_t>(&data)) {
        if (*i < 0) {
            fail_key(key, "has the negative value " + std::to_string(*i) + ", expected an unsigned integer");
        }
        return static_cast<uint64_t>(*i);
    }
    fail_key(key, std::string("has type ") + value_type_name(type) + ", expected " + int_type_expectation);
}

int64_t value::as_i64(std::string_view key) const {
    if (const auto * i = std::get_if<int64_t>(&data)) {
        return *i;
    }
    if (const auto * u = std::get_if<uint64_t>(&data)) {
        if (*u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
            fail_key(key, "value " + std::to_string(*u) + " does not fit in int64");
        }
        return static_cast<int64_t>(*u);
    }
    fail_key(key, std::string("has type ") + value_type_name(type) + ", expected " + int_type_expectation);
}

double value::as_f64(std::string_view key) const {
    if (const auto * d = std::get_if<double>(&data)) {
        return *d;
    }
    if (const auto * u = std::get_if<uint64_t>(&data)) {
        return static_cast<double>(*u);
    }
    if (const auto * i = std::get_if<int64_t>(&data)) {
        return static_cast<double>(*i);
    }
    fail_key(key, std::string("has type ") + value_type_name(type) + ", expected a number");
}

bool value::as_bool(std::string_view key) const {
    if (const auto * b = std::get_if<bool>(&data)) {
        return *b;
    }
    fail_key(key, std::string("has type ") + value_type_name(type) + ", expected bool");
}

const std::string & value::as_string(std::string_view key) const {
    if (const auto * s = std::get_if<std::string>(&data)) {
        return *s;
    }
    fail_key(key, std::string("has type ") + value_type_name(type) + ", expected string");
}

const value::array_t & value::as_array(std::string_view key) const {
    if (const auto * a = std::get_if<array_t>(&data)) {
        return *a;
    }
    fail_key(key, std::string("has type ") + value_type_name(type) + ", expected array");
}

namespace {

void append_escaped(std::string & out, const std::string & s) {
    static const char hex[] = "0123456789abcdef";
    out += '"';
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"':  out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    out += "\\x";
                    out += hex[c >> 4];
                    out += hex[c & 15];
                } else {
                    out += ch;
                }
        }
    }
    out += '"';
}

void append_display(std::string & out, const value & v, size_t max_elements) {
    std::visit(
        [&](const auto & x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, uint64_t> || std::is_same_v<T, int64_t>) {
                out += std::to_string(x);
            } else if constexpr (std::is_same_v<T, double>) {
                char buf[64];
                // float32 values print with the shortest text that round-trips as a float.
                const auto r = v.type == value_type::float32
                                   ? std::to_chars(buf, buf + sizeof(buf), static_cast<float>(x))
                                   : std::to_chars(buf, buf + sizeof(buf), x);
                out.append(buf, r.ptr);
            } else if constexpr (std::is_same_v<T, bool>) {
                out += x ? "true" : "false";
            } else if constexpr (std::is_same_v<T, std::string>) {
                append_escaped(out, x);
            } else {
                out += '[';
                const size_t n = x.elements.size();
                for (size_t i = 0; i < n && i < max_elements; ++i) {
                    if (i != 0) {
                        out += ", ";
                    }
                    append_display(out, x.elements[i], max_elements);
                }
                if (n > max_elements) {
                    out += ", ... (" + std::to_string(n) + " elements)";
                }
                out += ']';
            }
        },
        v.data);
}

} // namespace

std::string value::to_display_string(size_t max_elements) const {
    std::string out;
    append_display(out, *this, max_elements);
    return out;
}

int64_t tensor_info::n_elements() const {
    int64_t n = 1;
    for (const int64_t d : shape) {
        n *= d; // validated at parse time not to overflow
    }
    return n;
}

// ---- file ------------------------------------------------------------------------------------

struct file::impl {
    std::string                               name;
    mapped_file                               map; // empty for from_memory()
    std::span<const uint8_t>                  bytes;
    uint32_t                                  version     = 0;
    uint64_t                                  alignment   = k_default_alignment;
    uint64_t                                  data_offset = 0;
    std::vector<metadata_entry>               metadata;
    std::map<std::string, size_t, std::less<>> key_index;
    std::vector<tensor_info>                  tensors;
    std::map<std::string, size_t, std::less<>> tensor_index;

    void parse();
};

namespace {

std::string shape_string(const std::vector<int64_t> & shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) {
        s += (i ? ", " : "") + std::to_string(shape[i]);
    }
    return s + "]";
}

} // namespace

void file::impl::parse() {
    parser p(bytes, name);

    // Header.
    if (bytes.size() < 4) {
        p.fail("file is truncated: " + std::to_string(bytes.size()) + " bytes is too short for the 'GGUF' magic");
    }
    if (std::memcmp(bytes.data(), "GGUF", 4) != 0) {
        static const char hex[] = "0123456789abcdef";
        std::string       got;
        for (int i = 0; i < 4; ++i) {
            got += hex[bytes[i] >> 4];
            got += hex[bytes[i] & 15];
        }
        p.fail("bad magic 0x" + got + " (expected \"GGUF\" = 0x47475546): not a GGUF file");
    }
    p.read<uint32_t>("magic", "header");
    version = p.read<uint32_t>("version", "header");
    if (version == 1) {
        p.fail("unsupported version 1 (GGUF v1 is obsolete; only versions 2 and 3 are supported, re-convert the model)");
    }
    if (version != 2 && version != 3) {
        std::string hint;
        const uint32_t swapped = (version >> 24) | ((version >> 8) & 0xff00u) | ((version << 8) & 0xff0000u) | (version << 24);
        if (swapped == 2 || swapped == 3) {
            hint = "; it looks byte-swapped, i.e. a big-endian file";
        }
        p.fail("unsupported version " + std::to_string(version) + " (only versions 2 and 3 are supported" + hint + ")");
    }
    const auto n_tensors = p.read<uint64_t>("tensor count", "header");
    const auto n_kv      = p.read<uint64_t>("metadata count", "header");
    // Both tables follow; each entry needs a minimum number of bytes, so a count that cannot
    // fit is rejected before anything is allocated (a count of 2^60 fails here).
    p.check_count(n_kv, k_min_kv_bytes, "metadata count", "header");
    p.check_count(n_tensors, k_min_tensor_bytes, "tensor count", "header");
    if (n_kv * k_min_kv_bytes > p.remaining() - n_tensors * k_min_tensor_bytes) {
        p.fail("header: metadata count " + std::to_string(n_kv) + " and tensor count " + std::to_string(n_tensors) +
               " cannot fit together in the " + std::to_string(p.remaining()) + " bytes left (file size " +
               std::to_string(p.size()) + ")");
    }

    // Metadata.
    for (uint64_t i = 0; i < n_kv; ++i) {
        const std::string entry_where = "metadata entry #" + std::to_string(i);
        std::string       key         = p.read_string("key", entry_where);
        const std::string where       = "key " + quoted(key);
        if (const auto it = key_index.find(key); it != key_index.end()) {
            p.fail("duplicate metadata key " + quoted(key) + " (entries #" + std::to_string(it->second) + " and #" +
                   std::to_string(i) + ")");
        }
        const auto raw_type = p.read<uint32_t>("value type", where);
        if (!is_known_value_type(raw_type)) {
            p.fail(where + ": unknown value type " + std::to_string(raw_type) + " at offset " +
                   std::to_string(p.pos() - 4));
        }
        value v = p.read_value(static_cast<value_type>(raw_type), where, 0);
        key_index.emplace(key, metadata.size());
        metadata.push_back(metadata_entry{std::move(key), std::move(v)});
    }

    if (const auto it = key_index.find(k_alignment_key); it != key_index.end()) {
        const value & v = metadata[it->second].val;
        if (std::holds_alternative<uint64_t>(v.data) || std::holds_alternative<int64_t>(v.data)) {
            const int64_t  as_signed = std::holds_alternative<int64_t>(v.data) ? std::get<int64_t>(v.data) : 0;
            const uint64_t a         = as_signed < 0 ? 0 : v.as_u64(k_alignment_key);
            if (as_signed < 0 || a == 0 || !std::has_single_bit(a)) {
                p.fail(std::string(k_alignment_key) + " " + v.to_display_string() + " is not a nonzero power of two");
            }
            alignment = a;
        } else {
            p.fail(std::string(k_alignment_key) + " has type " + value_type_name(v.type) +
                   ", expected an unsigned integer");
        }
    }

    // Tensor table.
    for (uint64_t i = 0; i < n_tensors; ++i) {
        const std::string entry_where = "tensor #" + std::to_string(i);
        tensor_info       t;
        t.name                  = p.read_string("name", entry_where);
        const std::string where = "tensor " + quoted(t.name);
        if (const auto it = tensor_index.find(t.name); it != tensor_index.end()) {
            p.fail("duplicate tensor name " + quoted(t.name) + " (tensors #" + std::to_string(it->second) + " and #" +
                   std::to_string(i) + ")");
        }
        const auto n_dims = p.read<uint32_t>("n_dims", where);
        if (n_dims == 0 || n_dims > k_max_dims) {
            p.fail(where + ": n_dims " + std::to_string(n_dims) + " is out of range (must be 1.." +
                   std::to_string(k_max_dims) + ")");
        }
        int64_t n_elements = 1;
        t.shape.reserve(n_dims);
        for (uint32_t d = 0; d < n_dims; ++d) {
            const auto ne = p.read<uint64_t>("dimension", where);
            if (ne == 0 || ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
                p.fail(where + ": dimension " + std::to_string(d) + " is " +
                       std::to_string(static_cast<int64_t>(ne)) + " (must be positive)");
            }
            const auto sne = static_cast<int64_t>(ne);
            if (n_elements > std::numeric_limits<int64_t>::max() / sne) {
                t.shape.push_back(sne);
                p.fail(where + ": element count of shape " + shape_string(t.shape) + " overflows int64");
            }
            n_elements *= sne;
            t.shape.push_back(sne);
        }
        const auto raw_type = p.read<uint32_t>("type", where);
        const auto type     = dtype_from_u32(raw_type);
        if (!type) {
            p.fail(where + ": unknown tensor type id " + std::to_string(raw_type));
        }
        t.type                  = *type;
        const dtype_traits & tr = traits(t.type);
        if (static_cast<uint64_t>(t.shape[0]) % tr.block_size != 0) {
            p.fail(where + ": row length ne[0] = " + std::to_string(t.shape[0]) + " is not a multiple of the " +
                   tr.name + " block size " + std::to_string(tr.block_size));
        }
        const auto row = row_bytes(t.type, t.shape[0]);
        const auto n_rows = static_cast<uint64_t>(n_elements / t.shape[0]);
        if (!row || (*row != 0 && n_rows > std::numeric_limits<size_t>::max() / *row)) {
            p.fail(where + ": data size of shape " + shape_string(t.shape) + " as " + tr.name + " overflows");
        }
        t.n_bytes = *row * static_cast<size_t>(n_rows);
        t.offset  = p.read<uint64_t>("data offset", where);
        if (t.offset % alignment != 0) {
            p.fail(where + ": data offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
                   std::to_string(alignment));
        }
        tensor_index.emplace(t.name, tensors.size());
        tensors.push_back(std::move(t));
    }

    // Data section: starts at the next multiple of the alignment.
    const uint64_t end_of_tables = p.pos();
    if (end_of_tables > std::numeric_limits<uint64_t>::max() - (alignment - 1)) {
        p.fail("data section start overflows (alignment " + std::to_string(alignment) + ")");
    }
    data_offset = (end_of_tables + alignment - 1) / alignment * alignment;
    if (!tensors.empty() && data_offset > bytes.size()) {
        p.fail("data section starts at offset " + std::to_string(data_offset) + ", past the end of the file (size " +
               std::to_string(bytes.size()) + ")");
    }
    const uint64_t available = data_offset <= bytes.size() ? bytes.size() - data_offset : 0;
    for (tensor_info & t : tensors) {
        if (t.offset > available || t.n_bytes > available - t.offset) {
            const bool        absolute_fits = t.offset <= std::numeric_limits<uint64_t>::max() - data_offset;
            const std::string where_at      = absolute_fits ? "offset " + std::to_string(data_offset + t.offset)
                                                            : "data-section offset " + std::to_string(t.offset);
            p.fail("tensor " + quoted(t.name) + " data [" + where_at + ", " + std::to_string(t.n_bytes) +
                   " bytes] lies past the end of the file (size " + std::to_string(bytes.size()) + ")");
        }
        t.data = bytes.data() + data_offset + t.offset;
    }
}

file::file(std::unique_ptr<impl> p) : m_impl(std::move(p)) {}
file::file(file &&) noexcept             = default;
file & file::operator=(file &&) noexcept = default;
file::~file()                            = default;

file file::open(const std::string & path) {
    auto p   = std::make_unique<impl>();
    p->name  = path;
    p->map   = mapped_file::open(path);
    p->bytes = p->map.bytes();
    p->parse();
    return file(std::move(p));
}

uint8_t * file::writable(const uint8_t * p) const { return m_impl->map.writable(p); }

void file::seal() { m_impl->map.seal(); }

bool file::make_resident(const std::function<bool(float)> & progress) {
    impl &          m = *m_impl;
    const uint8_t * old_base = m.bytes.data();
    if (m.map.size() == 0 || !m.map.make_resident(progress)) {
        return m.map.resident();
    }
    m.bytes = m.map.bytes();
    for (tensor_info & t : m.tensors) {
        t.data = m.bytes.data() + (t.data - old_base);
    }
    return true;
}

file file::from_memory(std::span<const uint8_t> bytes, std::string name) {
    auto p   = std::make_unique<impl>();
    p->name  = std::move(name);
    p->bytes = bytes;
    p->parse();
    return file(std::move(p));
}

const std::string & file::path() const { return m_impl->name; }
uint32_t            file::version() const { return m_impl->version; }
uint64_t            file::alignment() const { return m_impl->alignment; }
uint64_t            file::file_size() const { return m_impl->bytes.size(); }
uint64_t            file::data_offset() const { return m_impl->data_offset; }

const std::vector<metadata_entry> & file::metadata() const { return m_impl->metadata; }

const value * file::find(std::string_view key) const {
    const auto it = m_impl->key_index.find(key);
    return it == m_impl->key_index.end() ? nullptr : &m_impl->metadata[it->second].val;
}

namespace {

const value & require(const file & f, std::string_view key) {
    const value * v = f.find(key);
    if (v == nullptr) {
        throw Error(ErrorCode::format, "gguf: required key " + quoted(key) + " is missing");
    }
    return *v;
}

uint32_t to_u32(const value & v, std::string_view key) {
    const uint64_t u = v.as_u64(key);
    if (u > std::numeric_limits<uint32_t>::max()) {
        fail_key(key, "value " + std::to_string(u) + " does not fit in uint32");
    }
    return static_cast<uint32_t>(u);
}

float to_f32(const value & v, std::string_view key) {
    if (v.type != value_type::float32 && v.type != value_type::float64) {
        fail_key(key, std::string("has type ") + value_type_name(v.type) + ", expected float32");
    }
    return static_cast<float>(v.as_f64(key));
}

const value::array_t & typed_array(const value & v, std::string_view key, bool (*accepts)(value_type),
                                   const char * expected) {
    const value::array_t & a = v.as_array(key);
    if (!accepts(a.element_type)) {
        fail_key(key, std::string("is an array of ") + value_type_name(a.element_type) + ", expected an array of " +
                          expected);
    }
    return a;
}

} // namespace

std::string file::get_string(std::string_view key) const { return require(*this, key).as_string(key); }
uint32_t    file::get_u32(std::string_view key) const { return to_u32(require(*this, key), key); }
float       file::get_f32(std::string_view key) const { return to_f32(require(*this, key), key); }
bool        file::get_bool(std::string_view key) const { return require(*this, key).as_bool(key); }

std::vector<std::string> file::get_string_array(std::string_view key) const {
    const auto & a = typed_array(
        require(*this, key), key, [](value_type t) { return t == value_type::string; }, "string");
    std::vector<std::string> out;
    out.reserve(a.elements.size());
    for (const value & e : a.elements) {
        out.push_back(std::get<std::string>(e.data));
    }
    return out;
}

std::vector<float> file::get_f32_array(std::string_view key) const {
    const auto & a = typed_array(
        require(*this, key), key,
        [](value_type t) { return t == value_type::float32 || t == value_type::float64; }, "float32");
    std::vector<float> out;
    out.reserve(a.elements.size());
    for (const value & e : a.elements) {
        out.push_back(static_cast<float>(std::get<double>(e.data)));
    }
    return out;
}

std::vector<int32_t> file::get_i32_array(std::string_view key) const {
    const auto & a = typed_array(
        require(*this, key), key,
        [](value_type t) {
            return t == value_type::int8 || t == value_type::uint8 || t == value_type::int16 ||
                   t == value_type::uint16 || t == value_type::int32 || t == value_type::uint32 ||
                   t == value_type::int64 || t == value_type::uint64;
        },
        "int32");
    std::vector<int32_t> out;
    out.reserve(a.elements.size());
    for (size_t i = 0; i < a.elements.size(); ++i) {
        const int64_t x = a.elements[i].as_i64(key);
        if (x < std::numeric_limits<int32_t>::min() || x > std::numeric_limits<int32_t>::max()) {
            fail_key(key, "element " + std::to_string(i) + " = " + std::to_string(x) + " does not fit in int32");
        }
        out.push_back(static_cast<int32_t>(x));
    }
    return out;
}

std::optional<std::string> file::get_string_opt(std::string_view key) const {
    const value * v = find(key);
    return v ? std::optional<std::string>(v->as_string(key)) : std::nullopt;
}

std::optional<uint32_t> file::get_u32_opt(std::string_view key) const {
    const value * v = find(key);
    return v ? std::optional<uint32_t>(to_u32(*v, key)) : std::nullopt;
}

std::optional<float> file::get_f32_opt(std::string_view key) const {
    const value * v = find(key);
    return v ? std::optional<float>(to_f32(*v, key)) : std::nullopt;
}

std::optional<bool> file::get_bool_opt(std::string_view key) const {
    const value * v = find(key);
    return v ? std::optional<bool>(v->as_bool(key)) : std::nullopt;
}

const std::vector<tensor_info> & file::tensors() const { return m_impl->tensors; }

const tensor_info * file::find_tensor(std::string_view name) const {
    const auto it = m_impl->tensor_index.find(name);
    return it == m_impl->tensor_index.end() ? nullptr : &m_impl->tensors[it->second];
}

const tensor_info & file::tensor(std::string_view name) const {
    const tensor_info * t = find_tensor(name);
    if (t == nullptr) {
        throw Error(ErrorCode::format, "gguf: tensor " + quoted(name) + " is missing from '" + m_impl->name + "'");
    }
    return *t;
}

} // namespace v4::gguf
