// AVX2 + FMA + F16C dot kernels (compiled with those flags only; chosen at run time). Integer
// dot products of 32 int8 pairs use the sign trick: |w| as unsigned times sign(w)*a as signed in
// _mm256_maddubs_epi16, then pairwise sums to int32. Weight nibbles are unsigned already, so
// Q4_K/Q5_K/Q6_K go straight into maddubs (their offsets are handled with the Q8_K bsums).
#include <immintrin.h>

#include <cstring>

#include "cpu/quant_dot.h"
#include "cpu/x86/hsum256.h"
#include "reference/dequantize_legacy.h"
#include "reference/quant_blocks.h"

namespace v4::kernels::cpu {

namespace {

inline float half_to_float(ggml_half h) { return _cvtsh_ss(h); }

inline int hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

// sum of 32 int8 products, as 8 int32 lanes
inline __m256i dot_i8(__m256i x, __m256i y) {
    const __m256i ax = _mm256_sign_epi8(x, x);
    const __m256i sy = _mm256_sign_epi8(y, x);
    return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), _mm256_set1_epi16(1));
}

// 16 bytes of nibbles -> 32 bytes: low nibbles in bytes 0..15, high nibbles in 16..31
inline __m256i nibbles_32(const uint8_t * p) {
    const __m128i tmp = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
    const __m256i both = _mm256_set_m128i(_mm_srli_epi16(tmp, 4), tmp);
    return _mm256_and_si256(both, _mm256_set1_epi8(0x0f));
}

// 32 bits -> 32 bytes, 0xff where the bit is set
inline __m256i bits_to_bytes(uint32_t bits) {
    const __m256i shuf = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0);
    __m256i       v = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)), shuf);
    const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ull));
    return _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
}

// ---- vs Q8_0 ---------------------------------------------------------------------------------

float dot_q8_0(int64_t n, const void * w, const void * a) {
    const auto * x = static_cast<const block_q8_0 *>(w);
    const auto * y = static_cast<const block_q8_0 *>(a);
    __m256       acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 32; ++b) {
        const __m256  d = _mm256_set1_ps(half_to_float(x[b].d) * half_to_float(y[b].d));
        const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(x[b].qs));
        const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y[b].qs));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8(qx, qy)), acc);
    }
    return hsum256(acc);
}

float dot_q4_0(int64_t n, const void * w, const void * a) {
    const auto * x = static_cast<const block_q4_0 *>(w);
    const auto * y = static_cast<const block_q8_0 *>(a);
    __m256       acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 32; ++b) {
        const __m256  d = _mm256_set1_ps(half_to_float(x[b].d) * half_to_float(y[b].d));
        const __m256i qx = _mm256_sub_epi8(nibbles_32(x[b].qs), _mm256_set1_epi8(8));
        const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y[b].qs));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8(qx, qy)), acc);
    }
    return hsum256(acc);
}

float dot_q5_0(int64_t n, const void * w, const void * a) {
    const auto * x = static_cast<const block_q5_0 *>(w);
    const auto * y = static_cast<const block_q8_0 *>(a);
    __m256       acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 32; ++b) {
        const __m256 d = _mm256_set1_ps(half_to_float(x[b].d) * half_to_float(y[b].d));
        uint32_t     qh;
        std::memcpy(&qh, x[b].qh, 4);
        // value = bit ? nibble : nibble - 16, i.e. nibble | 0xf0 (as int8) where the bit is clear
        const __m256i hi = _mm256_andnot_si256(bits_to_bytes(qh), _mm256_set1_epi8(static_cast<char>(0xf0)));
        const __m256i qx = _mm256_or_si256(nibbles_32(x[b].qs), hi);
        const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y[b].qs));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8(qx, qy)), acc);
    }
    return hsum256(acc);
}

