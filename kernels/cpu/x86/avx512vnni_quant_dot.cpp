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
// Q4_K and Q6_K against Q8_K: 128 (Q6_K: 64) weights per 512-bit register, scales applied in
// 16 bits (vpmaddubsw, then vpdpwssd with the sub-block scales spread by vpermw).
// F32/F16 get a 4 x 4 register tile for prefill (f32 FMA, 16 accumulators).
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports the "undefined" pass-through operands inside _mm512_cvtph_ps and
// _mm512_reduce_add_ps as used uninitialized; they are don't-care values by design.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstring>

#include "cpu/q8_0x4.h"
#include "cpu/quant_dot.h"
#include "cpu/x86/hsum256.h"
#include "reference/dequantize_legacy.h"
#include "reference/quant_blocks.h"

namespace v4::kernels::cpu {

namespace {

// ---- q8_0x4 activations ----------------------------------------------------------------------

// Rounds like std::roundf (ties away from zero), so the values equal quantize_row_q8_0's.
inline __m512 round_away(__m512 v) {
    const __m512    t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m512    frac = _mm512_sub_ps(v, t); // exact for |v| < 2^23
    const __mmask16 up = _mm512_cmp_ps_mask(_mm512_abs_ps(frac), _mm512_set1_ps(0.5f), _CMP_GE_OQ);
    const __m512i   sign = _mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(static_cast<int>(0x80000000u)));
    const __m512    one = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(_mm512_set1_ps(1.0f)), sign));
    return _mm512_mask_add_ps(t, up, t, one);
}

} // namespace

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
            const __m512 v0 = _mm512_loadu_ps(x + b * 32);
            const __m512 v1 = _mm512_loadu_ps(x + b * 32 + 16);
            const float  amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
            const float  d = amax / 127.0f;
            const float  id = d != 0.0f ? 1.0f / d : 0.0f;
            const __m512i q0 = _mm512_cvttps_epi32(round_away(_mm512_mul_ps(v0, _mm512_set1_ps(id))));
            const __m512i q1 = _mm512_cvttps_epi32(round_away(_mm512_mul_ps(v1, _mm512_set1_ps(id))));
            _mm_storeu_si128(reinterpret_cast<__m128i *>(out + 16 * j), _mm512_cvtepi32_epi8(q0));
            _mm_storeu_si128(reinterpret_cast<__m128i *>(out + 64 + 16 * j), _mm512_cvtepi32_epi8(q1));
            sums[4 * j] = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
            const float dr = _cvtsh_ss(_cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
            ds[4 * j] = ds[4 * j + 1] = ds[4 * j + 2] = ds[4 * j + 3] = dr;
        }
        std::memcpy(out + 128, sums, sizeof sums);
        std::memcpy(out + 192, ds, sizeof ds);
    }
}

namespace {

// ---- horizontal sums ---------------------------------------------------------------------------

// The sum of v's 16 lanes in a fixed tree: 256-bit halves, 128-bit halves, elements k and k + 2,
// then 0 and 1 (the order GCC's _mm512_reduce_add_ps uses, written out so that hsum4 below
// matches it bit for bit on any compiler).
inline float hsum512(__m512 v) {
    const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    __m128       q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
}

// out[i] = hsum512(v[i]) for i < n_w (<= 4), the four sums transposed through shared shuffles:
// the same pairs are added, so the results are the same bits.
inline void hsum4(const __m512 * v, int n_w, float * out) {
    const __m512 z = _mm512_setzero_ps();
    const __m512 a = v[0], b = n_w > 1 ? v[1] : z, c = n_w > 2 ? v[2] : z, d = n_w > 3 ? v[3] : z;
    // 128-bit lanes [a0 + a2, a1 + a3, b0 + b2, b1 + b3] and the same for c, d
    const __m512 ab = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(1, 0, 1, 0)), _mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(3, 2, 3, 2)));
    const __m512 cd = _mm512_add_ps(_mm512_shuffle_f32x4(c, d, _MM_SHUFFLE(1, 0, 1, 0)), _mm512_shuffle_f32x4(c, d, _MM_SHUFFLE(3, 2, 3, 2)));
    // lane i: row i's 128-bit sum
    __m512 q = _mm512_add_ps(_mm512_shuffle_f32x4(ab, cd, _MM_SHUFFLE(2, 0, 2, 0)), _mm512_shuffle_f32x4(ab, cd, _MM_SHUFFLE(3, 1, 3, 1)));
    q = _mm512_add_ps(q, _mm512_permute_ps(q, _MM_SHUFFLE(1, 0, 3, 2)));
    q = _mm512_add_ps(q, _mm512_permute_ps(q, _MM_SHUFFLE(2, 3, 0, 1)));
    const __m128 sums = _mm512_castps512_ps128(_mm512_maskz_compress_ps(0x1111, q));
    _mm_mask_storeu_ps(out, static_cast<__mmask8>((1u << n_w) - 1), sums);
}

