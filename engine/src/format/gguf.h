// GGUF v2/v3 reader. The file is memory-mapped; every offset, size, count, alignment and string
// length is checked against the file before it is used, and each failure throws a v4::Error
// (ErrorCode::format) whose message names the key or tensor and the offending number.
//
//   auto file = v4::gguf::file::open("model.gguf");
//   std::string arch = file.get_string("general.architecture");
//   uint32_t n_layer = file.get_u32(arch + ".block_count");
//   const v4::gguf::tensor_info & t = file.tensor("token_embd.weight");
//
// A file object is immutable after open() and safe to read from many threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tensor/dtype.h"

namespace v4::gguf {

// Metadata value types, numbered as in the GGUF specification.
enum class value_type : uint32_t {
    uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6,
    boolean = 7, string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12,
};
const char * value_type_name(value_type type);

// One metadata value. Arrays hold their element type and elements (arrays of arrays are allowed).
struct value {
    struct array_t {
        value_type         element_type = value_type::uint8;
        std::vector<value> elements;
    };
    value_type type = value_type::uint8;
    std::variant<uint64_t, int64_t, double, bool, std::string, array_t> data;

    // Conversions that check the stored type and range; they throw v4::Error naming `key`.
    uint64_t           as_u64(std::string_view key) const;
    int64_t            as_i64(std::string_view key) const;
    double             as_f64(std::string_view key) const;
    bool               as_bool(std::string_view key) const;
    const std::string &as_string(std::string_view key) const;
    const array_t &    as_array(std::string_view key) const;
    std::string        to_display_string(size_t max_elements = 8) const; // for `v4 inspect`
};

struct metadata_entry {
    std::string key;
    value       val;
};

struct tensor_info {
    std::string          name;
    dtype                type = dtype::f32;
    std::vector<int64_t> shape;        // ne[0] is the innermost (contiguous) dimension, as in ggml
    uint64_t             offset = 0;   // from the start of the data section
    size_t               n_bytes = 0;  // validated: fits in the file
    const uint8_t *      data = nullptr; // points into the mapping (or its resident copy)

    int64_t n_elements() const;
};

class file {
public:
    // Throws v4::Error (io or format) with a precise message.
    static file open(const std::string & path);
    // Parses an in-memory image (used by the fuzzer and tests); `bytes` must outlive the file.
    static file from_memory(std::span<const uint8_t> bytes, std::string name = "<memory>");

    file(file &&) noexcept;
    file & operator=(file &&) noexcept;
    ~file();

    const std::string & path() const;
    uint32_t            version() const;
    uint64_t            alignment() const;
    uint64_t            file_size() const;
    uint64_t            data_offset() const; // start of the data section, a multiple of alignment()

    const std::vector<metadata_entry> & metadata() const;
    const value *                       find(std::string_view key) const; // nullptr when absent

    // Typed getters: throw v4::Error (format) when the key is missing or has another type.
    std::string              get_string(std::string_view key) const;
    uint32_t                 get_u32(std::string_view key) const;
    float                    get_f32(std::string_view key) const;
    bool                     get_bool(std::string_view key) const;
    std::vector<std::string> get_string_array(std::string_view key) const;
    std::vector<float>       get_f32_array(std::string_view key) const;
    std::vector<int32_t>     get_i32_array(std::string_view key) const;
    // Optional variants return the fallback when the key is absent (but still throw on a type mismatch).
    std::optional<std::string> get_string_opt(std::string_view key) const;
    std::optional<uint32_t>    get_u32_opt(std::string_view key) const;
    std::optional<float>       get_f32_opt(std::string_view key) const;
    std::optional<bool>        get_bool_opt(std::string_view key) const;

    // Moves the file into huge-page memory (mapped_file::make_resident); every tensor_info::data
    // moves with it, so call this before handing tensor pointers out. False when the file stays
    // mapped (larger than half the available memory) or was parsed from memory.
    bool make_resident(const std::function<bool(float)> & progress = {});
    // mapped_file::writable / seal for the resident copy.
    uint8_t * writable(const uint8_t * p) const;
    void      seal();

    const std::vector<tensor_info> & tensors() const;
    const tensor_info *              find_tensor(std::string_view name) const; // nullptr when absent
    const tensor_info &              tensor(std::string_view name) const;      // throws when absent

private:
    struct impl;
    explicit file(std::unique_ptr<impl> p);
    std::unique_ptr<impl> m_impl;
};

} // namespace v4::gguf