// Multi-row variants: the weight block is unpacked once for up to 4 activation rows.
struct unpack_q8_0 {
    using block = block_q8_0;
    static __m256i q(const block & b) { return _mm256_loadu_si256(reinterpret_cast<const __m256i *>(b.qs)); }
};
struct unpack_q4_0 {
    using block = block_q4_0;
    static __m256i q(const block & b) { return _mm256_sub_epi8(nibbles_32(b.qs), _mm256_set1_epi8(8)); }
};
struct unpack_q5_0 {
    using block = block_q5_0;
    static __m256i q(const block & b) {
        uint32_t qh;
        std::memcpy(&qh, b.qh, 4);
        const __m256i hi = _mm256_andnot_si256(bits_to_bytes(qh), _mm256_set1_epi8(static_cast<char>(0xf0)));
        return _mm256_or_si256(nibbles_32(b.qs), hi);
    }
};

template <class U>
void dot4_q8_0_act(int64_t n, const void * w, const void * a, size_t a_stride, int n_act, float * out) {
    const auto * x = static_cast<const typename U::block *>(w);
    __m256       acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int64_t b = 0; b < n / 32; ++b) {
        const float   dx = half_to_float(x[b].d);
        const __m256i qx = U::q(x[b]);
        const __m256i ax = _mm256_sign_epi8(qx, qx);
        for (int r = 0; r < n_act; ++r) {
            const auto *  y = reinterpret_cast<const block_q8_0 *>(static_cast<const uint8_t *>(a) + r * a_stride) + b;
            const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y->qs));
            const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(ax, _mm256_sign_epi8(qy, qx)), _mm256_set1_epi16(1));
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(dx * half_to_float(y->d)), _mm256_cvtepi32_ps(p), acc[r]);
        }
    }
    for (int r = 0; r < n_act; ++r) {
        out[r] = hsum256(acc[r]);
    }
}

// ---- vs Q8_K ---------------------------------------------------------------------------------

// The 8 six-bit scales and mins of a Q4_K/Q5_K super-block (ggml's get_scale_min_k4).
inline void unpack_scales_mins(const uint8_t * q, uint8_t * sc, uint8_t * mn) {
    for (int j = 0; j < 4; ++j) {
        sc[j] = q[j] & 63;
        mn[j] = q[j + 4] & 63;
    }
    for (int j = 4; j < 8; ++j) {
        sc[j] = static_cast<uint8_t>((q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4));
        mn[j] = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

inline int mins_dot(const uint8_t * mn, const int16_t * bsums) {
    int s = 0;
    for (int j = 0; j < 8; ++j) {
        s += mn[j] * (bsums[2 * j] + bsums[2 * j + 1]);
    }
    return s;
}

float dot_q4_k(int64_t n, const void * w, const void * a) {
    const auto *  x = static_cast<const block_q4_k *>(w);
    const auto *  y = static_cast<const block_q8_k *>(a);
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m256        acc = _mm256_setzero_ps();
    float         acc_m = 0.0f;
    for (int64_t b = 0; b < n / 256; ++b) {
        uint8_t sc[8], mn[8];
        unpack_scales_mins(x[b].scales, sc, mn);
        const float d = y[b].d * half_to_float(x[b].d);
        acc_m += y[b].d * half_to_float(x[b].dmin) * static_cast<float>(mins_dot(mn, y[b].bsums));
        __m256i sumi = _mm256_setzero_si256();
        for (int j = 0; j < 4; ++j) {
            const __m256i q4 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(x[b].qs + 32 * j));
            const __m256i lo = _mm256_and_si256(q4, m4);
            const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q4, 4), m4);
            const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y[b].qs + 64 * j));
            const __m256i y1 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y[b].qs + 64 * j + 32));
            const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, y0), _mm256_set1_epi16(sc[2 * j]));
            const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, y1), _mm256_set1_epi16(sc[2 * j + 1]));
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum256(acc) - acc_m;
}

