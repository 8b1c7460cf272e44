// AVX-512 kernels (VNNI, VBMI, VL): chosen at run time when the CPU has them.
//
// Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 against q8_0x4 activations (cpu/q8_0x4.h): four weight blocks
// per step. One or two 64-byte loads and a vpermt2b gather the four blocks' quants into the lanes
// the activations already sit in, vpermw gathers their four fp16 scales, and vpdpbusd multiplies
// unsigned weights (Q4_0 nibbles are w + 8; Q8_0 bytes xor 0x80 are w + 128) with signed
// activations; the offset comes off with the activation block sums. That is ~15 instructions per
// 128 weights (the per-block kernels took ~15 per 32). Q5_0/Q5_1 turn their fifth bits into byte
// masks; Q4_1/Q5_1 add min * dy * (block sum).
//
// Q4_K and Q6_K against Q8_K: two rows side by side, 64 weights per register; vpdpbusd sums of 4
// products, packed to 16 bits for both rows at once and scaled by vpdpwssd (see pair_sums). GFNI's
// gf2p8affineqb moves bits within bytes (high nibbles down, Q6_K's qh bits into place) in one
// instruction; every CPU with AVX-512 VBMI and VNNI has it (find_dot_kernel_avx512vnni checks).
// F32/F16 get a 4 x 4 register tile for prefill (f32 FMA, 16 accumulators).
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports the "undefined" pass-through operands inside _mm512_cvtph_ps and
// _mm512_reduce_add_ps as used uninitialized; they are don't-care values by design.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstring>

#include "cpu/cpu_features.h"
#include "cpu/q8_0x4.h"
#include "cpu/quant_dot.h"
#include "cpu/x86/avx512_common.h"
#include "cpu/x86/hsum256.h"
#include "reference/dequantize_legacy.h"
#include "reference/quant_blocks.h"

namespace v4::kernels::cpu {

// ---- q8_0x4 activations ----------------------------------------------------------------------

// As ref::quantize_row_q8_k: the signed value of largest magnitude (the first on ties) maps to
// -127; vcvtps2dq rounds to nearest even like ggml's nearest_int for these magnitudes.
void quantize_row_q8_k_avx512(const float * x, void * dst, int64_t n) {
    auto * y = static_cast<block_q8_k *>(dst);
    for (int64_t i = 0; i < n / qk_k; ++i, x += qk_k) {
        __m512 amax_v = _mm512_setzero_ps();
        for (int j = 0; j < qk_k; j += 16) {
            amax_v = _mm512_max_ps(amax_v, _mm512_abs_ps(_mm512_loadu_ps(x + j)));
        }
        const float amax = _mm512_reduce_max_ps(amax_v);
        if (amax == 0.0f) {
            std::memset(&y[i], 0, sizeof(block_q8_k));
            continue;
        }
        float max = 0.0f;
        for (int j = 0; j < qk_k; j += 16) {
            const __mmask16 at = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(x + j)), _mm512_set1_ps(amax), _CMP_EQ_OQ);
            if (at != 0) {
                max = x[j + __builtin_ctz(at)];
                break;
            }
        }
        const float  iscale = -127.f / max;
        const __m512 vs = _mm512_set1_ps(iscale);
        for (int j = 0; j < qk_k; j += 16) {
            const __m512i q = _mm512_min_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(vs, _mm512_loadu_ps(x + j))), _mm512_set1_epi32(127));
            _mm_storeu_si128(reinterpret_cast<__m128i *>(y[i].qs + j), _mm512_cvtepi32_epi8(q));
            y[i].bsums[j / 16] = static_cast<int16_t>(_mm512_reduce_add_epi32(q));
        }
        y[i].d = 1 / iscale;
    }
}

void quantize_row_q8_0x4_avx512(const float * x, void * dst, int64_t n) {
    auto *        g = static_cast<uint8_t *>(dst);
    const int64_t n_blocks = n / 32;
    const int64_t n_groups = (n_blocks + 3) / 4;
    for (int64_t grp = 0; grp < n_groups; ++grp) {
        uint8_t * out = g + static_cast<size_t>(grp) * q8_0x4_group_bytes;
        alignas(64) int32_t sums[16] = {};
        alignas(64) float   ds[16] = {};
        for (int j = 0; j < 4; ++j) {
            const int64_t b = grp * 4 + j;
            if (b >= n_blocks) {
                std::memset(out + 16 * j, 0, 16);
                std::memset(out + 64 + 16 * j, 0, 16);
                continue;
            }
            const q8_0_block_avx512 q = quantize_block_q8_0_avx512(x + b * 32);
            _mm_storeu_si128(reinterpret_cast<__m128i *>(out + 16 * j), _mm512_cvtepi32_epi8(q.q0));
            _mm_storeu_si128(reinterpret_cast<__m128i *>(out + 64 + 16 * j), _mm512_cvtepi32_epi8(q.q1));
            sums[4 * j] = q.sum;
            ds[4 * j] = ds[4 * j + 1] = ds[4 * j + 2] = ds[4 * j + 3] = q.d;
        }
        std::memcpy(out + 128, sums, sizeof sums);
        std::memcpy(out + 192, ds, sizeof ds);
    }
}

