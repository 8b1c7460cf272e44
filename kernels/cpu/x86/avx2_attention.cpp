// AVX2 + FMA + F16C attention for a block of queries against an f16 or f32 KV cache
// (cpu/attention.h). Per key tile: K and V rows are copied as f32 once (f16 widened by vcvtph2ps)
// into a contiguous tile; every row of the block then
// scores 8 keys at a time (one reduction tree for 8 dot products), exponentiates 8 lanes at a
// time, and adds the weighted V rows into its output with up to 64 dims held in registers.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "cpu/attention.h"
#include "cpu/x86/hsum256.h"

namespace v4::kernels::cpu {

namespace {

// e^x for x <= 0 (softmax after the max is subtracted): x = n ln2 + r, |r| <= ln2/2, e^r by a
// degree-6 polynomial (Cephes expf coefficients), 2^n through the exponent bits. Relative error
// about 2e-7; inputs below -87 give ~1e-38 where e^x underflows anyway.
inline __m256 exp_neg(__m256 x) {
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.0f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

// q . k for 8 consecutive keys (rows head_dim apart) at once: 8 accumulators reduced together by
// a tree of hadds instead of one horizontal sum per key.
inline __m256 dot8_keys(const float * q, const float * k, int head_dim) {
    __m256 acc[8];
    for (int r = 0; r < 8; ++r) {
        acc[r] = _mm256_setzero_ps();
    }
    for (int d = 0; d < head_dim; d += 8) {
        const __m256 qd = _mm256_loadu_ps(q + d);
        for (int r = 0; r < 8; ++r) {
            acc[r] = _mm256_fmadd_ps(qd, _mm256_loadu_ps(k + r * head_dim + d), acc[r]);
        }
    }
    const __m256 h01 = _mm256_hadd_ps(acc[0], acc[1]), h23 = _mm256_hadd_ps(acc[2], acc[3]);
    const __m256 h45 = _mm256_hadd_ps(acc[4], acc[5]), h67 = _mm256_hadd_ps(acc[6], acc[7]);
    const __m256 h0123 = _mm256_hadd_ps(h01, h23), h4567 = _mm256_hadd_ps(h45, h67);
    // lanes: [k0 k1 k2 k3 | k0 k1 k2 k3] halves of h0123, same for k4..k7 in h4567
    const __m256 lo = _mm256_permute2f128_ps(h0123, h4567, 0x20), hi = _mm256_permute2f128_ps(h0123, h4567, 0x31);
    return _mm256_add_ps(lo, hi);
}

// Cache rows [first, first + n_rows) into a contiguous f32 tile.
inline void load_tile(const void * cache, kv_format format, size_t stride, int first, int n_rows, int head_dim,
                      float * dst) {
    for (int j = 0; j < n_rows; ++j) {
        float *      d = dst + static_cast<size_t>(j) * head_dim;
        const size_t off = static_cast<size_t>(first + j) * stride;
        if (format == kv_format::f32) {
            const float * s = static_cast<const float *>(cache) + off;
            for (int i = 0; i < head_dim; i += 8) {
                _mm256_storeu_ps(d + i, _mm256_loadu_ps(s + i));
            }
        } else {
            const kv_half * s = static_cast<const kv_half *>(cache) + off;
            for (int i = 0; i < head_dim; i += 8) {
                _mm256_storeu_ps(d + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(s + i))));
            }
        }
    }
}

// One row (query q) against n keys kt / vt (f32, head_dim apart): folds them into (m, l, o).
inline void fold_row(const float * q, const float * kt, const float * vt, int n, int head_dim, float scale,
                     float * s, float & m, float & l, float * o) {
    const __m256 vscale = _mm256_set1_ps(scale);
    int          j = 0;
    for (; j + 8 <= n; j += 8) {
        _mm256_storeu_ps(s + j, _mm256_mul_ps(dot8_keys(q, kt + static_cast<size_t>(j) * head_dim, head_dim), vscale));
    }
    for (; j < n; ++j) {
        const float * kj = kt + static_cast<size_t>(j) * head_dim;
        __m256        acc = _mm256_setzero_ps();
        for (int d = 0; d < head_dim; d += 8) {
            acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), _mm256_loadu_ps(kj + d), acc);
        }
        s[j] = hsum256(acc) * scale;
    }
    float mx = m;
    for (j = 0; j < n; ++j) {
        mx = std::max(mx, s[j]);
    }
    const __m256 vmx = _mm256_set1_ps(mx);
    __m256       vsum = _mm256_setzero_ps();
    for (j = 0; j + 8 <= n; j += 8) {
        const __m256 e = exp_neg(_mm256_sub_ps(_mm256_loadu_ps(s + j), vmx));
        _mm256_storeu_ps(s + j, e);
        vsum = _mm256_add_ps(vsum, e);
    }
    float sum = hsum256(vsum);
    for (; j < n; ++j) {
        s[j] = std::exp(s[j] - mx);
        sum += s[j];
    }
    const float  c = std::exp(m - mx); // rescales what was summed under the old max (0 at the start)
    const __m256 vc = _mm256_set1_ps(c);
    for (int d0 = 0; d0 < head_dim; d0 += 64) {
        const int n_reg = std::min(8, (head_dim - d0) / 8);
        __m256    acc[8];
        for (int r = 0; r < 8; ++r) {
            acc[r] = r < n_reg ? _mm256_mul_ps(_mm256_loadu_ps(o + d0 + 8 * r), vc) : _mm256_setzero_ps();
        }
        for (j = 0; j < n; ++j) {
            const float * vj = vt + static_cast<size_t>(j) * head_dim + d0;
            const __m256  w = _mm256_set1_ps(s[j]);
            for (int r = 0; r < 8; ++r) {
                if (r < n_reg) {
                    acc[r] = _mm256_fmadd_ps(w, _mm256_loadu_ps(vj + 8 * r), acc[r]);
                }
            }
        }
        for (int r = 0; r < n_reg; ++r) {
            _mm256_storeu_ps(o + d0 + 8 * r, acc[r]);
        }
    }
    l = l * c + sum;
    m = mx;
}