// Same order of operations as dot_q4_k, for up to 4 activation rows per unpacked weight block.
void dot4_q4_k(int64_t n, const void * w, const void * a, size_t a_stride, int n_act, float * out) {
    const auto *  x = static_cast<const block_q4_k *>(w);
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m256        acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    float         acc_m[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    const block_q8_k * ys[4];
    for (int r = 0; r < n_act; ++r) {
        ys[r] = reinterpret_cast<const block_q8_k *>(static_cast<const uint8_t *>(a) + r * a_stride);
    }
    for (int64_t b = 0; b < n / 256; ++b) {
        uint8_t sc[8], mn[8];
        unpack_scales_mins(x[b].scales, sc, mn);
        const float xd = half_to_float(x[b].d), xdmin = half_to_float(x[b].dmin);
        __m256i     lo[4], hi[4];
        for (int j = 0; j < 4; ++j) {
            const __m256i q4 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(x[b].qs + 32 * j));
            lo[j] = _mm256_and_si256(q4, m4);
            hi[j] = _mm256_and_si256(_mm256_srli_epi16(q4, 4), m4);
        }
        for (int r = 0; r < n_act; ++r) {
            const block_q8_k & y = ys[r][b];
            acc_m[r] += y.d * xdmin * static_cast<float>(mins_dot(mn, y.bsums));
            __m256i sumi = _mm256_setzero_si256();
            for (int j = 0; j < 4; ++j) {
                const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y.qs + 64 * j));
                const __m256i y1 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y.qs + 64 * j + 32));
                const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo[j], y0), _mm256_set1_epi16(sc[2 * j]));
                const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi[j], y1), _mm256_set1_epi16(sc[2 * j + 1]));
                sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
            }
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(y.d * xd), _mm256_cvtepi32_ps(sumi), acc[r]);
        }
    }
    for (int r = 0; r < n_act; ++r) {
        out[r] = hsum256(acc[r]) - acc_m[r];
    }
}

float dot_q5_k(int64_t n, const void * w, const void * a) {
    const auto *  x = static_cast<const block_q5_k *>(w);
    const auto *  y = static_cast<const block_q8_k *>(a);
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    const __m256i one = _mm256_set1_epi8(1);
    __m256        acc = _mm256_setzero_ps();
    float         acc_m = 0.0f;
    for (int64_t b = 0; b < n / 256; ++b) {
        uint8_t sc[8], mn[8];
        unpack_scales_mins(x[b].scales, sc, mn);
        const float d = y[b].d * half_to_float(x[b].d);
        acc_m += y[b].d * half_to_float(x[b].dmin) * static_cast<float>(mins_dot(mn, y[b].bsums));
        const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(x[b].qh));
        __m256i       sumi = _mm256_setzero_si256();
        for (int j = 0; j < 4; ++j) {
            const __m256i q5 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(x[b].qs + 32 * j));
            const __m256i h0 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * j), one);
            const __m256i h1 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * j + 1), one);
            const __m256i lo = _mm256_or_si256(_mm256_and_si256(q5, m4), _mm256_slli_epi16(h0, 4));
            const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q5, 4), m4), _mm256_slli_epi16(h1, 4));
            const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y[b].qs + 64 * j));
            const __m256i y1 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(y[b].qs + 64 * j + 32));
            const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, y0), _mm256_set1_epi16(sc[2 * j]));
            const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, y1), _mm256_set1_epi16(sc[2 * j + 1]));
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum256(acc) - acc_m;
}