namespace {

// Index tables for vpermt2b / vpermw, built at compile time: lane j byte i of the result comes
// from byte src of a group of four weight blocks, which two 64-byte loads at t0 and t1 hold.
struct index_table {
    alignas(64) uint8_t b[64];
};

constexpr uint8_t table_index(int src, int t0, int t1) { return static_cast<uint8_t>(src < t0 + 64 ? src - t0 : 64 + src - t1); }

// bytes: quants of block j at block_bytes * j + first, 16 per lane
constexpr index_table quant_table(int block_bytes, int first, int t0, int t1) {
    index_table t{};
    for (int j = 0; j < 4; ++j) {
        for (int i = 0; i < 16; ++i) {
            t.b[16 * j + i] = table_index(block_bytes * j + first + i, t0, t1);
        }
    }
    return t;
}

// words 0..15: block j's fp16 at byte block_bytes * j + first, four times, for vpermt2w over
// loads at 0 and t1 (t1 even)
constexpr index_table scale_table(int block_bytes, int first, int t1) {
    index_table t{};
    for (int j = 0; j < 4; ++j) {
        for (int k = 0; k < 4; ++k) {
            const int byte = block_bytes * j + first;
            t.b[2 * (4 * j + k)] = static_cast<uint8_t>(byte < 64 ? byte / 2 : 32 + (byte - t1) / 2);
        }
    }
    return t;
}

// bytes [begin, min(begin + 64, end)) of p, zeros elsewhere: the tail of a row, never past it
inline __m512i load_until(const uint8_t * p, int begin, int end) {
    const int len = end - begin < 0 ? 0 : (end - begin > 64 ? 64 : end - begin);
    return _mm512_maskz_loadu_epi8(_bzhi_u64(~0ull, static_cast<unsigned>(len)), p + begin);
}

inline __m512i load_table(const index_table & t) { return _mm512_load_si512(t.b); }

// Four weight blocks unpacked: unsigned quants by lane as the activations (lo: elements 0..15 of
// each block, hi: 16..31), the block scales (and mins) four times each.
struct wgroup {
    __m512i lo, hi;
    __m512  dx, mx;
};

// Q4_0 / Q4_1 / Q5_0 / Q5_1: fp16 d at 0 (and fp16 m at 2 with MIN), 32 fifth bits at QH (QH < 0:
// none), 16 nibble bytes at QS. A group is two 64-byte loads at 0 and 4 * BB - 64. Without MIN the
// stored value is w + 8 (w + 16 with fifth bits); with MIN it is (w - m) / d.
template <int BB, int QS, int QH, bool MIN>
struct nibble_group {
    static constexpr int         block_bytes = BB;
    static constexpr bool        has_min = MIN;
    static constexpr int         offset_shift = QH < 0 ? 3 : 4;
    static constexpr int         t1 = 4 * BB - 64;
    static constexpr index_table q_idx = quant_table(BB, QS, 0, t1);
    static constexpr index_table d_idx = scale_table(BB, 0, t1);
    static constexpr index_table m_idx = scale_table(BB, 2, t1);
    // bytes 0..7: qh bytes 0, 1 of blocks 0..3 (elements 0..15); bytes 8..15: qh bytes 2, 3
    static constexpr index_table h_idx = [] {
        index_table t{};
        for (int j = 0; j < 4 && QH >= 0; ++j) {
            for (int k = 0; k < 2; ++k) {
                t.b[2 * j + k] = table_index(BB * j + QH + k, 0, t1);
                t.b[8 + 2 * j + k] = table_index(BB * j + QH + 2 + k, 0, t1);
            }
        }
        return t;
    }();
    static wgroup unpack(__m512i a, __m512i b) {
        wgroup        g;
        const __m512i q = _mm512_permutex2var_epi8(a, load_table(q_idx), b);
        const __m512i m4 = _mm512_set1_epi8(0x0f);
        g.lo = _mm512_and_si512(q, m4);
        g.hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
        if constexpr (QH >= 0) {
            const __m128i   h = _mm512_castsi512_si128(_mm512_permutex2var_epi8(a, load_table(h_idx), b));
            const __m512i   bit4 = _mm512_set1_epi8(0x10);
            const __mmask64 h_lo = _cvtu64_mask64(static_cast<uint64_t>(_mm_cvtsi128_si64(h)));
            const __mmask64 h_hi = _cvtu64_mask64(static_cast<uint64_t>(_mm_extract_epi64(h, 1)));
            g.lo = _mm512_mask_add_epi8(g.lo, h_lo, g.lo, bit4);
            g.hi = _mm512_mask_add_epi8(g.hi, h_hi, g.hi, bit4);
        }
        g.dx = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutex2var_epi16(a, load_table(d_idx), b)));
        if constexpr (MIN) {
            g.mx = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutex2var_epi16(a, load_table(m_idx), b)));
        }
        return g;
    }
    static wgroup unpack(const uint8_t * p) { return unpack(_mm512_loadu_si512(p), _mm512_loadu_si512(p + t1)); }
    // k_blocks < 4, at the end of a row: masked loads keep us inside it
    static wgroup unpack_tail(const uint8_t * p, int k_blocks) {
        return unpack(load_until(p, 0, BB * k_blocks), load_until(p, t1, BB * k_blocks));
    }
};

using q4_0_group = nibble_group<18, 2, -1, false>;
using q4_1_group = nibble_group<20, 4, -1, true>;
using q5_0_group = nibble_group<22, 6, 2, false>;
using q5_1_group = nibble_group<24, 8, 4, true>;

// Q8_0 group: 136 bytes, block j = fp16 d at 34j, 32 int8 at 34j + 2. Low halves from loads at 0
// and 64, high halves from loads at 8 and 72.
struct q8_0_group {
    static constexpr int         block_bytes = 34;
    static constexpr bool        has_min = false;
    static constexpr int         offset_shift = 7; // w xor 0x80 = w + 128
    static constexpr index_table lo_idx = quant_table(34, 2, 0, 64);
    static constexpr index_table hi_idx = quant_table(34, 18, 8, 72);
    static constexpr index_table d_idx = scale_table(34, 0, 64);
    static wgroup unpack(__m512i a0, __m512i a1, __m512i b0, __m512i b1) {
        const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
        wgroup        g;
        g.lo = _mm512_xor_si512(_mm512_permutex2var_epi8(a0, load_table(lo_idx), a1), flip);
        g.hi = _mm512_xor_si512(_mm512_permutex2var_epi8(b0, load_table(hi_idx), b1), flip);
        g.dx = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutex2var_epi16(a0, load_table(d_idx), a1)));
        return g;
    }
    static wgroup unpack(const uint8_t * p) {
        return unpack(_mm512_loadu_si512(p), _mm512_loadu_si512(p + 64), _mm512_loadu_si512(p + 8), _mm512_loadu_si512(p + 72));
    }
    static wgroup unpack_tail(const uint8_t * p, int k_blocks) {
        const int end = 34 * k_blocks;
        return unpack(load_until(p, 0, end), load_until(p, 64, end), load_until(p, 8, end), load_until(p, 72, end));
    }
};

