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
        out[r] = _mm512_reduce_add_ps(_mm512_add_ps(acc0[r], acc1[r]));
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

template <int NA>
void dot_q4_k_rows(int64_t n, const void * w, const void * a, size_t a_stride, float * out) {
    const auto *  x = static_cast<const block_q4_k *>(w);
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    __m512        acc[NA];
    __m256        acc_m[NA]; // min corrections, 8 lanes
    for (int r = 0; r < NA; ++r) {
        acc[r] = _mm512_setzero_ps();
        acc_m[r] = _mm256_setzero_ps();
    }
    for (int64_t b = 0; b < n / 256; ++b) {
        const __m128i sm = scales_mins(x[b].scales);
        const __m512i sc16 = _mm512_castsi256_si512(_mm256_cvtepu8_epi16(sm)); // 8 scales, then 8 mins
        // each min twice, against the two 16-element sums of its sub-block
        const __m256i mn16 = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(sm, sm));
        __m512i       q[4], scv[4];
        const __m512i z0 = _mm512_loadu_si512(x[b].qs), z1 = _mm512_loadu_si512(x[b].qs + 64);
        q[0] = _mm512_and_si512(z0, m4);
        q[1] = _mm512_and_si512(_mm512_srli_epi16(z0, 4), m4);
        q[2] = _mm512_and_si512(z1, m4);
        q[3] = _mm512_and_si512(_mm512_srli_epi16(z1, 4), m4);
        for (int k = 0; k < 4; ++k) {
            scv[k] = _mm512_permutexvar_epi16(load_table(k_sc_idx[k]), sc16);
        }
        const float xd = _cvtsh_ss(x[b].d), xdmin = _cvtsh_ss(x[b].dmin);
        for (int r = 0; r < NA; ++r) {
            const auto &  y = reinterpret_cast<const block_q8_k *>(static_cast<const uint8_t *>(a) + r * a_stride)[b];
            const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y.bsums));
            acc_m[r] = _mm256_fmadd_ps(_mm256_set1_ps(y.d * xdmin), _mm256_cvtepi32_ps(_mm256_madd_epi16(bs, mn16)), acc_m[r]);
            __m512i sumi = _mm512_setzero_si512();
            for (int k = 0; k < 4; ++k) {
                const __m512i yv = act_pair(y.qs, (k >> 1) * 128 + (k & 1) * 32);
                sumi = _mm512_dpwssd_epi32(sumi, _mm512_maddubs_epi16(q[k], yv), scv[k]);
            }
            acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(y.d * xd), _mm512_cvtepi32_ps(sumi), acc[r]);
        }
    }
    for (int r = 0; r < NA; ++r) {
        out[r] = _mm512_reduce_add_ps(acc[r]) - hsum256(acc_m[r]);
    }
}

float dot_q4_k(int64_t n, const void * w, const void * a) {
    float out;
    dot_q4_k_rows<1>(n, w, a, 0, &out);
    return out;
}

