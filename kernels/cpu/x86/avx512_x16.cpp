// AVX-512 VNNI kernels for x16 rows (cpu/x16.h) against q8_0x16 activations.
//
// Per super-block of 16 blocks and per (weight row, activation row) pair: the activation's block
// sums seed the int32 accumulator with the offset term (-8 * sum for Q4_0 nibbles, -128 * sum for
// flipped Q8_0 bytes), eight vpdpbusd add each block's whole integer dot product into its own
// lane, and one vcvtph2ps + vmulps + vcvtdq2ps + vfmadd apply the 16 scales. Q4_0 unpacks its
// nibbles with one and, one shift and one and per register; Q5_0 then adds its fifth bits with a
// vpshufbitqmb (each byte picks its bit of the block's word) and a masked add per half. Every kernel (dot, dot4, gemv) runs
// the same steps per pair in the same order, so all three give the same bits.
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports the "undefined" pass-through operands inside _mm512_cvtph_ps and
// _mm512_reduce_add_ps as used uninitialized; they are don't-care values by design.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "cpu/cpu_features.h"
#include "cpu/x16.h"
#include "cpu/x86/avx512_common.h"

namespace v4::kernels::cpu {

void quantize_row_q8_0x16_avx512(const float * x, void * dst, int64_t n) {
    auto *        out = static_cast<uint8_t *>(dst);
    const int64_t nb = n / 32;
    for (int64_t b0 = 0; b0 < nb; b0 += x16_blocks) {
        uint8_t * super = out + static_cast<size_t>(b0 / x16_blocks) * q8_0x16_super_bytes;
        const int k = static_cast<int>(std::min<int64_t>(x16_blocks, nb - b0));
        if (k < x16_blocks) {
            std::memset(super, 0, q8_0x16_super_bytes); // blocks past the row are zero
        }
        alignas(64) int32_t sums[16] = {};
        alignas(64) float   ds[16] = {};
        for (int L = 0; L < k; ++L) {
            const q8_0_block_avx512 b = quantize_block_q8_0_avx512(x + (b0 + L) * 32);
            alignas(32) uint32_t    words[8];
            _mm_store_si128(reinterpret_cast<__m128i *>(words), _mm512_cvtepi32_epi8(b.q0));
            _mm_store_si128(reinterpret_cast<__m128i *>(words + 4), _mm512_cvtepi32_epi8(b.q1));
            for (int r = 0; r < 8; ++r) {
                std::memcpy(super + 64 * r + 4 * L, &words[r], 4);
            }
            sums[L] = b.sum;
            ds[L] = b.d;
        }
        std::memcpy(super + 512, sums, sizeof sums);
        std::memcpy(super + 576, ds, sizeof ds);
    }
}

namespace {

struct q4_0_x16 {
    static constexpr int  block_bytes = 18;
    static constexpr int  words = 4;        // 32-bit quant words per block
    static constexpr bool qh = false;       // a word of fifth bits per block
    static constexpr int  offset_shift = 3; // nibble = w + 8
};

struct q5_0_x16 {
    static constexpr int  block_bytes = 22;
    static constexpr int  words = 4;
    static constexpr bool qh = true;
    static constexpr int  offset_shift = 4; // nibble + 16 * fifth bit = w + 16
};

struct q8_0_x16 {
    static constexpr int  block_bytes = 34;
    static constexpr int  words = 8;
    static constexpr bool qh = false;
    static constexpr int  offset_shift = 7; // flipped byte = w + 128
};

// vpshufbitqmb indices: byte 4L + i of a quant register takes bit `first` + i of block L's fifth
// bits, which sit in the low (L even) or high (L odd) half of their 64-bit lane.
struct bit_index {
    alignas(64) uint8_t b[64];
};
constexpr bit_index fifth_bits(int first) {
    bit_index t{};
    for (int L = 0; L < 16; ++L) {
        for (int i = 0; i < 4; ++i) {
            t.b[4 * L + i] = static_cast<uint8_t>(first + i + 32 * (L & 1));
        }
    }
    return t;
}
// register q's low nibbles are elements 4q.., its high nibbles 16 + 4q..
constexpr bit_index k_fifth_lo[4] = {fifth_bits(0), fifth_bits(4), fifth_bits(8), fifth_bits(12)};
constexpr bit_index k_fifth_hi[4] = {fifth_bits(16), fifth_bits(20), fifth_bits(24), fifth_bits(28)};

// k blocks' 32-bit words at p: all 16 lanes (FULL), or the first k with the rest zero.
template <bool FULL>
inline __m512i load_words(const uint8_t * p, __mmask16 lanes) {
    if constexpr (FULL) {
        return _mm512_loadu_si512(p);
    } else {
        return _mm512_maskz_loadu_epi32(lanes, p);
    }
}

// One super-block of k blocks: NW weight rows (w + i * w_stride) against NA activation rows
// (a + r * a_stride), acc[i * NA + r] += the pair's 16 per-block products.
template <class W, int NW, int NA, bool FULL>
inline void super_block(const uint8_t * w, size_t w_stride, int k, const uint8_t * a, size_t a_stride, __m512 * acc) {
    const __mmask16 lanes = FULL ? __mmask16(0xffff) : static_cast<__mmask16>((1u << k) - 1);
    const size_t    word_stride = FULL ? 64 : 4 * static_cast<size_t>(k); // bytes between quant words
    __m512i         s[NW][NA];
    __m512          dy[NA];
    for (int r = 0; r < NA; ++r) {
        const uint8_t * y = a + r * a_stride;
        const __m512i   seed = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(_mm512_loadu_si512(y + 512), W::offset_shift));
        dy[r] = _mm512_loadu_ps(reinterpret_cast<const float *>(y + 576));
        for (int i = 0; i < NW; ++i) {
            s[i][r] = seed;
        }
    }
    for (int q = 0; q < W::words; ++q) {
        for (int i = 0; i < NW; ++i) {
            const __m512i v = load_words<FULL>(w + i * w_stride + q * word_stride, lanes);
            if constexpr (W::words == 4) { // Q4_0/Q5_0: low nibbles are elements 4q.., high ones 16 + 4q..
                const __m512i m4 = _mm512_set1_epi8(0x0f);
                __m512i       lo = _mm512_and_si512(v, m4);
                __m512i       hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
                if constexpr (W::qh) {
                    const __m512i h = load_words<FULL>(w + i * w_stride + W::words * word_stride, lanes);
                    const __m512i bit4 = _mm512_set1_epi8(0x10);
                    lo = _mm512_mask_add_epi8(lo, _mm512_bitshuffle_epi64_mask(h, _mm512_load_si512(k_fifth_lo[q].b)), lo, bit4);
                    hi = _mm512_mask_add_epi8(hi, _mm512_bitshuffle_epi64_mask(h, _mm512_load_si512(k_fifth_hi[q].b)), hi, bit4);
                }
                for (int r = 0; r < NA; ++r) {
                    const uint8_t * y = a + r * a_stride;
                    s[i][r] = _mm512_dpbusd_epi32(s[i][r], lo, _mm512_loadu_si512(y + 64 * q));
                    s[i][r] = _mm512_dpbusd_epi32(s[i][r], hi, _mm512_loadu_si512(y + 64 * (4 + q)));
                }
            } else {
                for (int r = 0; r < NA; ++r) {
                    s[i][r] = _mm512_dpbusd_epi32(s[i][r], v, _mm512_loadu_si512(a + r * a_stride + 64 * q));
                }
            }
        }
    }
    for (int i = 0; i < NW; ++i) {
        const uint8_t * d = w + i * w_stride + (W::words + (W::qh ? 1 : 0)) * word_stride;
        const __m512    dx = _mm512_cvtph_ps(FULL ? _mm256_loadu_si256(reinterpret_cast<const __m256i *>(d))
                                                  : _mm256_maskz_loadu_epi16(lanes, d));
        for (int r = 0; r < NA; ++r) {
            acc[i * NA + r] = _mm512_fmadd_ps(_mm512_mul_ps(dx, dy[r]), _mm512_cvtepi32_ps(s[i][r]), acc[i * NA + r]);
        }
    }
}

// A whole row: full super-blocks, then the short one. PREFETCH: decode's weight stream (gemv).
template <class W, int NW, int NA, bool PREFETCH>
inline void rows(int64_t n, const uint8_t * w, size_t w_stride, const uint8_t * a, size_t a_stride, __m512 * acc) {
    constexpr size_t super_bytes = static_cast<size_t>(x16_blocks) * W::block_bytes;
    for (int i = 0; i < NW * NA; ++i) {
        acc[i] = _mm512_setzero_ps();
    }
    const int64_t nb = n / 32;
    int64_t       b = 0;
    for (; b + x16_blocks <= nb; b += x16_blocks) {
        const uint8_t * wb = w + b * W::block_bytes;
        if constexpr (PREFETCH) {
            for (int i = 0; i < NW; ++i) {
                prefetch_ahead(wb + i * w_stride, super_bytes, NW * w_stride);
            }
        }
        super_block<W, NW, NA, true>(wb, w_stride, x16_blocks, a + b / x16_blocks * q8_0x16_super_bytes, a_stride, acc);
    }
    if (b < nb) {
        const int       k = static_cast<int>(nb - b);
        const uint8_t * wb = w + b * W::block_bytes;
        if constexpr (PREFETCH) {
            for (int i = 0; i < NW; ++i) {
                prefetch_ahead(wb + i * w_stride, static_cast<size_t>(k) * W::block_bytes, NW * w_stride);
            }
        }
        super_block<W, NW, NA, false>(wb, w_stride, k, a + b / x16_blocks * q8_0x16_super_bytes, a_stride, acc);
    }
}

template <class W>
float dot_x16(int64_t n, const void * w, const void * a) {
    __m512 acc[1];
    rows<W, 1, 1, false>(n, static_cast<const uint8_t *>(w), 0, static_cast<const uint8_t *>(a), 0, acc);
    return hsum512(acc[0]);
}

template <class W, int NA>
void dot_rows(int64_t n, const void * w, const void * a, size_t a_stride, float * out) {
    __m512 acc[NA];
    rows<W, 1, NA, false>(n, static_cast<const uint8_t *>(w), 0, static_cast<const uint8_t *>(a), a_stride, acc);
    for (int r = 0; r < NA; ++r) {
        out[r] = hsum512(acc[r]);
    }
}

template <class W>
void dot4_x16(int64_t n, const void * w, const void * a, size_t a_stride, int n_act, float * out) {
    switch (n_act) {
        case 1: dot_rows<W, 1>(n, w, a, a_stride, out); break;
        case 2: dot_rows<W, 2>(n, w, a, a_stride, out); break;
        case 3: dot_rows<W, 3>(n, w, a, a_stride, out); break;
        default: dot_rows<W, 4>(n, w, a, a_stride, out); break;
    }
}

template <class W, int NW>
void gemv_rows(int64_t n, const void * w, size_t w_stride, const void * a, float * y) {
    __m512 acc[NW];
    rows<W, NW, 1, true>(n, static_cast<const uint8_t *>(w), w_stride, static_cast<const uint8_t *>(a), 0, acc);
    hsum4(acc, NW, y);
}

template <class W>
void gemv_x16(int64_t n, const void * w, size_t w_stride, int n_w, const void * a, float * y) {
    switch (n_w) {
        case 1: gemv_rows<W, 1>(n, w, w_stride, a, y); break;
        case 2: gemv_rows<W, 2>(n, w, w_stride, a, y); break;
        case 3: gemv_rows<W, 3>(n, w, w_stride, a, y); break;
        default: gemv_rows<W, 4>(n, w, w_stride, a, y); break;
    }
}

template <class W>
constexpr dot_kernel make_x16() {
    return {act_format::q8_0x16, dot_x16<W>, "avx512vnni-x16", dot4_x16<W>, nullptr, gemv_x16<W>};
}

constexpr dot_kernel k_q4_0 = make_x16<q4_0_x16>();
constexpr dot_kernel k_q5_0 = make_x16<q5_0_x16>();
constexpr dot_kernel k_q8_0 = make_x16<q8_0_x16>();

} // namespace

const dot_kernel * find_dot_kernel_x16_avx512(uint32_t ggml_type) {
    switch (ggml_type) {
        case 2: return &k_q4_0;
        case 6: return usable_cpu_features().avx512bitalg ? &k_q5_0 : nullptr; // vpshufbitqmb
        case 8: return &k_q8_0;
        default: return nullptr;
    }
}

} // namespace v4::kernels::cpu
