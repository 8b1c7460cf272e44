// Writes small GGUF images in memory for the reader tests, including deliberately broken ones:
// every header field, count, type id and offset can be overridden.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace v4test {

using bytes = std::vector<uint8_t>;

template <typename T> void put(bytes & b, T v) {
    uint8_t raw[sizeof(T)];
    std::memcpy(raw, &v, sizeof(T));
    b.insert(b.end(), raw, raw + sizeof(T));
}

inline void put_string(bytes & b, std::string_view s) {
    put<uint64_t>(b, s.size());
    b.insert(b.end(), s.begin(), s.end());
}

// GGUF value type ids (gguf.h value_type).
enum gguf_vt : uint32_t {
    vt_u8 = 0, vt_i8, vt_u16, vt_i16, vt_u32, vt_i32, vt_f32, vt_bool, vt_string, vt_array, vt_u64, vt_i64, vt_f64,
};

struct gguf_builder {
    struct tensor {
        std::string           name;
        std::vector<uint64_t> ne;
        uint32_t              type   = 0;
        uint64_t              offset = 0;
        std::optional<uint32_t> n_dims_override;
    };

    std::string             magic   = "GGUF";
    uint32_t                version = 3;
    std::optional<uint64_t> n_tensors_override;
    std::optional<uint64_t> n_kv_override;
    uint64_t                alignment = 32; // used to place the data section; write general.alignment yourself
    std::vector<bytes>      kvs;            // each: encoded key, type, value
    std::vector<tensor>     tensors;
    uint64_t                data_size = 0; // bytes of zeros written after the aligned tables

    void kv_raw(std::string_view key, uint32_t type, const bytes & value) {
        bytes b;
        put_string(b, key);
        put<uint32_t>(b, type);
        b.insert(b.end(), value.begin(), value.end());
        kvs.push_back(std::move(b));
    }
    template <typename T> void kv(std::string_view key, uint32_t type, T v) {
        bytes b;
        put<T>(b, v);
        kv_raw(key, type, b);
    }
    void kv_string(std::string_view key, std::string_view s) {
        bytes b;
        put_string(b, s);
        kv_raw(key, vt_string, b);
    }
    template <typename T> void kv_array(std::string_view key, uint32_t elem_type, const std::vector<T> & v) {
        bytes b;
        put<uint32_t>(b, elem_type);
        put<uint64_t>(b, v.size());
        for (const T & x : v) {
            put<T>(b, x);
        }
        kv_raw(key, vt_array, b);
    }
    void kv_string_array(std::string_view key, const std::vector<std::string> & v) {
        bytes b;
        put<uint32_t>(b, vt_string);
        put<uint64_t>(b, v.size());
        for (const auto & s : v) {
            put_string(b, s);
        }
        kv_raw(key, vt_array, b);
    }

    // Adds a tensor placed right after the previous one (aligned); returns its data size.
    uint64_t add_tensor(std::string name, std::vector<uint64_t> ne, uint32_t type, uint64_t n_bytes) {
        uint64_t off = (data_size + alignment - 1) / alignment * alignment;
        tensors.push_back(tensor{std::move(name), std::move(ne), type, off, std::nullopt});
        data_size = off + n_bytes;
        return n_bytes;
    }

    bytes build() const {
        bytes b(magic.begin(), magic.end());
        put<uint32_t>(b, version);
        put<uint64_t>(b, n_tensors_override.value_or(tensors.size()));
        put<uint64_t>(b, n_kv_override.value_or(kvs.size()));
        for (const bytes & kv : kvs) {
            b.insert(b.end(), kv.begin(), kv.end());
        }
        for (const tensor & t : tensors) {
            put_string(b, t.name);
            put<uint32_t>(b, t.n_dims_override.value_or(static_cast<uint32_t>(t.ne.size())));
            for (uint64_t d : t.ne) {
                put<uint64_t>(b, d);
            }
            put<uint32_t>(b, t.type);
            put<uint64_t>(b, t.offset);
        }
        if (!tensors.empty() || data_size != 0) {
            b.resize((b.size() + alignment - 1) / alignment * alignment, 0);
        }
        b.resize(b.size() + data_size, 0);
        return b;
    }
};

} // namespace v4test
