// Tensor element types, numbered as ggml/GGUF numbers them, with their block geometry.
// Block layouts (bytes per block, elements per block) follow ggml-common.h exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace v4 {

enum class dtype : uint32_t {
    f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9,
    q2_k = 10, q3_k = 11, q4_k = 12, q5_k = 13, q6_k = 14, q8_k = 15,
    // Known so that files using them parse and `v4 inspect` can name them; not supported.
    iq2_xxs = 16, iq2_xs = 17, iq3_xxs = 18, iq1_s = 19, iq4_nl = 20, iq3_s = 21, iq2_s = 22, iq4_xs = 23,
    i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, iq1_m = 29, bf16 = 30,
    tq1_0 = 34, tq2_0 = 35, mxfp4 = 39, nvfp4 = 40, q1_0 = 41,
};

struct dtype_traits {
    const char * name;         // as ggml prints it: "f32", "q4_K", ...
    size_t       block_size;   // elements per block (1 for plain types)
    size_t       block_bytes;  // bytes per block
    bool         supported;    // V4 Chat can dequantize and multiply it
};

// nullopt for a number ggml has never used or that V4 Chat does not know.
std::optional<dtype> dtype_from_u32(uint32_t raw);
const dtype_traits & traits(dtype t);

// Bytes of a row of `n` elements; nullopt when n is negative, not a multiple of the block size,
// or the byte count does not fit in size_t.
std::optional<size_t> row_bytes(dtype t, int64_t n);

// All known types, in numeric order (for tests and `v4 inspect`).
std::span<const dtype> all_dtypes();

} // namespace v4
