#include "tensor/dtype.h"

#include <array>
#include <limits>

namespace v4 {

namespace {

struct dtype_entry {
    dtype        type;
    dtype_traits traits;
};

// Geometry as ggml's type_traits (ggml.c) and ggml-common.h define it. Q8_1 is 36 bytes in ggml
// (half d, half s, int8 qs[32]); gguf-py's table still says 40, which is stale.
constexpr std::array k_dtypes = {
    dtype_entry{dtype::f32,     {"f32",     1,   4,   true }},
    dtype_entry{dtype::f16,     {"f16",     1,   2,   true }},
    dtype_entry{dtype::q4_0,    {"q4_0",    32,  18,  true }},
    dtype_entry{dtype::q4_1,    {"q4_1",    32,  20,  true }},
    dtype_entry{dtype::q5_0,    {"q5_0",    32,  22,  true }},
    dtype_entry{dtype::q5_1,    {"q5_1",    32,  24,  true }},
    dtype_entry{dtype::q8_0,    {"q8_0",    32,  34,  true }},
    dtype_entry{dtype::q8_1,    {"q8_1",    32,  36,  false}},
    dtype_entry{dtype::q2_k,    {"q2_K",    256, 84,  false}},
    dtype_entry{dtype::q3_k,    {"q3_K",    256, 110, true }},
    dtype_entry{dtype::q4_k,    {"q4_K",    256, 144, true }},
    dtype_entry{dtype::q5_k,    {"q5_K",    256, 176, true }},
    dtype_entry{dtype::q6_k,    {"q6_K",    256, 210, true }},
    dtype_entry{dtype::q8_k,    {"q8_K",    256, 292, false}},
    dtype_entry{dtype::iq2_xxs, {"iq2_xxs", 256, 66,  false}},
    dtype_entry{dtype::iq2_xs,  {"iq2_xs",  256, 74,  false}},
    dtype_entry{dtype::iq3_xxs, {"iq3_xxs", 256, 98,  false}},
    dtype_entry{dtype::iq1_s,   {"iq1_s",   256, 50,  false}},
    dtype_entry{dtype::iq4_nl,  {"iq4_nl",  32,  18,  false}},
    dtype_entry{dtype::iq3_s,   {"iq3_s",   256, 110, false}},
    dtype_entry{dtype::iq2_s,   {"iq2_s",   256, 82,  false}},
    dtype_entry{dtype::iq4_xs,  {"iq4_xs",  256, 136, false}},
    dtype_entry{dtype::i8,      {"i8",      1,   1,   false}},
    dtype_entry{dtype::i16,     {"i16",     1,   2,   false}},
    dtype_entry{dtype::i32,     {"i32",     1,   4,   false}},
    dtype_entry{dtype::i64,     {"i64",     1,   8,   false}},
    dtype_entry{dtype::f64,     {"f64",     1,   8,   false}},
    dtype_entry{dtype::iq1_m,   {"iq1_m",   256, 56,  false}},
    dtype_entry{dtype::bf16,    {"bf16",    1,   2,   true }},
    dtype_entry{dtype::tq1_0,   {"tq1_0",   256, 54,  false}},
    dtype_entry{dtype::tq2_0,   {"tq2_0",   256, 66,  false}},
    dtype_entry{dtype::mxfp4,   {"mxfp4",   32,  17,  true }},
    dtype_entry{dtype::nvfp4,   {"nvfp4",   64,  36,  false}},
    dtype_entry{dtype::q1_0,    {"q1_0",    128, 18,  false}},
};

constexpr std::array<dtype, k_dtypes.size()> make_type_list() {
    std::array<dtype, k_dtypes.size()> out{};
    for (size_t i = 0; i < k_dtypes.size(); ++i) {
        out[i] = k_dtypes[i].type;
    }
    return out;
}

constexpr std::array k_type_list = make_type_list();

const dtype_entry * lookup(uint32_t raw) {
    for (const dtype_entry & e : k_dtypes) {
        if (static_cast<uint32_t>(e.type) == raw) {
            return &e;
        }
    }
    return nullptr;
}

} // namespace

std::optional<dtype> dtype_from_u32(uint32_t raw) {
    const dtype_entry * e = lookup(raw);
    if (e == nullptr) {
        return std::nullopt;
    }
    return e->type;
}

const dtype_traits & traits(dtype t) {
    const dtype_entry * e = lookup(static_cast<uint32_t>(t));
    if (e == nullptr) {
        // Only reachable by casting an arbitrary number to dtype, which is a programming error.
        static const dtype_traits unknown{"unknown", 1, 0, false};
        return unknown;
    }
    return e->traits;
}

std::optional<size_t> row_bytes(dtype t, int64_t n) {
    const dtype_traits & tr = traits(t);
    if (n < 0 || tr.block_bytes == 0) {
        return std::nullopt;
    }
    const uint64_t un = static_cast<uint64_t>(n);
    if (un % tr.block_size != 0) {
        return std::nullopt;
    }
    const uint64_t n_blocks = un / tr.block_size;
    if (n_blocks > std::numeric_limits<size_t>::max() / tr.block_bytes) {
        return std::nullopt;
    }
    return static_cast<size_t>(n_blocks * tr.block_bytes);
}

std::span<const dtype> all_dtypes() {
    return k_type_list;
}

} // namespace v4
