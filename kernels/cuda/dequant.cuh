// Device-side dequantization of GGUF rows, shared by the GEMV, GEMM-tile and get_rows kernels.
//
// Every supported type is cut into "chunks" of 32 consecutive elements of a row: chunk c covers
// elements [32c, 32c + 32). A 32-element block type (q4_0, q4_1, q5_0, q5_1, q8_0, mxfp4) has one
// chunk per block; a 256-element K-quant super-block has eight, each with one scale (and min);
// plain f32/f16/bf16 rows are cut every 32 elements. One thread dequantizing one chunk then needs
// no cooperation, which keeps every kernel's indexing the same: `c / chunks_per_block` is the
// block, `c % chunks_per_block` the chunk inside it.
//
// Bytes are read one at a time: GGUF blocks are 17..210 bytes, so a block (or its fp16 scale) is
// not aligned in general. The formulas and their order follow kernels/reference/dequantize.cpp,
// which the tests compare against. Everything here is __host__ __device__, so a unit test checks
// the chunk arithmetic against the reference on machines without a GPU (test_cuda_dequant_host).
#pragma once

#include <cstdint>
#include <cstring>

#include <cuda_fp16.h>
#include <cuda_runtime.h>

namespace v4::kernels::cuda {

// ggml type numbers (kernels/reference/quant_blocks.h qtype).
enum : uint32_t {
    t_f32 = 0, t_f16 = 1, t_q4_0 = 2, t_q4_1 = 3, t_q5_0 = 6, t_q5_1 = 7, t_q8_0 = 8,
    t_q3_k = 11, t_q4_k = 12, t_q5_k = 13, t_q6_k = 14, t_bf16 = 30, t_mxfp4 = 39,
};

__host__ __device__ __forceinline__ float bits_to_float(uint32_t bits) {
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

__host__ __device__ __forceinline__ float ld_f16(const uint8_t * p) {
    const unsigned short bits = static_cast<unsigned short>(p[0] | (p[1] << 8));
    return __half2float(__ushort_as_half(bits));
}

__host__ __device__ __forceinline__ float ld_bf16(const uint8_t * p) {
    const uint32_t bits = static_cast<uint32_t>(p[0] | (p[1] << 8)) << 16;
    return bits_to_float(bits);
}

__host__ __device__ __forceinline__ float ld_f32(const uint8_t * p) {
    const uint32_t bits = static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
                          (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
    return bits_to_float(bits);
}

// 2^(e - 128) (ggml_e8m0_to_fp32_half); e < 2 gives the subnormal 2^-127 / 2^-128 exactly.
__host__ __device__ __forceinline__ float e8m0_half(uint8_t e) {
    const uint32_t bits = e < 2 ? (0x00200000u << e) : (static_cast<uint32_t>(e - 1) << 23);
    return bits_to_float(bits);
}

// q4_K / q5_K: the 6-bit scale and min of sub-block j (0..7) (ggml get_scale_min_k4).
__host__ __device__ __forceinline__ void scale_min_k4(int j, const uint8_t * q, float & sc, float & mn) {
    if (j < 4) {
        sc = static_cast<float>(q[j] & 63);
        mn = static_cast<float>(q[j + 4] & 63);
    } else {
        sc = static_cast<float>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        mn = static_cast<float>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

// q3_K: the signed 6-bit scale of 16-element group `is` (0..15) of a super-block.
__host__ __device__ __forceinline__ int q3k_scale(const uint8_t * scales, int is) {
    const int low = is < 8 ? (scales[is] & 0xF) : (scales[is - 8] >> 4);
    const int high = (scales[8 + is % 4] >> (2 * (is / 4))) & 3;
    return (low | (high << 4)) - 32;
}

// Chunk c of a q3_K row (super-block: hmask[32] qs[64] scales[12] d): chunk k = c % 8 is half
// h = k / 4 of the super-block and 2-bit shift group j = k % 4; element l (0..31) of the chunk is
// scale(l / 16) * q(l).
struct q3k_chunk {
    const uint8_t * hmask, * qs, * scales;
    float           d_all;
    int             h, j;
    uint8_t         m; // the hmask bit of this chunk
    __host__ __device__ q3k_chunk(const uint8_t * row, int64_t c) {
        const uint8_t * b = row + (c >> 3) * 110;
        const int       k = static_cast<int>(c & 7);
        h = k >> 2;
        j = k & 3;
        hmask = b;
        qs = b + 32 + 32 * h;
        scales = b + 96;
        d_all = ld_f16(b + 108);
        m = static_cast<uint8_t>(1u << (4 * h + j));
    }
    __host__ __device__ float scale(int half) const {
        return d_all * static_cast<float>(q3k_scale(scales, 8 * h + 2 * j + half));
    }
    __host__ __device__ int q(int l) const { return ((qs[l] >> (2 * j)) & 3) - ((hmask[l] & m) ? 0 : 4); }
};

// Block geometry: {elements per block, bytes per block}; 0 elements for an unsupported type.
__host__ __device__ constexpr int block_elems(uint32_t t) {
    return t == t_f32 || t == t_f16 || t == t_bf16 ? 1
         : t == t_q3_k || t == t_q4_k || t == t_q5_k || t == t_q6_k ? 256
         : t == t_q4_0 || t == t_q4_1 || t == t_q5_0 || t == t_q5_1 || t == t_q8_0 || t == t_mxfp4 ? 32 : 0;
}
__host__ __device__ constexpr int block_bytes(uint32_t t) {
    switch (t) {
        case t_f32: return 4;
        case t_f16: case t_bf16: return 2;
        case t_q4_0: return 18;
        case t_q4_1: return 20;
        case t_q5_0: return 22;
        case t_q5_1: return 24;
        case t_q8_0: return 34;
        case t_mxfp4: return 17;
        case t_q3_k: return 110;
        case t_q4_k: return 144;
        case t_q5_k: return 176;
        case t_q6_k: return 210;
        default: return 0;
    }
}

// Writes elements [32c, 32c + 32) of `row` (a row of type t) to out[0..31].
__host__ __device__ inline void dequant_chunk(uint32_t t, const uint8_t * row, int64_t c, float out[32]) {
    switch (t) {
        case t_f32: {
            const uint8_t * p = row + c * 128;
            for (int l = 0; l < 32; ++l) out[l] = ld_f32(p + 4 * l);
            return;
        }
        case t_f16: {
            const uint8_t * p = row + c * 64;
            for (int l = 0; l < 32; ++l) out[l] = ld_f16(p + 2 * l);
            return;
        }
        case t_bf16: {
            const uint8_t * p = row + c * 64;
            for (int l = 0; l < 32; ++l) out[l] = ld_bf16(p + 2 * l);
            return;
        }
        case t_q4_0: { // d; qs[16]: low nibble element j, high nibble j + 16
            const uint8_t * b = row + c * 18;
            const float     d = ld_f16(b);
            for (int j = 0; j < 16; ++j) {
                out[j]      = static_cast<float>((b[2 + j] & 0xF) - 8) * d;
                out[j + 16] = static_cast<float>((b[2 + j] >> 4) - 8) * d;
            }
            return;
        }
        case t_q4_1: { // d, m; qs[16]
            const uint8_t * b = row + c * 20;
            const float     d = ld_f16(b), m = ld_f16(b + 2);
            for (int j = 0; j < 16; ++j) {
                out[j]      = static_cast<float>(b[4 + j] & 0xF) * d + m;
                out[j + 16] = static_cast<float>(b[4 + j] >> 4) * d + m;
            }
            return;
        }
        case t_q5_0: { // d; qh[4] (bit j: 5th bit of element j); qs[16]
            const uint8_t * b = row + c * 22;
            const float     d = ld_f16(b);
            const uint32_t  qh = b[2] | (b[3] << 8) | (b[4] << 16) | (static_cast<uint32_t>(b[5]) << 24);
            for (int j = 0; j < 16; ++j) {
                const int xh0 = ((qh >> j) << 4) & 0x10;
                const int xh1 = (qh >> (j + 12)) & 0x10;
                out[j]      = static_cast<float>(((b[6 + j] & 0xF) | xh0) - 16) * d;
                out[j + 16] = static_cast<float>(((b[6 + j] >> 4) | xh1) - 16) * d;
            }
            return;
        }
        case t_q5_1: { // d, m; qh[4]; qs[16]
            const uint8_t * b = row + c * 24;
            const float     d = ld_f16(b), m = ld_f16(b + 2);
            const uint32_t  qh = b[4] | (b[5] << 8) | (b[6] << 16) | (static_cast<uint32_t>(b[7]) << 24);
            for (int j = 0; j < 16; ++j) {
                const int xh0 = ((qh >> j) << 4) & 0x10;
                const int xh1 = (qh >> (j + 12)) & 0x10;
                out[j]      = static_cast<float>((b[8 + j] & 0xF) | xh0) * d + m;
                out[j + 16] = static_cast<float>((b[8 + j] >> 4) | xh1) * d + m;
            }
            return;
        }
        case t_q8_0: {
            const uint8_t * b = row + c * 34;
            const float     d = ld_f16(b);
            for (int j = 0; j < 32; ++j) out[j] = static_cast<float>(static_cast<int8_t>(b[2 + j])) * d;
            return;
        }
        case t_mxfp4: {
            constexpr int8_t kv[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
            const uint8_t *  b = row + c * 17;
            const float      d = e8m0_half(b[0]);
            for (int j = 0; j < 16; ++j) {
                out[j]      = static_cast<float>(kv[b[1 + j] & 0xF]) * d;
                out[j + 16] = static_cast<float>(kv[b[1 + j] >> 4]) * d;
            }
            return;
        }
        case t_q3_k: {
            const q3k_chunk q3(row, c);
            for (int half = 0; half < 2; ++half) {
                const float dl = q3.scale(half);
                for (int l = 16 * half; l < 16 * half + 16; ++l) out[l] = dl * static_cast<float>(q3.q(l));
            }
            return;
        }
        case t_q4_k: { // d dmin scales[12] qs[128]; chunk k: byte group k/2, high nibble when k odd
            const uint8_t * b = row + (c >> 3) * 144;
            const int       k = static_cast<int>(c & 7);
            float           sc, mn;
            scale_min_k4(k, b + 4, sc, mn);
            const float     d = ld_f16(b) * sc, m = ld_f16(b + 2) * mn;
            const uint8_t * q = b + 16 + 32 * (k >> 1);
            const int       shift = (k & 1) * 4;
            for (int l = 0; l < 32; ++l) out[l] = d * static_cast<float>((q[l] >> shift) & 0xF) - m;
            return;
        }
        case t_q5_k: { // d dmin scales[12] qh[32] qs[128]; the fifth bit of chunk k is bit k of qh[l]
            const uint8_t * b = row + (c >> 3) * 176;
            const int       k = static_cast<int>(c & 7);
            float           sc, mn;
            scale_min_k4(k, b + 4, sc, mn);
            const float     d = ld_f16(b) * sc, m = ld_f16(b + 2) * mn;
            const uint8_t * qh = b + 16, * q = b + 48 + 32 * (k >> 1);
            const int       shift = (k & 1) * 4;
            for (int l = 0; l < 32; ++l) {
                const int v = ((q[l] >> shift) & 0xF) + (((qh[l] >> k) & 1) << 4);
                out[l] = d * static_cast<float>(v) - m;
            }
            return;
        }
        case t_q6_k: { // ql[128] qh[64] scales[16] d; chunk k: half h = k/4, quarter r = k%4
            const uint8_t * b = row + (c >> 3) * 210;
            const int       k = static_cast<int>(c & 7), h = k >> 2, r = k & 3;
            const uint8_t * ql = b + 64 * h + ((r & 1) ? 32 : 0), * qh = b + 128 + 32 * h;
            const int8_t *  sc = reinterpret_cast<const int8_t *>(b + 192) + 8 * h + 2 * r;
            const float     d = ld_f16(b + 208);
            const int       lshift = (r >> 1) * 4, hshift = 2 * r;
            for (int l = 0; l < 32; ++l) {
                const int q = (((ql[l] >> lshift) & 0xF) | (((qh[l] >> hshift) & 3) << 4)) - 32;
                out[l] = d * static_cast<float>(sc[l / 16]) * static_cast<float>(q);
            }
            return;
        }
        default:
            for (int l = 0; l < 32; ++l) out[l] = 0.0f;
            return;
    }
}

// Bytes of one chunk's share of a row when the type has 32-element blocks or plain elements; for
// the K-quants a chunk is 1/8 of a super-block. Only used to size launches, never to address.
__host__ __device__ constexpr int64_t chunks_in_row(int64_t n_in) { return n_in / 32; }

} // namespace v4::kernels::cuda