void dot4_q4_k(int64_t n, const void * w, const void * a, size_t a_stride, int n_act, float * out) {
    switch (n_act) {
        case 1: dot_q4_k_rows<1>(n, w, a, a_stride, out); break;
        case 2: dot_q4_k_rows<2>(n, w, a, a_stride, out); break;
        case 3: dot_q4_k_rows<3>(n, w, a, a_stride, out); break;
        default: dot_q4_k_rows<4>(n, w, a, a_stride, out); break;
    }
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

// One 64-byte load of ql and the matching 32 bytes of qh give elements [0, 64) (low nibbles, qh
// bits 0-1 then 2-3) and [64, 128) (high nibbles, qh bits 4-5 then 6-7) of a 128-element half.
template <int NA>
void dot_q6_k_rows(int64_t n, const void * w, const void * a, size_t a_stride, float * out) {
    const auto *  x = static_cast<const block_q6_k *>(w);
    const __m512i m4 = _mm512_set1_epi8(0x0f), m2 = _mm512_set1_epi8(0x03);
    const __m512i shift_lo = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
    const __m512i shift_hi = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(6), 1);
    __m512        acc[NA];
    __m256        acc_o[NA]; // the -32 offsets, 8 lanes
    for (int r = 0; r < NA; ++r) {
        acc[r] = _mm512_setzero_ps();
        acc_o[r] = _mm256_setzero_ps();
    }
    for (int64_t b = 0; b < n / 256; ++b) {
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(x[b].scales)));
        __m512i       q[4], scv[4];
        for (int c = 0; c < 2; ++c) {
            const __m512i l = _mm512_loadu_si512(x[b].ql + 64 * c);
            const __m512i h = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(x[b].qh + 32 * c)));
            const __m512i h_lo = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(h, shift_lo), m2), 4);
            const __m512i h_hi = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(h, shift_hi), m2), 4);
            q[2 * c] = _mm512_or_si512(_mm512_and_si512(l, m4), h_lo);
            q[2 * c + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4), h_hi);
        }
        for (int k = 0; k < 4; ++k) {
            scv[k] = _mm512_permutexvar_epi16(load_table(k_q6_sc_idx[k]), _mm512_castsi256_si512(sc16));
        }
        const float xd = _cvtsh_ss(x[b].d);
        for (int r = 0; r < NA; ++r) {
            const auto &  y = reinterpret_cast<const block_q8_k *>(static_cast<const uint8_t *>(a) + r * a_stride)[b];
            const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y.bsums));
            acc_o[r] = _mm256_fmadd_ps(_mm256_set1_ps(32.0f * y.d * xd), _mm256_cvtepi32_ps(_mm256_madd_epi16(bs, sc16)), acc_o[r]);
            __m512i sumi = _mm512_setzero_si512();
            for (int k = 0; k < 4; ++k) {
                const __m512i yv = _mm512_loadu_si512(y.qs + 64 * k);
                sumi = _mm512_dpwssd_epi32(sumi, _mm512_maddubs_epi16(q[k], yv), scv[k]);
            }
            acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(y.d * xd), _mm512_cvtepi32_ps(sumi), acc[r]);
        }
    }
    for (int r = 0; r < NA; ++r) {
        out[r] = _mm512_reduce_add_ps(acc[r]) - hsum256(acc_o[r]);
    }
}

float dot_q6_k(int64_t n, const void * w, const void * a) {
    float out;
    dot_q6_k_rows<1>(n, w, a, 0, &out);
    return out;
}

void dot4_q6_k(int64_t n, const void * w, const void * a, size_t a_stride, int n_act, float * out) {
    switch (n_act) {
        case 1: dot_q6_k_rows<1>(n, w, a, a_stride, out); break;
        case 2: dot_q6_k_rows<2>(n, w, a, a_stride, out); break;
        case 3: dot_q6_k_rows<3>(n, w, a, a_stride, out); break;
        default: dot_q6_k_rows<4>(n, w, a, a_stride, out); break;
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
            y[r * y_stride + i] = _mm512_reduce_add_ps(acc[i][r]);
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
    {2, {act_format::q8_0x4, dot_g<q4_0_group>, "avx512vnni", dot4_g<q4_0_group>}},
    {qtype_q4_1, {act_format::q8_0x4, dot_g<q4_1_group>, "avx512vnni", dot4_g<q4_1_group>}},
    {qtype_q5_0, {act_format::q8_0x4, dot_g<q5_0_group>, "avx512vnni", dot4_g<q5_0_group>}},
    {qtype_q5_1, {act_format::q8_0x4, dot_g<q5_1_group>, "avx512vnni", dot4_g<q5_1_group>}},
    {8, {act_format::q8_0x4, dot_g<q8_0_group>, "avx512vnni", dot4_g<q8_0_group>}},
    {12, {act_format::q8_k, dot_q4_k, "avx512vnni", dot4_q4_k}},
    {14, {act_format::q8_k, dot_q6_k, "avx512vnni", dot4_q6_k}},
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