// One group against NA activation rows: sum_j d_j * dy_j * (sum q * a - offset * sum a), or
// with mins sum_j dy_j * (d_j * sum q * a + m_j * sum a).
template <class G, int NA>
inline void group_step(const wgroup & w, const uint8_t * ap, size_t a_stride, size_t g, __m512 * acc) {
    for (int r = 0; r < NA; ++r) {
        const uint8_t * y = ap + r * a_stride + g;
        __m512i         s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w.lo, _mm512_loadu_si512(y));
        s = _mm512_dpbusd_epi32(s, w.hi, _mm512_loadu_si512(y + 64));
        const __m512i sums = _mm512_loadu_si512(y + 128);
        const __m512  dy = _mm512_loadu_ps(reinterpret_cast<const float *>(y + 192));
        if constexpr (G::has_min) {
            acc[r] = _mm512_fmadd_ps(_mm512_mul_ps(w.dx, dy), _mm512_cvtepi32_ps(s), acc[r]);
            acc[r] = _mm512_fmadd_ps(_mm512_mul_ps(w.mx, dy), _mm512_cvtepi32_ps(sums), acc[r]);
        } else {
            s = _mm512_sub_epi32(s, _mm512_slli_epi32(sums, G::offset_shift));
            acc[r] = _mm512_fmadd_ps(_mm512_mul_ps(w.dx, dy), _mm512_cvtepi32_ps(s), acc[r]);
        }
    }
}

// NA activation rows (compile-time, so the accumulators stay in registers) against one weight row,
// two groups per step into two accumulator sets. Every row sees the same operations in the same
// order, so dot and dot4 agree exactly.
template <class G, int NA>
void dot_groups(int64_t n, const void * w, const void * a, size_t a_stride, float * out) {
    const auto *     wp = static_cast<const uint8_t *>(w);
    const auto *     ap = static_cast<const uint8_t *>(a);
    const int64_t    n_blocks = n / 32;
    constexpr size_t gb = 4 * G::block_bytes;
    __m512           acc0[NA], acc1[NA];
    for (int r = 0; r < NA; ++r) {
        acc0[r] = _mm512_setzero_ps();
        acc1[r] = _mm512_setzero_ps();
    }
    int64_t b = 0;
    size_t  g = 0;
    for (; b + 8 <= n_blocks; b += 8, g += 2 * q8_0x4_group_bytes) {
        const wgroup w0 = G::unpack(wp + b * G::block_bytes);
        const wgroup w1 = G::unpack(wp + b * G::block_bytes + gb);
        group_step<G, NA>(w0, ap, a_stride, g, acc0);
        group_step<G, NA>(w1, ap, a_stride, g + q8_0x4_group_bytes, acc1);
    }
    for (; b < n_blocks; b += 4, g += q8_0x4_group_bytes) {
        const wgroup wg = n_blocks - b >= 4 ? G::unpack(wp + b * G::block_bytes)
                                            : G::unpack_tail(wp + b * G::block_bytes, static_cast<int>(n_blocks - b));
        group_step<G, NA>(wg, ap, a_stride, g, acc0);
    }
    for (int r = 0; r < NA; ++r) {
        out[r] = hsum512(_mm512_add_ps(acc0[r], acc1[r]));
    }
}

template <class G>
float dot_g(int64_t n, const void * w, const void * a) {
    float out;
    dot_groups<G, 1>(n, w, a, 0, &out);
    return out;
}

template <class G>
void dot4_g(int64_t n, const void * w, const void * a, size_t a_stride, int n_act, float * out) {
    switch (n_act) {
        case 1: dot_groups<G, 1>(n, w, a, a_stride, out); break;
        case 2: dot_groups<G, 2>(n, w, a, a_stride, out); break;
        case 3: dot_groups<G, 3>(n, w, a, a_stride, out); break;
        default: dot_groups<G, 4>(n, w, a, a_stride, out); break;
    }
}

// One activation group as gemv_step takes it: values, scales, and the integer offset term (or,
// with mins, the block sums as floats).
struct act_group {
    __m512i lo, hi, seed;
    __m512  dy, sums_f;
};

template <class G>
inline act_group load_act_group(const uint8_t * y) {
    act_group     a;
    const __m512i sums = _mm512_loadu_si512(y + 128);
    a.lo = _mm512_loadu_si512(y);
    a.hi = _mm512_loadu_si512(y + 64);
    a.dy = _mm512_loadu_ps(reinterpret_cast<const float *>(y + 192));
    if constexpr (G::has_min) {
        a.seed = _mm512_setzero_si512();
        a.sums_f = _mm512_cvtepi32_ps(sums);
    } else {
        a.seed = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(sums, G::offset_shift));
        a.sums_f = _mm512_setzero_ps();
    }
    return a;
}

// group_step for one weight group and one activation row, with the activation side loaded once
// for all rows. The integer offset seeds vpdpbusd (the same 32-bit sum group_step forms by
// subtracting it afterwards), so the float steps, and the result, are group_step's.
template <class G>
inline void gemv_step(const wgroup & w, const act_group & a, __m512 & acc) {
    const __m512i s = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(a.seed, w.lo, a.lo), w.hi, a.hi);
    acc = _mm512_fmadd_ps(_mm512_mul_ps(w.dx, a.dy), _mm512_cvtepi32_ps(s), acc);
    if constexpr (G::has_min) {
        acc = _mm512_fmadd_ps(_mm512_mul_ps(w.mx, a.dy), a.sums_f, acc);
    }
}

