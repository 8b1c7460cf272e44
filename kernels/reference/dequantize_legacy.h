// Scalar reference for the "legacy" ggml types with an offset or a fifth bit: Q4_1, Q5_0, Q5_1
// (ggml-quants.c dequantize_row_q4_1/q5_0/q5_1). Kept apart from dequantize.h, which covers the
// types of the design list; the default model (Gemma 3 270M Q4_K_M) uses Q5_0 for attn_q/k and
// ffn_gate/up.
#pragma once

#include <cstdint>

#include "reference/quant_blocks.h"

namespace v4::kernels {

inline constexpr uint32_t qtype_q4_1 = 3;
inline constexpr uint32_t qtype_q5_0 = 6;
inline constexpr uint32_t qtype_q5_1 = 7;

// y = d * q + m
struct block_q4_1 {
    ggml_half d;
    ggml_half m;
    uint8_t   qs[16]; // element j in the low nibble of qs[j], element j + 16 in the high nibble
};
static_assert(sizeof(block_q4_1) == 20, "wrong q4_1 block size");

// y = d * (q - 16), q = nibble | (bit j of qh) << 4
struct block_q5_0 {
    ggml_half d;
    uint8_t   qh[4];  // bit j is the fifth bit of element j (little endian uint32)
    uint8_t   qs[16];
};
static_assert(sizeof(block_q5_0) == 22, "wrong q5_0 block size");

// y = d * q + m, q = nibble | (bit j of qh) << 4
struct block_q5_1 {
    ggml_half d;
    ggml_half m;
    uint8_t   qh[4];
    uint8_t   qs[16];
};
static_assert(sizeof(block_q5_1) == 24, "wrong q5_1 block size");

namespace ref {

// n must be a multiple of 32.
void dequantize_row_q4_1(const block_q4_1 * src, float * dst, int64_t n);
void dequantize_row_q5_0(const block_q5_0 * src, float * dst, int64_t n);
void dequantize_row_q5_1(const block_q5_1 * src, float * dst, int64_t n);

// dequantize_row() for every type it knows plus the three above; false for anything else.
bool dequantize_row_any(uint32_t ggml_type, const void * src, float * dst, int64_t n);

} // namespace ref
} // namespace v4::kernels