void attend_block_avx2(const attend_block & b, int key_begin, int key_end, const attend_state & st, float * scratch) {
    const int hd = b.head_dim;
    float *   kt = scratch;
    float *   vt = kt + static_cast<size_t>(k_attend_tile) * hd;
    float *   s = vt + static_cast<size_t>(k_attend_tile) * hd;
    for (int j0 = key_begin; j0 < key_end; j0 += k_attend_tile) {
        const int j1 = std::min(key_end, j0 + k_attend_tile);
        // the keys any row of the block sees in this tile: from query 0's first to the last query
        const int ulo = std::max(j0, b.window > 0 ? b.pos0 - b.window + 1 : 0);
        const int uhi = std::min(j1, b.pos0 + b.n_q);
        if (ulo >= uhi) {
            continue;
        }
        load_tile(b.k, b.format, b.kv_stride, ulo, uhi - ulo, hd, kt);
        load_tile(b.v, b.format, b.kv_stride, ulo, uhi - ulo, hd, vt);
        for (int t = 0; t < b.n_q; ++t) {
            const int p = b.pos0 + t;
            const int lo = std::max(ulo, b.window > 0 ? p - b.window + 1 : 0);
            const int hi = std::min(uhi, p + 1);
            if (lo >= hi) {
                continue;
            }
            const size_t koff = static_cast<size_t>(lo - ulo) * hd;
            for (int g = 0; g < b.group; ++g) {
                const int r = t * b.group + g;
                fold_row(b.q + t * b.q_stride + static_cast<size_t>(g) * hd, kt + koff, vt + koff, hi - lo, hd, b.scale,
                         s, st.m[r], st.l[r], st.o + static_cast<size_t>(r) * hd);
            }
        }
    }
}

} // namespace

attend_block_fn find_attend_block_kernel_avx2() { return attend_block_avx2; }

void kv_from_f32_f16c(const float * x, kv_half * y, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm_storeu_si128(reinterpret_cast<__m128i *>(y + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    }
    if (i < n) { // tail through a padded register: the same rounding as the body
        alignas(32) float   xs[8] = {};
        alignas(16) kv_half ys[8];
        std::copy(x + i, x + n, xs);
        _mm_store_si128(reinterpret_cast<__m128i *>(ys), _mm256_cvtps_ph(_mm256_load_ps(xs), _MM_FROUND_TO_NEAREST_INT));
        std::copy(ys, ys + (n - i), y + i);
    }
}

} // namespace v4::kernels::cpu