// NW weight rows against one activation row, with dot_groups' two accumulator sets and order.
template <class G, int NW>
void gemv_groups(int64_t n, const uint8_t * wp, size_t w_stride, const uint8_t * ap, float * out) {
    const int64_t    n_blocks = n / 32;
    constexpr size_t gb = 4 * G::block_bytes;
    __m512           acc0[NW], acc1[NW];
    for (int i = 0; i < NW; ++i) {
        acc0[i] = _mm512_setzero_ps();
        acc1[i] = _mm512_setzero_ps();
    }
    int64_t b = 0;
    size_t  g = 0;
    for (; b + 8 <= n_blocks; b += 8, g += 2 * q8_0x4_group_bytes) {
        const act_group a0 = load_act_group<G>(ap + g), a1 = load_act_group<G>(ap + g + q8_0x4_group_bytes);
        for (int i = 0; i < NW; ++i) {
            const uint8_t * wr = wp + i * w_stride + b * G::block_bytes;
            prefetch_ahead(wr, 2 * gb, NW * w_stride);
            gemv_step<G>(G::unpack(wr), a0, acc0[i]);
            gemv_step<G>(G::unpack(wr + gb), a1, acc1[i]);
        }
    }
    for (; b < n_blocks; b += 4, g += q8_0x4_group_bytes) {
        const act_group a = load_act_group<G>(ap + g);
        const int       k_blocks = static_cast<int>(n_blocks - b);
        for (int i = 0; i < NW; ++i) {
            const uint8_t * wr = wp + i * w_stride + b * G::block_bytes;
            prefetch_ahead(wr, static_cast<size_t>(k_blocks < 4 ? k_blocks : 4) * G::block_bytes, NW * w_stride);
            gemv_step<G>(k_blocks >= 4 ? G::unpack(wr) : G::unpack_tail(wr, k_blocks), a, acc0[i]);
        }
    }
    for (int i = 0; i < NW; ++i) {
        acc0[i] = _mm512_add_ps(acc0[i], acc1[i]);
    }
    hsum4(acc0, NW, out);
}

template <class G>
void gemv_g(int64_t n, const void * w, size_t w_stride, int n_w, const void * a, float * out) {
    const auto * wp = static_cast<const uint8_t *>(w);
    const auto * ap = static_cast<const uint8_t *>(a);
    switch (n_w) {
        case 1: gemv_groups<G, 1>(n, wp, w_stride, ap, out); break;
        case 2: gemv_groups<G, 2>(n, wp, w_stride, ap, out); break;
        case 3: gemv_groups<G, 3>(n, wp, w_stride, ap, out); break;
        default: gemv_groups<G, 4>(n, wp, w_stride, ap, out); break;
    }
}

// ---- Q4_K and Q6_K against Q8_K -------------------------------------------------------------

// activation elements [e, e + 32) ++ [e + 64, e + 96)
inline __m512i act_pair(const int8_t * q, int e) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(q + e))),
                              _mm256_loadu_si256(reinterpret_cast<const __m256i *>(q + e + 64)), 1);
}

// gf2p8affineqb matrix (the same for each 64-bit lane): bits b and b + 1 of each byte to bits 4
// and 5, the other bits cleared. Output bit i takes the parity of the byte ANDed with matrix
// byte 7 - i.
constexpr long long gf_bits_to_45(int b) { return (1LL << b) << 24 | (1LL << (b + 1)) << 16; }
constexpr long long gf_high_nibble = 0x1020408000000000LL; // bits 4..7 to 0..3

// The products of two (weight super-block, activation super-block) members side by side: per
// 64 weights, vpdpbusd of unsigned weights with the activations from zero gives one sum per 4
// elements that fits int16 (|s| <= 4 * 63 * 128), vpackssdw(s_a, s_b) puts a's four sums and then
// b's in each 128-bit lane, and vpdpwssd against the sub-block scales laid out the same way leaves
// member a in dwords 0, 1 and b in dwords 2, 3 of each lane. A member's lanes see the same
// operations whichever place it has and whoever its partner is, so gemv (two weight rows, one
// activation), prefill (one weight row, two activations) and dot (a row paired with itself)
// give the same bits.
inline __m512i dot4s(__m512i q, __m512i y) { return _mm512_dpbusd_epi32(_mm512_setzero_si512(), q, y); }
inline __m512i pair_sums(__m512i qa, __m512i ya, __m512i qb, __m512i yb) { return _mm512_packs_epi32(dot4s(qa, ya), dot4s(qb, yb)); }

// out[0] = member a's lanes of acc (dwords 0, 1 of each 128-bit lane) minus its lanes of second
// (the low 128 bits), out[1] (when n > 1) the same for b; the same additions for both.
inline void hsum_pair(__m512 acc, __m256 second, float * out, int n) {
    const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(acc), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1)));
    __m128       q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1)); // a0 a1 b0 b1
    q = _mm_add_ps(q, _mm_movehdup_ps(q));                                                 // a . b .
    __m256 m = _mm256_add_ps(second, _mm256_permute_ps(second, _MM_SHUFFLE(1, 0, 3, 2)));
    m = _mm256_add_ps(m, _mm256_permute_ps(m, _MM_SHUFFLE(2, 3, 0, 1))); // a's sum in lane 0, b's in 4
    out[0] = _mm_cvtss_f32(q) - _mm256_cvtss_f32(m);
    if (n > 1) {
        out[1] = _mm_cvtss_f32(_mm_movehl_ps(q, q)) - _mm_cvtss_f32(_mm256_extractf128_ps(m, 1));
    }
}

// ---- Q4_K ----

