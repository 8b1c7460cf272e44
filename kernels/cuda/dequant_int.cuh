// Integer form of a 32-element chunk of the integer block types, for dot products with q8_1
// activations (dp4a). The chunk's value j is scale[j / 16] * q[j] + min, with q[j] a signed 8-bit
// integer packed four to a word: qw[i] holds q[4i .. 4i + 3], lowest byte first. The block types
// with one scale per 32 elements have scale[0] == scale[1]; only q3_K and q6_K (one scale per 16)
// differ, and they have min == 0. The formulas are dequant.cuh's (the float form, which follows
// kernels/reference) rewritten per word; the tests compare both against the reference.
#pragma once

#include <cstdint>

#include "cuda/dequant.cuh"

namespace v4::kernels::cuda {

struct int_chunk {
    int   qw[8];
    float scale[2];
    float min;
};

// Types int_chunk handles: every quantized type the GEMV reads (not f32, f16, bf16).
__host__ __device__ constexpr bool has_int_chunk(uint32_t t) {
    return t == t_q4_0 || t == t_q4_1 || t == t_q5_0 || t == t_q5_1 || t == t_q8_0 || t == t_mxfp4 || t == t_q3_k ||
           t == t_q4_k || t == t_q5_k || t == t_q6_k;
}

// Four bytes at any address, little endian (the blocks are not 4-byte aligned).
__host__ __device__ __forceinline__ uint32_t ld_u32(const uint8_t * p) {
    return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
           (static_cast<uint32_t>(p[3]) << 24);
}

// 16 elements j (low nibbles, words 0..3) and j + 16 (high nibbles, words 4..7) of a 32-element
// nibble block, plus the fifth bits of qh (bit j of qh: element j) when qh != null.
// Each byte of x minus k (per byte, both small: x's bytes in 0..63, k <= 32), as signed bytes.
// Biasing every byte by 128 first keeps the word subtraction from borrowing across bytes.
__host__ __device__ __forceinline__ int sub_bytes(uint32_t x, uint32_t k) {
    return static_cast<int>(((x + 0x80808080u) - k * 0x01010101u) ^ 0x80808080u);
}

__host__ __device__ __forceinline__ void nibble_words(const uint8_t * qs, const uint32_t * qh, int (&qw)[8]) {
    for (int i = 0; i < 4; ++i) {
        const uint32_t w = ld_u32(qs + 4 * i);
        uint32_t       lo = w & 0x0F0F0F0Fu, hi = (w >> 4) & 0x0F0F0F0Fu;
        if (qh != nullptr) {
            for (int k = 0; k < 4; ++k) {
                lo |= ((*qh >> (4 * i + k)) & 1u) << (8 * k + 4);
                hi |= ((*qh >> (4 * i + k + 16)) & 1u) << (8 * k + 4);
            }
        }
        qw[i] = static_cast<int>(lo);
        qw[i + 4] = static_cast<int>(hi);
    }
}

__host__ __device__ inline void int_chunk_of(uint32_t t, const uint8_t * row, int64_t c, int_chunk & o) {
    o.min = 0.0f;
    switch (t) {
        case t_q4_0: { // (nibble - 8) * d
            const uint8_t * b = row + c * 18;
            o.scale[0] = o.scale[1] = ld_f16(b);
            nibble_words(b + 2, nullptr, o.qw);
            for (int i = 0; i < 8; ++i) o.qw[i] = sub_bytes(static_cast<uint32_t>(o.qw[i]), 8);
            return;
        }
        case t_q4_1: { // nibble * d + m
            const uint8_t * b = row + c * 20;
            o.scale[0] = o.scale[1] = ld_f16(b);
            o.min = ld_f16(b + 2);
            nibble_words(b + 4, nullptr, o.qw);
            return;
        }
        case t_q5_0: { // (5-bit - 16) * d
            const uint8_t * b = row + c * 22;
            o.scale[0] = o.scale[1] = ld_f16(b);
            const uint32_t qh = ld_u32(b + 2);
            nibble_words(b + 6, &qh, o.qw);
            for (int i = 0; i < 8; ++i) o.qw[i] = sub_bytes(static_cast<uint32_t>(o.qw[i]), 16);
            return;
        }
        case t_q5_1: { // 5-bit * d + m
            const uint8_t * b = row + c * 24;
            o.scale[0] = o.scale[1] = ld_f16(b);
            o.min = ld_f16(b + 2);
            const uint32_t qh = ld_u32(b + 4);
            nibble_words(b + 8, &qh, o.qw);
            return;
        }
        case t_q8_0: {
            const uint8_t * b = row + c * 34;
            o.scale[0] = o.scale[1] = ld_f16(b);
            for (int i = 0; i < 8; ++i) o.qw[i] = static_cast<int>(ld_u32(b + 2 + 4 * i));
            return;
        }
        case t_mxfp4: { // table value (twice the e2m1 value) * 2^(e - 128)
            constexpr int8_t kv[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
            const uint8_t *  b = row + c * 17;
            o.scale[0] = o.scale[1] = e8m0_half(b[0]);
            for (int i = 0; i < 4; ++i) {
                uint32_t lo = 0, hi = 0;
                for (int k = 0; k < 4; ++k) {
                    const uint8_t q = b[1 + 4 * i + k];
                    lo |= static_cast<uint32_t>(static_cast<uint8_t>(kv[q & 0xF])) << (8 * k);
                    hi |= static_cast<uint32_t>(static_cast<uint8_t>(kv[q >> 4])) << (8 * k);
                }
                o.qw[i] = static_cast<int>(lo);
                o.qw[i + 4] = static_cast<int>(hi);
            }
            return;
        }
        case t_q3_k: { // two 16-element halves, each with its own scale
            const q3k_chunk q3(row, c);
            o.scale[0] = q3.scale(0);
            o.scale[1] = q3.scale(1);
            for (int i = 0; i < 8; ++i) {
                uint32_t w = 0;
                for (int kk = 0; kk < 4; ++kk) w |= static_cast<uint32_t>(static_cast<uint8_t>(q3.q(4 * i + kk))) << (8 * kk);
                o.qw[i] = static_cast<int>(w);
            }
            return;
        }
        case t_q4_k:
        case t_q5_k: { // d * sc * q - dmin * mn; q5_K's fifth bit of element l is bit k of qh[l]
            const bool      five = t == t_q5_k;
            const uint8_t * b = row + (c >> 3) * (five ? 176 : 144);
            const int       k = static_cast<int>(c & 7);
            float           sc, mn;
            scale_min_k4(k, b + 4, sc, mn);
            o.scale[0] = o.scale[1] = ld_f16(b) * sc;
            o.min = -(ld_f16(b + 2) * mn);
            const uint8_t * q = b + (five ? 48 : 16) + 32 * (k >> 1);
            const int       shift = (k & 1) * 4;
            for (int i = 0; i < 8; ++i) {
                uint32_t w = (ld_u32(q + 4 * i) >> shift) & 0x0F0F0F0Fu;
                if (five) w |= ((ld_u32(b + 16 + 4 * i) >> k) & 0x01010101u) << 4;
                o.qw[i] = static_cast<int>(w);
            }
            return;
        }
        case t_q6_k: { // d * sc[half] * (6-bit - 32)
            const uint8_t * b = row + (c >> 3) * 210;
            const int       k = static_cast<int>(c & 7), h = k >> 2, r = k & 3;
            const uint8_t * ql = b + 64 * h + ((r & 1) ? 32 : 0), * qh = b + 128 + 32 * h;
            const int8_t *  sc = reinterpret_cast<const int8_t *>(b + 192) + 8 * h + 2 * r;
            const float     d = ld_f16(b + 208);
            o.scale[0] = d * static_cast<float>(sc[0]);
            o.scale[1] = d * static_cast<float>(sc[1]);
            const int lshift = (r >> 1) * 4, hshift = 2 * r;
            for (int i = 0; i < 8; ++i) {
                const uint32_t lo = (ld_u32(ql + 4 * i) >> lshift) & 0x0F0F0F0Fu;
                const uint32_t hi = ((ld_u32(qh + 4 * i) >> hshift) & 0x03030303u) << 4;
                o.qw[i] = sub_bytes(lo | hi, 32);
            }
            return;
        }
        default:
            for (int i = 0; i < 8; ++i) o.qw[i] = 0;
            o.scale[0] = o.scale[1] = 0.0f;
            return;
    }
}

} // namespace v4::kernels::cuda