float dot_q6_k(int64_t n, const void * w, const void * a) {
    const auto *  x = static_cast<const block_q6_k *>(w);
    const auto *  y = static_cast<const block_q8_k *>(a);
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    const __m256i m2 = _mm256_set1_epi8(0x03);
    __m256        acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 256; ++b) {
        const float     d = y[b].d * half_to_float(x[b].d);
        const int8_t *  sc = x[b].scales;
        // the -32 offset: sum over sub-blocks of scale * 32 * bsum
        int offset = 0;
        for (int k = 0; k < 16; ++k) {
            offset += sc[k] * y[b].bsums[k];
        }
        __m256i sumi = _mm256_setzero_si256();
        for (int c = 0; c < 2; ++c) {
            const uint8_t * ql = x[b].ql + 64 * c;
            const uint8_t * qhp = x[b].qh + 32 * c;
            const int8_t *  q8 = y[b].qs + 128 * c;
            const int8_t *  s = sc + 8 * c;
            const __m256i   l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(ql));
            const __m256i   l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(ql + 32));
            const __m256i   qh = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(qhp));
            __m256i         q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4));
            q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m2), 4));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m2), 4));
            for (int i = 0; i < 4; ++i) {
                const __m256i yv = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(q8 + 32 * i));
                const __m256i scv = _mm256_set_m128i(_mm_set1_epi16(s[2 * i + 1]), _mm_set1_epi16(s[2 * i]));
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(q[i], yv), scv));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(_mm256_sub_epi32(sumi, _mm256_setr_epi32(32 * offset, 0, 0, 0, 0, 0, 0, 0))), acc);
    }
    return hsum256(acc);
}

// ---- vs f32 ----------------------------------------------------------------------------------

float dot_f32(int64_t n, const void * w, const void * a) {
    const auto * x = static_cast<const float *>(w);
    const auto * y = static_cast<const float *>(a);
    __m256       acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t      i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), acc1);
    }
    float s = hsum256(_mm256_add_ps(acc0, acc1));
    for (; i < n; ++i) {
        s += x[i] * y[i];
    }
    return s;
}

float dot_f16(int64_t n, const void * w, const void * a) {
    const auto * x = static_cast<const uint16_t *>(w);
    const auto * y = static_cast<const float *>(a);
    __m256       acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t      i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256 x0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(x + i)));
        const __m256 x1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(x + i + 8)));
        acc0 = _mm256_fmadd_ps(x0, _mm256_loadu_ps(y + i), acc0);
        acc1 = _mm256_fmadd_ps(x1, _mm256_loadu_ps(y + i + 8), acc1);
    }
    float s = hsum256(_mm256_add_ps(acc0, acc1));
    for (; i < n; ++i) {
        s += _cvtsh_ss(x[i]) * y[i];
    }
    return s;
}

float dot_bf16(int64_t n, const void * w, const void * a) {
    const auto * x = static_cast<const uint16_t *>(w);
    const auto * y = static_cast<const float *>(a);
    __m256       acc = _mm256_setzero_ps();
    int64_t      i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(x + i)));
        const __m256  xf = _mm256_castsi256_ps(_mm256_slli_epi32(h, 16));
        acc = _mm256_fmadd_ps(xf, _mm256_loadu_ps(y + i), acc);
    }
    float s = hsum256(acc);
    for (; i < n; ++i) {
        const uint32_t bits = static_cast<uint32_t>(x[i]) << 16;
        float          f;
        std::memcpy(&f, &bits, 4);
        s += f * y[i];
    }
    return s;
}

struct entry {
    uint32_t   type;
    dot_kernel kernel;
};

constexpr entry k_avx2[] = {
    {0, {act_format::f32, dot_f32, "avx2"}},
    {1, {act_format::f32, dot_f16, "avx2"}},
    {30, {act_format::f32, dot_bf16, "avx2"}},
    {2, {act_format::q8_0, dot_q4_0, "avx2", dot4_q8_0_act<unpack_q4_0>}},
    {qtype_q5_0, {act_format::q8_0, dot_q5_0, "avx2", dot4_q8_0_act<unpack_q5_0>}},
    {8, {act_format::q8_0, dot_q8_0, "avx2", dot4_q8_0_act<unpack_q8_0>}},
    {12, {act_format::q8_k, dot_q4_k, "avx2", dot4_q4_k}},
    {13, {act_format::q8_k, dot_q5_k, "avx2"}},
    {14, {act_format::q8_k, dot_q6_k, "avx2"}},
};

} // namespace

const dot_kernel * find_dot_kernel_avx2(uint32_t ggml_type) {
    for (const entry & e : k_avx2) {
        if (e.type == ggml_type) {
            return &e.kernel;
        }
    }
    return nullptr;
}

} // namespace v4::kernels::cpu