// The 6-bit scales and mins of two Q4_K super-blocks, from their first 16 bytes (d, dmin, 12
// scale bytes b0..b11; a in the low 128 bits, b in the high), per 128-bit lane as bytes
// sc0..3, mn0..3, sc4..7, mn4..7 (ggml's get_scale_min_k4):
//   sc0..3 = b0..3 & 63, mn0..3 = b4..7 & 63,
//   sc4..7 = b8..11 & 15 | (b0..3 >> 6) << 4, mn4..7 = b8..11 >> 4 | (b4..7 >> 6) << 4.
inline __m256i q4_k_scales_mins(__m256i head) {
    const __m256i a = _mm256_shuffle_epi8(head, _mm256_setr_epi8(4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 12, 13, 14, 15, 4, 5, 6, 7, 8, 9,
                                                                  10, 11, 12, 13, 14, 15, 12, 13, 14, 15));
    const __m256i b = _mm256_shuffle_epi8(head, _mm256_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, 4, 5, 6, 7, 8, 9, 10, 11, -1, -1, -1, -1,
                                                                  -1, -1, -1, -1, 4, 5, 6, 7, 8, 9, 10, 11));
    const __m256i a_shifted = _mm256_srlv_epi32(a, _mm256_setr_epi32(0, 0, 0, 4, 0, 0, 0, 4)); // mn4..7 sources: high nibbles
    const __m256i top = _mm256_gf2p8affine_epi64_epi8(b, _mm256_set1_epi64x(gf_bits_to_45(6)), 0);
    const __m256i keep = _mm256_setr_epi64x(0x3f3f3f3f3f3f3f3fLL, 0x0f0f0f0f0f0f0f0fLL, 0x3f3f3f3f3f3f3f3fLL, 0x0f0f0f0f0f0f0f0fLL);
    return _mm256_ternarylogic_epi32(a_shifted, top, keep, 0xEC); // (a_shifted & keep) | top
}

constexpr int q4_k_sc_byte(int j) { return j < 4 ? j : 4 + j; }
constexpr int q4_k_mn_byte(int j) { return j < 4 ? 4 + j : 8 + j; }

// vpermb over q4_k_scales_mins (a's bytes 0..15, b's 16..31), odd bytes zeroed: the scales of
// pair_sums for register k, whose low / high 256 bits hold sub-blocks (0, 2), (1, 3), (4, 6), (5, 7).
constexpr index_table q4_k_spread(int k) {
    index_table   t{};
    constexpr int sb[4][2] = {{0, 2}, {1, 3}, {4, 6}, {5, 7}};
    for (int i = 0; i < 4; ++i) {
        for (int w = 0; w < 8; ++w) {
            t.b[16 * i + 2 * w] = static_cast<uint8_t>((w < 4 ? 0 : 16) + q4_k_sc_byte(sb[k][i / 2]));
        }
    }
    return t;
}
constexpr index_table k_q4_k_spread[4] = {q4_k_spread(0), q4_k_spread(1), q4_k_spread(2), q4_k_spread(3)};
// vpshufb over q4_k_scales_mins: each lane's 8 mins as words
constexpr index_table k_q4_k_mins = [] {
    index_table t{};
    for (int l = 0; l < 2; ++l) {
        for (int j = 0; j < 8; ++j) {
            t.b[16 * l + 2 * j] = static_cast<uint8_t>(q4_k_mn_byte(j));
            t.b[16 * l + 2 * j + 1] = 0x80;
        }
    }
    return t;
}();

// A Q8_K super-block as the Q4_K step takes it: the four activation registers matching the
// nibble registers, the bsums of each 32-element sub-block (words), and d.
struct q8_k_q4 {
    __m512i v[4];
    __m128i bs8;
    float   d;
};

struct q4_k_kind {
    using block = block_q4_k;
    using act = q8_k_q4;

    static act load_act(const block_q8_k & y) {
        act a;
        a.v[0] = act_pair(y.qs, 0);
        a.v[1] = act_pair(y.qs, 32);
        a.v[2] = act_pair(y.qs, 128);
        a.v[3] = act_pair(y.qs, 160);
        const __m256i s = _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(y.bsums)), _mm256_set1_epi16(1));
        a.bs8 = _mm256_cvtepi32_epi16(s);
        a.d = y.d;
        return a;
    }

    // One pair of members: d * sum_j sc_j (q . y)_j into acc, dmin * sum_j mn_j bsum_j into second
    // (a's in its low 128 bits, b's in the high).
    __attribute__((always_inline)) static void pair(const block & xa, const block & xb, const act & ya, const act & yb, __m512 & acc,
                                                    __m256 & second) {
        const __m512i m4 = _mm512_set1_epi8(0x0f), hi = _mm512_set1_epi64(gf_high_nibble);
        const __m512i za0 = _mm512_loadu_si512(xa.qs), za1 = _mm512_loadu_si512(xa.qs + 64);
        const __m512i zb0 = _mm512_loadu_si512(xb.qs), zb1 = _mm512_loadu_si512(xb.qs + 64);
        const __m256i head = _mm256_loadu2_m128i(reinterpret_cast<const __m128i *>(&xb), reinterpret_cast<const __m128i *>(&xa));
        const __m512i sm = _mm512_castsi256_si512(q4_k_scales_mins(head));
        const __mmask64 even = 0x5555555555555555ull;
        const __m512i p0 = pair_sums(_mm512_and_si512(za0, m4), ya.v[0], _mm512_and_si512(zb0, m4), yb.v[0]);
        const __m512i p1 = pair_sums(_mm512_gf2p8affine_epi64_epi8(za0, hi, 0), ya.v[1], _mm512_gf2p8affine_epi64_epi8(zb0, hi, 0), yb.v[1]);
        const __m512i p2 = pair_sums(_mm512_and_si512(za1, m4), ya.v[2], _mm512_and_si512(zb1, m4), yb.v[2]);
        const __m512i p3 = pair_sums(_mm512_gf2p8affine_epi64_epi8(za1, hi, 0), ya.v[3], _mm512_gf2p8affine_epi64_epi8(zb1, hi, 0), yb.v[3]);
        __m512i sumi = _mm512_madd_epi16(p0, _mm512_maskz_permutexvar_epi8(even, load_table(k_q4_k_spread[0]), sm));
        sumi = _mm512_dpwssd_epi32(sumi, p1, _mm512_maskz_permutexvar_epi8(even, load_table(k_q4_k_spread[1]), sm));
        sumi = _mm512_dpwssd_epi32(sumi, p2, _mm512_maskz_permutexvar_epi8(even, load_table(k_q4_k_spread[2]), sm));
        sumi = _mm512_dpwssd_epi32(sumi, p3, _mm512_maskz_permutexvar_epi8(even, load_table(k_q4_k_spread[3]), sm));
        const __m256i mins = _mm256_shuffle_epi8(_mm512_castsi512_si256(sm), _mm256_load_si256(reinterpret_cast<const __m256i *>(k_q4_k_mins.b)));
        const __m256i mi = _mm256_madd_epi16(mins, _mm256_set_m128i(yb.bs8, ya.bs8));
        // d_a, dmin_a, d_b, dmin_b times the members' activation scales
        const __m128 dd = _mm_mul_ps(_mm_cvtph_ps(_mm256_castsi256_si128(_mm256_permutevar8x32_epi32(head, _mm256_setr_epi32(0, 4, 0, 0, 0, 0, 0, 0)))),
                                     _mm_setr_ps(ya.d, ya.d, yb.d, yb.d));
        const __m512 d = _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 2, 2, 0, 0, 2, 2, 0, 0, 2, 2, 0, 0, 2, 2), _mm512_castps128_ps512(dd));
        const __m256 dmin = _mm256_permutexvar_ps(_mm256_setr_epi32(1, 1, 1, 1, 3, 3, 3, 3), _mm256_castps128_ps256(dd));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi), d, acc);
        second = _mm256_fmadd_ps(_mm256_cvtepi32_ps(mi), dmin, second);
    }
};

