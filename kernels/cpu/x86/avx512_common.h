// Pieces shared by the AVX-512 kernel files: e^x, horizontal sums in a fixed order, ties-away
// rounding for the Q8_0 activation quantizers, and the decode weight-stream prefetch. Internal linkage on
// purpose, like hsum256.h: every file that includes this is compiled with AVX-512 flags.
#pragma once

#include <immintrin.h>

#include <cstddef>

namespace v4::kernels::cpu {
namespace {

// e^x for any x: x = n ln2 + r, |r| <= ln2/2, e^r by the Cephes degree-6 polynomial (relative
// error ~2e-7), 2^n by vscalefps, which gives inf and 0 past the float range by itself. AVX-512F
// only (the attention file is built with just that).
inline __m512 exp512(__m512 x) {
    // max first: a NaN input (from -inf - -inf) becomes -104, so e^x -> 0, never inf
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-104.0f)), _mm512_set1_ps(89.0f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
}

// Rounds like std::roundf (ties away from zero), so the values equal quantize_row_q8_0's.
inline __m512 round_away(__m512 v) {
    const __m512    t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m512    frac = _mm512_sub_ps(v, t); // exact for |v| < 2^23
    const __mmask16 up = _mm512_cmp_ps_mask(_mm512_abs_ps(frac), _mm512_set1_ps(0.5f), _CMP_GE_OQ);
    const __m512i   sign = _mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(static_cast<int>(0x80000000u)));
    const __m512    one = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(_mm512_set1_ps(1.0f)), sign));
    return _mm512_mask_add_ps(t, up, t, one);
}

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

// One Q8_0 block of activations, as quantize_row_q8_0 makes it: 32 values -> int8 (two vectors of
// 16 int32 lanes), the fp16-rounded scale as f32, and the sum of the values.
struct q8_0_block_avx512 {
    __m512i q0, q1;
    float   d;
    int32_t sum;
};

inline q8_0_block_avx512 quantize_block_q8_0_avx512(const float * x) {
    const __m512      v0 = _mm512_loadu_ps(x);
    const __m512      v1 = _mm512_loadu_ps(x + 16);
    const float       amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
    const float       d = amax / 127.0f;
    const float       id = d != 0.0f ? 1.0f / d : 0.0f;
    q8_0_block_avx512 b;
    b.q0 = _mm512_cvttps_epi32(round_away(_mm512_mul_ps(v0, _mm512_set1_ps(id))));
    b.q1 = _mm512_cvttps_epi32(round_away(_mm512_mul_ps(v1, _mm512_set1_ps(id))));
    b.sum = _mm512_reduce_add_epi32(_mm512_add_epi32(b.q0, b.q1));
    b.d = _cvtsh_ss(_cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    return b;
}

} // namespace
} // namespace v4::kernels::cpu
