// Block layouts of the quantized types, byte for byte as ggml-common.h defines them, and the
// type numbers ggml and GGUF use. kernels/ does not include the engine: the engine's v4::dtype
// has the same numbering and converts with a static_cast.
#pragma once

#include <cstddef>
#include <cstdint>

namespace v4::kernels {

// ggml type numbers of the types the kernels handle.
enum class qtype : uint32_t {
    f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8,
    q3_k = 11, q4_k = 12, q5_k = 13, q6_k = 14, q8_k = 15, bf16 = 30, mxfp4 = 39,
};

constexpr int qk4_0  = 32;
constexpr int qk8_0  = 32;
constexpr int qk_mx  = 32;  // MXFP4
constexpr int qk_k   = 256; // super-block of the K-quants
constexpr int k_scale_size = 12;

using ggml_half = uint16_t; // IEEE binary16 bits

// y = d * (q - 8); qs[j] holds element j in its low nibble and element j + 16 in its high nibble.
struct block_q4_0 {
    ggml_half d;
    uint8_t   qs[qk4_0 / 2];
};
static_assert(sizeof(block_q4_0) == 18, "wrong q4_0 block size");

// y = d * q
struct block_q8_0 {
    ggml_half d;
    int8_t    qs[qk8_0];
};
static_assert(sizeof(block_q8_0) == 34, "wrong q8_0 block size");

// y = kvalues_mxfp4[nibble] * 2^(e - 128): E2M1 values doubled, E8M0 scale halved.
struct block_mxfp4 {
    uint8_t e;
    uint8_t qs[qk_mx / 2];
};
static_assert(sizeof(block_mxfp4) == 17, "wrong mxfp4 block size");

// 16 sub-blocks of 16: y = d * (scale - 32) * (q2 - (hmask bit ? 0 : 4)), 6-bit scales.
struct block_q3_k {
    uint8_t   hmask[qk_k / 8];
    uint8_t   qs[qk_k / 4];
    uint8_t   scales[12];
    ggml_half d;
};
static_assert(sizeof(block_q3_k) == 110, "wrong q3_K block size");

// 8 sub-blocks of 32: y = d * sc * q - dmin * m, with 6-bit sc/m packed in `scales`.
struct block_q4_k {
    ggml_half d;
    ggml_half dmin;
    uint8_t   scales[k_scale_size];
    uint8_t   qs[qk_k / 2];
};
static_assert(sizeof(block_q4_k) == 144, "wrong q4_K block size");

// As q4_K with a fifth bit per element in qh.
struct block_q5_k {
    ggml_half d;
    ggml_half dmin;
    uint8_t   scales[k_scale_size];
    uint8_t   qh[qk_k / 8];
    uint8_t   qs[qk_k / 2];
};
static_assert(sizeof(block_q5_k) == 176, "wrong q5_K block size");

// 16 sub-blocks of 16: y = d * scale * (q - 32), q = 4 low bits (ql) + 2 high bits (qh).
struct block_q6_k {
    uint8_t   ql[qk_k / 2];
    uint8_t   qh[qk_k / 4];
    int8_t    scales[qk_k / 16];
    ggml_half d;
};
static_assert(sizeof(block_q6_k) == 210, "wrong q6_K block size");

// Activations for the K-quant dot products: d is fp32, bsums[j] = sum of qs[16j .. 16j+15].
struct block_q8_k {
    float   d;
    int8_t  qs[qk_k];
    int16_t bsums[qk_k / 16];
};
static_assert(sizeof(block_q8_k) == 292, "wrong q8_K block size");

// E2M1 values, doubled so that they are integers (the scale is halved to match).
inline constexpr int8_t kvalues_mxfp4[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

// Elements and bytes per block for a type; {0, 0} for a type this file does not know.
struct block_geometry {
    int    block_size;
    size_t block_bytes;
};
constexpr block_geometry geometry(qtype t) {
    switch (t) {
        case qtype::f32:   return {1, 4};
        case qtype::f16:   return {1, 2};
        case qtype::bf16:  return {1, 2};
        case qtype::q4_0:  return {qk4_0, sizeof(block_q4_0)};
        case qtype::q4_1:  return {32, 20}; // block_q4_1 and friends: reference/dequantize_legacy.h
        case qtype::q5_0:  return {32, 22};
        case qtype::q5_1:  return {32, 24};
        case qtype::q8_0:  return {qk8_0, sizeof(block_q8_0)};
        case qtype::mxfp4: return {qk_mx, sizeof(block_mxfp4)};
        case qtype::q3_k:  return {qk_k, sizeof(block_q3_k)};
        case qtype::q4_k:  return {qk_k, sizeof(block_q4_k)};
        case qtype::q5_k:  return {qk_k, sizeof(block_q5_k)};
        case qtype::q6_k:  return {qk_k, sizeof(block_q6_k)};
        case qtype::q8_k:  return {qk_k, sizeof(block_q8_k)};
    }
    return {0, 0};
}

} // namespace v4::kernels