// ---- Q6_K ----

// vpermw over the scales of a (words 0..15) and b (16..31), sign-extended: the scales of
// pair_sums for register k (elements 64k..64k+63, lane i = sub-block 4k + i).
constexpr index_table q6_k_spread(int k) {
    index_table t{};
    for (int i = 0; i < 4; ++i) {
        for (int w = 0; w < 8; ++w) {
            t.b[2 * (8 * i + w)] = static_cast<uint8_t>((w < 4 ? 0 : 16) + 4 * k + i);
        }
    }
    return t;
}
constexpr index_table k_q6_k_spread[4] = {q6_k_spread(0), q6_k_spread(1), q6_k_spread(2), q6_k_spread(3)};
// vpermw over two 16-word rows (a, b): lane i = a's words 4i..4i+3, then b's. Laid out so, the
// vpmaddwd of scales and bsums lands a's products in dwords 0, 1 of each lane and b's in 2, 3.
constexpr index_table k_q6_k_by_lane = [] {
    index_table t{};
    for (int i = 0; i < 4; ++i) {
        for (int w = 0; w < 8; ++w) {
            t.b[2 * (8 * i + w)] = static_cast<uint8_t>((w < 4 ? 0 : 16) + 4 * i + (w & 3));
        }
    }
    return t;
}();

// The four registers of unsigned 6-bit quants (w + 32) of a Q6_K super-block, elements 64k..: a
// 64-byte load of ql and the matching 32 bytes of qh give [0, 64) (low nibbles, qh bits 0-1
// then 2-3) and [64, 128) (high nibbles, qh bits 4-5 then 6-7) of each 128-element half.
inline void q6_k_quants(const block_q6_k & x, __m512i * q) {
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    const __m512i g_lo = _mm512_inserti64x4(_mm512_set1_epi64(gf_bits_to_45(0)), _mm256_set1_epi64x(gf_bits_to_45(2)), 1);
    const __m512i g_hi = _mm512_inserti64x4(_mm512_set1_epi64(gf_bits_to_45(4)), _mm256_set1_epi64x(gf_bits_to_45(6)), 1);
    for (int c = 0; c < 2; ++c) {
        const __m512i l = _mm512_loadu_si512(x.ql + 64 * c);
        const __m512i h = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(x.qh + 32 * c)));
        // (low nibble | qh bits at 4, 5), (high nibble | qh bits at 4, 5)
        q[2 * c] = _mm512_ternarylogic_epi32(l, _mm512_gf2p8affine_epi64_epi8(h, g_lo, 0), m4, 0xEC);
        q[2 * c + 1] = _mm512_ternarylogic_epi32(_mm512_srli_epi16(l, 4), _mm512_gf2p8affine_epi64_epi8(h, g_hi, 0), m4, 0xEC);
    }
}

// A Q8_K super-block as the Q6_K step takes it: its four 64-element registers, its bsums and d.
struct q8_k_q6 {
    __m512i v[4];
    __m256i bsums;
    float   d;
};

struct q6_k_kind {
    using block = block_q6_k;
    using act = q8_k_q6;