// ---- decode's weight stream -----------------------------------------------------------------------

// A gemv call reads NW rows side by side, and the hardware prefetchers follow several such streams
// in a page much worse than one: from DRAM, 4-row Q8_0 read at 6-9 GB/s on one core, against 20
// row by row. Prefetching into L2 the bytes two calls ahead (the same place in the rows 2 * NW
// further on) makes it 23 (v4_kernel_bench, rows4 cases). Prefetches past the matrix are harmless.
inline void prefetch_ahead(const void * p, size_t bytes, size_t call_bytes) {
    const char * q = static_cast<const char *>(p) + 2 * call_bytes;
    for (size_t l = 0; l < bytes; l += 64) {
        _mm_prefetch(q + l, _MM_HINT_T1);
    }
}

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

// ---- Q4_K against Q8_K ------------------------------------------------------------------------

// The 8 six-bit scales (low 64 bits) and mins (high 64 bits) of a Q4_K super-block, one byte
// each, unpacked in general registers (ggml's get_scale_min_k4, vectorized over 4 at a time).
inline __m128i scales_mins(const uint8_t * q) {
    uint32_t u[3];
    std::memcpy(u, q, 12);
    constexpr uint32_t six = 0x3f3f3f3f, low4 = 0x0f0f0f0f, two = 0x03030303;
    const uint32_t     sc_lo = u[0] & six;
    const uint32_t     sc_hi = (u[2] & low4) | (((u[0] >> 6) & two) << 4);
    const uint32_t     mn_lo = u[1] & six;
    const uint32_t     mn_hi = ((u[2] >> 4) & low4) | (((u[1] >> 6) & two) << 4);
    return _mm_set_epi32(static_cast<int>(mn_hi), static_cast<int>(mn_lo), static_cast<int>(sc_hi), static_cast<int>(sc_lo));
}

// int16 lanes 0..15 = scale of sub-block a, 16..31 = sub-block b (vpermw over the 8 scales)
constexpr index_table scale_pair_table(int a, int b) {
    index_table t{};
    for (int i = 0; i < 16; ++i) {
        t.b[2 * i] = static_cast<uint8_t>(a);
        t.b[2 * (16 + i)] = static_cast<uint8_t>(b);
    }
    return t;
}
// A 64-byte load of the quants holds sub-blocks (2k, 2k + 2) in its low nibbles and (2k + 1,
// 2k + 3) in its high nibbles, k = 0 for bytes 0..63 and 2 for 64..127.
constexpr index_table k_sc_idx[4] = {scale_pair_table(0, 2), scale_pair_table(1, 3), scale_pair_table(4, 6),
                                      scale_pair_table(5, 7)};

// activation elements [e, e + 32) ++ [e + 64, e + 96)
inline __m512i act_pair(const int8_t * q, int e) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(q + e))),
                              _mm256_loadu_si256(reinterpret_cast<const __m256i *>(q + e + 64)), 1);
}

// A Q4_K super-block unpacked: four registers of nibbles (sub-blocks as k_sc_idx says), their
// sub-block scales spread by lane, the mins (each twice, against the two 16-element activation
// sums of its sub-block), d and dmin.
struct q4_k_unpacked {
    __m512i q[4], scv[4];
    __m256i mn16;
    float   d, dmin;
};

