// AVX2 + FMA attention for one query position and a group of query heads sharing a KV head
// (cpu/attention.h). Scores 8 keys at a time (one reduction tree for 8 dot products), exp 8 lanes
// at a time, and the weighted V sum with up to 64 output dims kept in registers over all keys.
// The group's K/V rows are re-read per head from L1/L2, not from memory.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "cpu/attention.h"

namespace v4::kernels::cpu {

namespace {

inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// e^x for x <= 0 (softmax after the max is subtracted): x = n ln2 + r, |r| <= ln2/2, e^r by a
// degree-6 polynomial (Cephes expf coefficients), 2^n through the exponent bits. Relative error
// about 2e-7; inputs below -87 give 0 as e^x underflows anyway.
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

// q . k for 8 consecutive keys at once: 8 accumulators reduced together by a tree of hadds
// instead of one horizontal sum per key.
inline __m256 dot8_keys(const float * q, const float * k, size_t kv_stride, int head_dim) {
    __m256 acc[8];
    for (int r = 0; r < 8; ++r) {
        acc[r] = _mm256_setzero_ps();
    }
    for (int d = 0; d < head_dim; d += 8) {
        const __m256 qd = _mm256_loadu_ps(q + d);
        for (int r = 0; r < 8; ++r) {
            acc[r] = _mm256_fmadd_ps(qd, _mm256_loadu_ps(k + r * kv_stride + d), acc[r]);
        }
    }
    const __m256 h01 = _mm256_hadd_ps(acc[0], acc[1]), h23 = _mm256_hadd_ps(acc[2], acc[3]);
    const __m256 h45 = _mm256_hadd_ps(acc[4], acc[5]), h67 = _mm256_hadd_ps(acc[6], acc[7]);
    const __m256 h0123 = _mm256_hadd_ps(h01, h23), h4567 = _mm256_hadd_ps(h45, h67);
    // lanes: [k0 k1 k2 k3 | k0 k1 k2 k3] halves of h0123, same for k4..k7 in h4567
    const __m256 lo = _mm256_permute2f128_ps(h0123, h4567, 0x20), hi = _mm256_permute2f128_ps(h0123, h4567, 0x31);
    return _mm256_add_ps(lo, hi);
}

void attend_avx2(const float * q, const float * k, const float * v, size_t kv_stride, int n_keys, int head_dim,
                 int group, float scale, float * scores, float * out) {
    for (int g = 0; g < group; ++g) {
        const float * qg = q + static_cast<size_t>(g) * head_dim;
        float *       s = scores + static_cast<size_t>(g) * n_keys;
        // 1. scores
        const __m256 vscale = _mm256_set1_ps(scale);
        int          j = 0;
        for (; j + 8 <= n_keys; j += 8) {
            _mm256_storeu_ps(s + j, _mm256_mul_ps(dot8_keys(qg, k + j * kv_stride, kv_stride, head_dim), vscale));
        }
        for (; j < n_keys; ++j) {
            const float * kj = k + static_cast<size_t>(j) * kv_stride;
            __m256        acc = _mm256_setzero_ps();
            for (int d = 0; d < head_dim; d += 8) {
                acc = _mm256_fmadd_ps(_mm256_loadu_ps(qg + d), _mm256_loadu_ps(kj + d), acc);
            }
            s[j] = hsum(acc) * scale;
        }
        // 2. softmax
        float mx = -INFINITY;
        for (j = 0; j < n_keys; ++j) {
            mx = std::max(mx, s[j]);
        }
        const __m256 vmx = _mm256_set1_ps(mx);
        __m256       vsum = _mm256_setzero_ps();
        for (j = 0; j + 8 <= n_keys; j += 8) {
            const __m256 e = exp_neg(_mm256_sub_ps(_mm256_loadu_ps(s + j), vmx));
            _mm256_storeu_ps(s + j, e);
            vsum = _mm256_add_ps(vsum, e);
        }
        float sum = hsum(vsum);
        for (; j < n_keys; ++j) {
            s[j] = std::exp(s[j] - mx);
            sum += s[j];
        }
        const __m256 inv = _mm256_set1_ps(1.0f / sum);
        for (j = 0; j + 8 <= n_keys; j += 8) { // normalized weights first, as the scalar twin does
            _mm256_storeu_ps(s + j, _mm256_mul_ps(_mm256_loadu_ps(s + j), inv));
        }
        for (; j < n_keys; ++j) {
            s[j] *= 1.0f / sum;
        }
        // 3. weighted sum of V, up to 64 output dims held in registers across all keys
        float * og = out + static_cast<size_t>(g) * head_dim;
        for (int d0 = 0; d0 < head_dim; d0 += 64) {
            const int n_reg = std::min(8, (head_dim - d0) / 8);
            __m256    acc[8];
            for (int r = 0; r < 8; ++r) {
                acc[r] = _mm256_setzero_ps();
            }
            for (j = 0; j < n_keys; ++j) {
                const float * vj = v + static_cast<size_t>(j) * kv_stride + d0;
                const __m256  w = _mm256_set1_ps(s[j]);
                for (int r = 0; r < 8; ++r) {
                    if (r < n_reg) {
                        acc[r] = _mm256_fmadd_ps(w, _mm256_loadu_ps(vj + 8 * r), acc[r]);
                    }
                }
            }
            for (int r = 0; r < n_reg; ++r) {
                _mm256_storeu_ps(og + d0 + 8 * r, acc[r]);
            }
        }
    }
}

} // namespace

attend_fn find_attend_kernel_avx2() { return attend_avx2; }

} // namespace v4::kernels::cpu