    static act load_act(const block_q8_k & y) {
        act a;
        for (int k = 0; k < 4; ++k) {
            a.v[k] = _mm512_loadu_si512(y.qs + 64 * k);
        }
        a.bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y.bsums));
        a.d = y.d;
        return a;
    }

    // One pair of members: d * sum_j sc_j ((q . y)_j - 32 bsum_j) into acc.
    __attribute__((always_inline)) static void pair(const block & xa, const block & xb, const act & ya, const act & yb, __m512 & acc,
                                                    __m256 &) {
        __m512i qa[4], qb[4];
        q6_k_quants(xa, qa);
        q6_k_quants(xb, qb);
        const __m512i sc = _mm512_cvtepi8_epi16(_mm256_loadu2_m128i(reinterpret_cast<const __m128i *>(xb.scales), reinterpret_cast<const __m128i *>(xa.scales)));
        // the quants are w + 32: the sum starts at -32 * sum_j sc_j bsum_j (32 sc_j fits int16)
        const __m512i by_lane = load_table(k_q6_k_by_lane);
        const __m512i neg_bsums = _mm512_sub_epi16(_mm512_setzero_si512(),
                                                   _mm512_permutexvar_epi16(by_lane, _mm512_inserti64x4(_mm512_castsi256_si512(ya.bsums), yb.bsums, 1)));
        __m512i sumi = _mm512_madd_epi16(_mm512_slli_epi16(_mm512_permutexvar_epi16(by_lane, sc), 5), neg_bsums);
#pragma GCC unroll 4
        for (int k = 0; k < 4; ++k) {
            sumi = _mm512_dpwssd_epi32(sumi, pair_sums(qa[k], ya.v[k], qb[k], yb.v[k]), _mm512_permutexvar_epi16(load_table(k_q6_k_spread[k]), sc));
        }
        const __m128 dd = _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(xa.d | static_cast<uint32_t>(xb.d) << 16))), _mm_setr_ps(ya.d, yb.d, 0.0f, 0.0f));
        const __m512 d = _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1), _mm512_castps128_ps512(dd));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi), d, acc);
    }
};

// ---- K-quant row loops ---------------------------------------------------------------------------

// One weight row against NA activation rows (prefill), activation rows in pairs (an odd last one
// paired with itself).
template <class K, int NA>
void dot_k_rows(int64_t n, const void * w, const void * a, size_t a_stride, float * out) {
    constexpr int NP = (NA + 1) / 2;
    const auto *  x = static_cast<const typename K::block *>(w);
    __m512        acc[NP];
    __m256        second[NP];
    for (int p = 0; p < NP; ++p) {
        acc[p] = _mm512_setzero_ps();
        second[p] = _mm256_setzero_ps();
    }
    for (int64_t b = 0; b < n / 256; ++b) {
        typename K::act y[NA];
        for (int r = 0; r < NA; ++r) {
            y[r] = K::load_act(reinterpret_cast<const block_q8_k *>(static_cast<const uint8_t *>(a) + r * a_stride)[b]);
        }
        for (int p = 0; p < NP; ++p) {
            K::pair(x[b], x[b], y[2 * p], y[2 * p + 1 < NA ? 2 * p + 1 : 2 * p], acc[p], second[p]);
        }
    }
    for (int p = 0; p < NP; ++p) {
        hsum_pair(acc[p], second[p], out + 2 * p, NA - 2 * p);
    }
}

// NW weight rows against one activation row (decode), weight rows in pairs: each activation
// super-block is loaded once.
template <class K, int NW>
void gemv_k_rows(int64_t n, const uint8_t * w, size_t w_stride, const block_q8_k * y, float * out) {
    constexpr int NP = (NW + 1) / 2;
    __m512        acc[NP];
    __m256        second[NP];
    for (int p = 0; p < NP; ++p) {
        acc[p] = _mm512_setzero_ps();
        second[p] = _mm256_setzero_ps();
    }
    for (int64_t b = 0; b < n / 256; ++b) {
        const typename K::act ya = K::load_act(y[b]);
        for (int p = 0; p < NP; ++p) {
            const int    ia = 2 * p, ib = 2 * p + 1 < NW ? 2 * p + 1 : 2 * p;
            const auto & xa = reinterpret_cast<const typename K::block *>(w + ia * w_stride)[b];
            const auto & xb = reinterpret_cast<const typename K::block *>(w + ib * w_stride)[b];
            prefetch_ahead(&xa, sizeof xa, NW * w_stride);
            if (ib != ia) {
                prefetch_ahead(&xb, sizeof xb, NW * w_stride);
            }
            K::pair(xa, xb, ya, ya, acc[p], second[p]);
        }
    }
    for (int p = 0; p < NP; ++p) {
        hsum_pair(acc[p], second[p], out + 2 * p, NW - 2 * p);
    }
}

template <class K>
float dot_k(int64_t n, const void * w, const void * a) {
    float out;
    dot_k_rows<K, 1>(n, w, a, 0, &out);
    return out;
}

template <class K>
void dot4_k(int64_t n, const void * w, const void * a, size_t a_stride, int n_act, float * out) {
    switch (n_act) {
        case 1: dot_k_rows<K, 1>(n, w, a, a_stride, out); break;
        case 2: dot_k_rows<K, 2>(n, w, a, a_stride, out); break;
        case 3: dot_k_rows<K, 3>(n, w, a, a_stride, out); break;
        default: dot_k_rows<K, 4>(n, w, a, a_stride, out); break;
    }
}

template <class K>
void gemv_k(int64_t n, const void * w, size_t w_stride, int n_w, const void * a, float * out) {
    const auto * wp = static_cast<const uint8_t *>(w);
    const auto * y = static_cast<const block_q8_k *>(a);
    switch (n_w) {
        case 1: gemv_k_rows<K, 1>(n, wp, w_stride, y, out); break;
        case 2: gemv_k_rows<K, 2>(n, wp, w_stride, y, out); break;
        case 3: gemv_k_rows<K, 3>(n, wp, w_stride, y, out); break;
        default: gemv_k_rows<K, 4>(n, wp, w_stride, y, out); break;
    }
}

// ---- F32 / F16 weights against f32 activations -------------------------------------------------

struct load_f32 {
    static __m512 at(const void * p, int64_t i) { return _mm512_loadu_ps(static_cast<const float *>(p) + i); }
    static __m512 tail(const void * p, int64_t i, __mmask16 m) { return _mm512_maskz_loadu_ps(m, static_cast<const float *>(p) + i); }
    static constexpr size_t elem = 4;
};
struct load_f16 {
    static __m512 at(const void * p, int64_t i) {
        return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(static_cast<const uint16_t *>(p) + i)));
    }
    static __m512 tail(const void * p, int64_t i, __mmask16 m) {
        return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, static_cast<const uint16_t *>(p) + i));
    }
    static constexpr size_t elem = 2;
};