inline q4_k_unpacked unpack_q4_k(const block_q4_k & x) {
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    q4_k_unpacked u;
    const __m128i sm = scales_mins(x.scales);
    const __m512i sc16 = _mm512_castsi256_si512(_mm256_cvtepu8_epi16(sm)); // 8 scales, then 8 mins
    u.mn16 = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(sm, sm));
    const __m512i z0 = _mm512_loadu_si512(x.qs), z1 = _mm512_loadu_si512(x.qs + 64);
    u.q[0] = _mm512_and_si512(z0, m4);
    u.q[1] = _mm512_and_si512(_mm512_srli_epi16(z0, 4), m4);
    u.q[2] = _mm512_and_si512(z1, m4);
    u.q[3] = _mm512_and_si512(_mm512_srli_epi16(z1, 4), m4);
    for (int k = 0; k < 4; ++k) {
        u.scv[k] = _mm512_permutexvar_epi16(load_table(k_sc_idx[k]), sc16);
    }
    u.d = _cvtsh_ss(x.d);
    u.dmin = _cvtsh_ss(x.dmin);
    return u;
}

// The four activation registers of a Q8_K super-block, matching q4_k_unpacked::q
inline void load_act_q4_k(const block_q8_k & y, __m512i * yv) {
    for (int k = 0; k < 4; ++k) {
        yv[k] = act_pair(y.qs, (k >> 1) * 128 + (k & 1) * 32);
    }
}

// One super-block: the scaled integer dot into acc, the min correction into acc_m.
inline void q4_k_step(const q4_k_unpacked & u, const block_q8_k & y, const __m512i * yv, __m512 & acc, __m256 & acc_m) {
    const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y.bsums));
    acc_m = _mm256_fmadd_ps(_mm256_set1_ps(y.d * u.dmin), _mm256_cvtepi32_ps(_mm256_madd_epi16(bs, u.mn16)), acc_m);
    __m512i sumi = _mm512_setzero_si512();
    for (int k = 0; k < 4; ++k) {
        sumi = _mm512_dpwssd_epi32(sumi, _mm512_maddubs_epi16(u.q[k], yv[k]), u.scv[k]);
    }
    acc = _mm512_fmadd_ps(_mm512_set1_ps(y.d * u.d), _mm512_cvtepi32_ps(sumi), acc);
}

// ---- Q6_K against Q8_K ------------------------------------------------------------------------

// int16 lanes 8i..8i+7 = scale first + i (i < 4): one scale per 16 elements of a 64-element register
constexpr index_table scale_run_table(int first) {
    index_table t{};
    for (int i = 0; i < 32; ++i) {
        t.b[2 * i] = static_cast<uint8_t>(first + i / 8);
    }
    return t;
}
constexpr index_table k_q6_sc_idx[4] = {scale_run_table(0), scale_run_table(4), scale_run_table(8), scale_run_table(12)};

// A Q6_K super-block unpacked: four registers of 6-bit quants (unsigned, w + 32), their scales
// spread by lane, the 16 scales as int16 and d. One 64-byte load of ql and the matching 32 bytes of
// qh give elements [0, 64) (low nibbles, qh bits 0-1 then 2-3) and [64, 128) (high nibbles, qh
// bits 4-5 then 6-7) of a 128-element half.
struct q6_k_unpacked {
    __m512i q[4], scv[4];
    __m256i sc16;
    float   d;
};

inline q6_k_unpacked unpack_q6_k(const block_q6_k & x) {
    const __m512i m4 = _mm512_set1_epi8(0x0f), m2 = _mm512_set1_epi8(0x03);
    const __m512i shift_lo = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
    const __m512i shift_hi = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(6), 1);
    q6_k_unpacked u;
    u.sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(x.scales)));
    for (int c = 0; c < 2; ++c) {
        const __m512i l = _mm512_loadu_si512(x.ql + 64 * c);
        const __m512i h = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(x.qh + 32 * c)));
        const __m512i h_lo = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(h, shift_lo), m2), 4);
        const __m512i h_hi = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(h, shift_hi), m2), 4);
        u.q[2 * c] = _mm512_or_si512(_mm512_and_si512(l, m4), h_lo);
        u.q[2 * c + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4), h_hi);
    }
    for (int k = 0; k < 4; ++k) {
        u.scv[k] = _mm512_permutexvar_epi16(load_table(k_q6_sc_idx[k]), _mm512_castsi256_si512(u.sc16));
    }
    u.d = _cvtsh_ss(x.d);
    return u;
}

