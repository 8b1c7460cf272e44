// The x16 layout's plain parts (cpu/x16.h): repacking rows both ways and the scalar q8_0x16
// activation quantizer, which the AVX-512 one is tested against.
#include "cpu/x16.h"

#include <algorithm>
#include <cstring>

namespace v4::kernels::cpu {

namespace {

constexpr uint32_t k_q4_0 = 2, k_q5_0 = 6, k_q8_0 = 8;

// A GGUF block: fp16 scale at 0, (Q5_0) 32 fifth bits at 2, then `words` 32-bit words of quants.
struct x16_geometry {
    int      words;
    bool     qh;
    uint32_t flip; // xor applied to every quant byte (Q8_0: int8 -> w + 128)
    size_t   block_bytes() const { return 2 + (qh ? 4 : 0) + 4 * static_cast<size_t>(words); }
    size_t   qs_offset() const { return qh ? 6 : 2; }
};

x16_geometry geometry_of(uint32_t type) {
    switch (type) {
        case k_q8_0: return {8, false, 0x80808080u};
        case k_q5_0: return {4, true, 0};
        default: return {4, false, 0};
    }
}

// Every piece of a row (a quant word, a word of fifth bits, a scale) with its offset in the GGUF
// layout and in the x16 layout: f(gguf offset, x16 offset, bytes (4 or 2), xor for the bytes).
template <class F>
void for_each_piece(uint32_t type, int64_t n, F f) {
    const x16_geometry g = geometry_of(type);
    const size_t       block_bytes = g.block_bytes();
    const int64_t      nb = n / 32;
    for (int64_t b0 = 0; b0 < nb; b0 += x16_blocks) {
        const size_t k = static_cast<size_t>(std::min<int64_t>(x16_blocks, nb - b0));
        const size_t super = static_cast<size_t>(b0) * block_bytes;
        const size_t qh = super + 4 * static_cast<size_t>(g.words) * k, scales = qh + (g.qh ? 4 * k : 0);
        for (size_t L = 0; L < k; ++L) {
            const size_t blk = (static_cast<size_t>(b0) + L) * block_bytes;
            for (size_t r = 0; r < static_cast<size_t>(g.words); ++r) {
                f(blk + g.qs_offset() + 4 * r, super + 4 * (r * k + L), 4, g.flip);
            }
            if (g.qh) {
                f(blk + 2, qh + 4 * L, 4, 0u);
            }
            f(blk, scales + 2 * L, 2, 0u);
        }
    }
}

// One piece; a word at a time, as the loader repacks every Q4_0/Q5_0/Q8_0 matrix of a model.
inline void copy_piece(const uint8_t * from, uint8_t * to, size_t bytes, uint32_t flip) {
    if (bytes == 2) {
        std::memcpy(to, from, 2);
        return;
    }
    uint32_t w;
    std::memcpy(&w, from, 4);
    w ^= flip;
    std::memcpy(to, &w, 4);
}

} // namespace

bool x16_type(uint32_t ggml_type) { return ggml_type == k_q4_0 || ggml_type == k_q5_0 || ggml_type == k_q8_0; }

void repack_row_x16(uint32_t type, const void * src, void * dst, int64_t n) {
    const auto * s = static_cast<const uint8_t *>(src);
    auto *       d = static_cast<uint8_t *>(dst);
    for_each_piece(type, n, [&](size_t gguf, size_t x16, size_t bytes, uint32_t flip) { copy_piece(s + gguf, d + x16, bytes, flip); });
}

void unpack_row_x16(uint32_t type, const void * src, void * dst, int64_t n) {
    const auto * s = static_cast<const uint8_t *>(src);
    auto *       d = static_cast<uint8_t *>(dst);
    for_each_piece(type, n, [&](size_t gguf, size_t x16, size_t bytes, uint32_t flip) { copy_piece(s + x16, d + gguf, bytes, flip); });
}

void unpack_rows_x16(uint32_t type, const void * src, void * dst, int64_t n, int64_t n_rows) {
    const size_t row_bytes = static_cast<size_t>(n / 32) * geometry_of(type).block_bytes();
    for (int64_t r = 0; r < n_rows; ++r) {
        unpack_row_x16(type, static_cast<const uint8_t *>(src) + r * row_bytes, static_cast<uint8_t *>(dst) + r * row_bytes, n);
    }
}

size_t q8_0x16_row_bytes(int64_t n) {
    return static_cast<size_t>((n + x16_elements - 1) / x16_elements) * q8_0x16_super_bytes;
}

void quantize_row_q8_0x16_scalar(const float * x, void * dst, int64_t n) {
    auto * out = static_cast<uint8_t *>(dst);
    std::memset(out, 0, q8_0x16_row_bytes(n));
    for (int64_t b = 0; b < n / 32; ++b) {
        const q8_0_block_sum q = quantize_block_q8_0_sum(x + b * 32);
        uint8_t *            super = out + static_cast<size_t>(b / x16_blocks) * q8_0x16_super_bytes;
        const int            L = static_cast<int>(b % x16_blocks);
        for (int r = 0; r < 8; ++r) {
            std::memcpy(super + 64 * r + 4 * L, q.qs + 4 * r, 4);
        }
        std::memcpy(super + 512 + 4 * L, &q.sum, 4);
        std::memcpy(super + 576 + 4 * L, &q.d, 4);
    }
}

void dequantize_row_q8_0x16(const void * src, float * y, int64_t n) {
    const auto * in = static_cast<const uint8_t *>(src);
    for (int64_t b = 0; b < n / 32; ++b) {
        const uint8_t * super = in + static_cast<size_t>(b / x16_blocks) * q8_0x16_super_bytes;
        const int       L = static_cast<int>(b % x16_blocks);
        float           d;
        std::memcpy(&d, super + 576 + 4 * L, 4);
        for (int i = 0; i < 32; ++i) {
            y[b * 32 + i] = d * static_cast<int8_t>(super[64 * (i / 4) + 4 * L + i % 4]);
        }
    }
}

} // namespace v4::kernels::cpu