// NW weight rows x NA activation rows, 16 elements per step, one accumulator per pair.
template <class L, int NW, int NA>
void float_tile(int64_t n, const void * w, size_t w_stride, const void * a, size_t a_stride, float * y, size_t y_stride) {
    const auto * wb = static_cast<const uint8_t *>(w);
    const auto * ab = static_cast<const uint8_t *>(a);
    __m512       acc[NW][NA];
    for (int i = 0; i < NW; ++i) {
        for (int r = 0; r < NA; ++r) {
            acc[i][r] = _mm512_setzero_ps();
        }
    }
    int64_t k = 0;
    for (; k + 16 <= n; k += 16) {
        __m512 wv[NW];
        for (int i = 0; i < NW; ++i) {
            wv[i] = L::at(wb + i * w_stride, k);
        }
        for (int r = 0; r < NA; ++r) {
            const __m512 av = _mm512_loadu_ps(reinterpret_cast<const float *>(ab + r * a_stride) + k);
            for (int i = 0; i < NW; ++i) {
                acc[i][r] = _mm512_fmadd_ps(wv[i], av, acc[i][r]);
            }
        }
    }
    if (k < n) {
        const __mmask16 m = static_cast<__mmask16>((1u << (n - k)) - 1);
        __m512          wv[NW];
        for (int i = 0; i < NW; ++i) {
            wv[i] = L::tail(wb + i * w_stride, k, m);
        }
        for (int r = 0; r < NA; ++r) {
            const __m512 av = _mm512_maskz_loadu_ps(m, reinterpret_cast<const float *>(ab + r * a_stride) + k);
            for (int i = 0; i < NW; ++i) {
                acc[i][r] = _mm512_fmadd_ps(wv[i], av, acc[i][r]);
            }
        }
    }
    for (int r = 0; r < NA; ++r) {
        for (int i = 0; i < NW; ++i) {
            y[r * y_stride + i] = hsum512(acc[i][r]);
        }
    }
}

template <class L, int NW>
void float_tile_nw(int64_t n, const void * w, size_t w_stride, const void * a, size_t a_stride, int n_act, float * y,
                   size_t y_stride) {
    switch (n_act) {
        case 1: float_tile<L, NW, 1>(n, w, w_stride, a, a_stride, y, y_stride); break;
        case 2: float_tile<L, NW, 2>(n, w, w_stride, a, a_stride, y, y_stride); break;
        case 3: float_tile<L, NW, 3>(n, w, w_stride, a, a_stride, y, y_stride); break;
        default: float_tile<L, NW, 4>(n, w, w_stride, a, a_stride, y, y_stride); break;
    }
}

template <class L>
void float_gemm_tile(int64_t n, const void * w, size_t w_stride, int n_w, const void * a, size_t a_stride, int n_act,
                     float * y, size_t y_stride) {
    switch (n_w) {
        case 1: float_tile_nw<L, 1>(n, w, w_stride, a, a_stride, n_act, y, y_stride); break;
        case 2: float_tile_nw<L, 2>(n, w, w_stride, a, a_stride, n_act, y, y_stride); break;
        case 3: float_tile_nw<L, 3>(n, w, w_stride, a, a_stride, n_act, y, y_stride); break;
        default: float_tile_nw<L, 4>(n, w, w_stride, a, a_stride, n_act, y, y_stride); break;
    }
}

template <class L>
float float_dot(int64_t n, const void * w, const void * a) {
    float out;
    float_tile<L, 1, 1>(n, w, 0, a, 0, &out, 1);
    return out;
}

struct entry {
    uint32_t   type;
    dot_kernel kernel;
};

constexpr entry k_vnni[] = {
    {0, {act_format::f32, float_dot<load_f32>, "avx512", nullptr, float_gemm_tile<load_f32>}},
    {1, {act_format::f32, float_dot<load_f16>, "avx512", nullptr, float_gemm_tile<load_f16>}},
    {2, {act_format::q8_0x4, dot_g<q4_0_group>, "avx512vnni", dot4_g<q4_0_group>, nullptr, gemv_g<q4_0_group>}},
    {qtype_q4_1, {act_format::q8_0x4, dot_g<q4_1_group>, "avx512vnni", dot4_g<q4_1_group>, nullptr, gemv_g<q4_1_group>}},
    {qtype_q5_0, {act_format::q8_0x4, dot_g<q5_0_group>, "avx512vnni", dot4_g<q5_0_group>, nullptr, gemv_g<q5_0_group>}},
    {qtype_q5_1, {act_format::q8_0x4, dot_g<q5_1_group>, "avx512vnni", dot4_g<q5_1_group>, nullptr, gemv_g<q5_1_group>}},
    {8, {act_format::q8_0x4, dot_g<q8_0_group>, "avx512vnni", dot4_g<q8_0_group>, nullptr, gemv_g<q8_0_group>}},
    {12, {act_format::q8_k, dot_k<q4_k_kind>, "avx512vnni", dot4_k<q4_k_kind>, nullptr, gemv_k<q4_k_kind>}},
    {14, {act_format::q8_k, dot_k<q6_k_kind>, "avx512vnni", dot4_k<q6_k_kind>, nullptr, gemv_k<q6_k_kind>}},
};

} // namespace

const dot_kernel * find_dot_kernel_avx512vnni(uint32_t ggml_type) {
    if (!usable_cpu_features().gfni) {
        return nullptr;
    }
    for (const entry & e : k_vnni) {
        if (e.type == ggml_type) {
            return &e.kernel;
        }
    }
    return nullptr;
}

} // namespace v4::kernels::cpu