// One super-block: the scaled integer dot into acc, the -32 offsets into acc_o.
inline void q6_k_step(const q6_k_unpacked & u, const block_q8_k & y, const __m512i * yv, __m512 & acc, __m256 & acc_o) {
    const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y.bsums));
    acc_o = _mm256_fmadd_ps(_mm256_set1_ps(32.0f * y.d * u.d), _mm256_cvtepi32_ps(_mm256_madd_epi16(bs, u.sc16)), acc_o);
    __m512i sumi = _mm512_setzero_si512();
    for (int k = 0; k < 4; ++k) {
        sumi = _mm512_dpwssd_epi32(sumi, _mm512_maddubs_epi16(u.q[k], yv[k]), u.scv[k]);
    }
    acc = _mm512_fmadd_ps(_mm512_set1_ps(y.d * u.d), _mm512_cvtepi32_ps(sumi), acc);
}

inline void load_act_q6_k(const block_q8_k & y, __m512i * yv) {
    for (int k = 0; k < 4; ++k) {
        yv[k] = _mm512_loadu_si512(y.qs + 64 * k);
    }
}

// ---- K-quant row loops ---------------------------------------------------------------------------

// K: the weight block type, its unpacked form, the activation registers and the per-super-block
// step; `second` accumulates K's 8-lane correction (mins or offsets), subtracted at the end.
struct q4_k_kind {
    using block = block_q4_k;
    static q4_k_unpacked unpack(const block & x) { return unpack_q4_k(x); }
    static void          load_act(const block_q8_k & y, __m512i * yv) { load_act_q4_k(y, yv); }
    static void          step(const q4_k_unpacked & u, const block_q8_k & y, const __m512i * yv, __m512 & acc, __m256 & second) {
        q4_k_step(u, y, yv, acc, second);
    }
};
struct q6_k_kind {
    using block = block_q6_k;
    static q6_k_unpacked unpack(const block & x) { return unpack_q6_k(x); }
    static void          load_act(const block_q8_k & y, __m512i * yv) { load_act_q6_k(y, yv); }
    static void          step(const q6_k_unpacked & u, const block_q8_k & y, const __m512i * yv, __m512 & acc, __m256 & second) {
        q6_k_step(u, y, yv, acc, second);
    }
};

// One weight row against NA activation rows (prefill): each super-block is unpacked once.
template <class K, int NA>
void dot_k_rows(int64_t n, const void * w, const void * a, size_t a_stride, float * out) {
    const auto * x = static_cast<const typename K::block *>(w);
    __m512       acc[NA];
    __m256       second[NA];
    for (int r = 0; r < NA; ++r) {
        acc[r] = _mm512_setzero_ps();
        second[r] = _mm256_setzero_ps();
    }
    for (int64_t b = 0; b < n / 256; ++b) {
        const auto u = K::unpack(x[b]);
        for (int r = 0; r < NA; ++r) {
            const auto & y = reinterpret_cast<const block_q8_k *>(static_cast<const uint8_t *>(a) + r * a_stride)[b];
            __m512i      yv[4];
            K::load_act(y, yv);
            K::step(u, y, yv, acc[r], second[r]);
        }
    }
    for (int r = 0; r < NA; ++r) {
        out[r] = hsum512(acc[r]) - hsum256(second[r]);
    }
}

// NW weight rows against one activation row (decode): each activation super-block is loaded
// once. Per row the same steps as dot_k_rows, so the same bits.
template <class K, int NW>
void gemv_k_rows(int64_t n, const uint8_t * w, size_t w_stride, const block_q8_k * y, float * out) {
    __m512 acc[NW];
    __m256 second[NW];
    for (int i = 0; i < NW; ++i) {
        acc[i] = _mm512_setzero_ps();
        second[i] = _mm256_setzero_ps();
    }
    for (int64_t b = 0; b < n / 256; ++b) {
        __m512i yv[4];
        K::load_act(y[b], yv);
        for (int i = 0; i < NW; ++i) {
            const auto & x = reinterpret_cast<const typename K::block *>(w + i * w_stride)[b];
            prefetch_ahead(&x, sizeof x, NW * w_stride);
            K::step(K::unpack(x), y[b], yv, acc[i], second[i]);
        }
    }
    hsum4(acc, NW, out);
    for (int i = 0; i < NW; ++i) {
        out[i] -= hsum256(second[i]);
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
    for (const entry & e : k_vnni) {
        if (e.type == ggml_type) {
            return &e.kernel;
        }
    }
    return nullptr;
}

} // namespace v4::kernels::cpu
