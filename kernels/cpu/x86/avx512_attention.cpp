// AVX-512 attention for blocks with few query rows (decode: one position, the `group` query heads
// of one KV head), straight from the f16 (or f32) cache: no f32 copy of the K/V tile.
//
// The rows of one query position go in quads of 4 (the last quad padded with zero queries). Per
// key tile of k_tile keys and per quad:
//  - scores: four keys at a time, each K row chunk of 16 dims is widened once (vcvtph2ps) and
//    multiplied into the 4 rows' accumulators, so the tile's K is read and converted once per quad.
//    The 16 accumulators of a 4-key step (4 rows x 4 keys, 16 partial lanes each) are summed by one
//    transposing tree (4 folds, 45 ops for 16 dot products) into one register whose 128-bit unit g
//    holds row g's scores of the 4 keys;
//  - online softmax on those registers: the block max per row within each unit, exp for 16
//    (row, key) scores per instruction, the running sum l kept per lane until the end;
//  - V: each V row chunk is widened once and added into the rows' outputs, held in registers
//    (4 rows x 64 dims per pass), the weights broadcast from memory by the FMA itself.
// Op count per key at group 4, head_dim 64 (zmm ops): K 4 cvt + 16 FMA + ~11 tree, softmax ~4,
// V 4 cvt + 16 FMA + ~1 rescale: ~57, about one per cycle on Zen 4.
//
// Blocks with many rows (prefill) go to the AVX2 kernel, which converts each K/V tile to f32 once
// for all of its rows.
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports the "undefined" pass-through operand inside _mm512_cvtph_ps as used
// uninitialized; it is a don't-care value by design.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "cpu/attention.h"
#include "cpu/x86/avx512_common.h"

namespace v4::kernels::cpu {

attend_block_fn find_attend_block_kernel_avx2(); // x86/avx2_attention.cpp

namespace {

constexpr int k_quad = 4;           // rows scored together, one per 128-bit unit
constexpr int k_tile = 32;          // keys per softmax step
constexpr int k_max_head_dim = 256; // the quad's scaled queries live on the stack
constexpr int k_max_decode_rows = 16; // more rows per block: the AVX2 tile kernel

// 16 cache elements from element `off` as f32.
template <bool F16> inline __m512 load16(const void * base, size_t off) {
    if constexpr (F16) {
        return _mm512_cvtph_ps(
            _mm256_loadu_si256(reinterpret_cast<const __m256i *>(static_cast<const kv_half *>(base) + off)));
    } else {
        return _mm512_loadu_ps(static_cast<const float *>(base) + off);
    }
}

// The transposing sum tree. Each fold adds pairs of lanes of a and of b and packs both results
// into one register (a blend or a shuffle picks one of each pair, a shuffle the other).
// fold256: a's sums in 128-bit units 0-1, b's in 2-3.
inline __m512 fold256(__m512 a, __m512 b) {
    return _mm512_add_ps(_mm512_mask_blend_ps(0xff00, a, b), _mm512_shuffle_f32x4(a, b, 0x4e));
}
// fold128 of two fold256 results: unit 0 a's first entry, 1 a's second, 2 and 3 b's.
inline __m512 fold128(__m512 a, __m512 b) {
    return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x88), _mm512_shuffle_f32x4(a, b, 0xdd));
}
// fold64 within each unit: elements 0-1 a's, 2-3 b's.
inline __m512 fold64(__m512 a, __m512 b) {
    return _mm512_add_ps(_mm512_mask_blend_ps(0xcccc, a, b), _mm512_shuffle_ps(a, b, 0x4e));
}
// fold32 of two fold64 results: element e of each unit, the full sum of entry e.
inline __m512 fold32(__m512 a, __m512 b) {
    return _mm512_add_ps(_mm512_shuffle_ps(a, b, 0x88), _mm512_shuffle_ps(a, b, 0xdd));
}

// Scores of the quad's rows q[0..3] (scaled, head_dim apart) against keys j .. j + n_valid - 1
// (n_valid <= 4; the others score 0 and are masked by the caller): unit g, element e holds
// row g . key j + e.
template <int HD, bool F16>
inline __m512 score4(const float * q, int head_dim, const void * k, size_t stride, int j, int n_valid) {
    const int hd = HD > 0 ? HD : head_dim;
    __m512    acc[4][k_quad];
    for (auto & a : acc) {
        for (auto & r : a) {
            r = _mm512_setzero_ps();
        }
    }
    size_t off[4];
    for (int e = 0; e < 4; ++e) {
        off[e] = static_cast<size_t>(j + std::min(e, n_valid - 1)) * stride; // stays inside the cache
    }
    for (int d = 0; d < hd; d += 16) {
        const __m512 q0 = _mm512_load_ps(q + d), q1 = _mm512_load_ps(q + hd + d);
        const __m512 q2 = _mm512_load_ps(q + 2 * hd + d), q3 = _mm512_load_ps(q + 3 * hd + d);
        for (int e = 0; e < 4; ++e) {
            const __m512 kk = load16<F16>(k, off[e] + d);
            acc[e][0] = _mm512_fmadd_ps(q0, kk, acc[e][0]);
            acc[e][1] = _mm512_fmadd_ps(q1, kk, acc[e][1]);
            acc[e][2] = _mm512_fmadd_ps(q2, kk, acc[e][2]);
            acc[e][3] = _mm512_fmadd_ps(q3, kk, acc[e][3]);
        }
    }
    __m512 u[4];
    for (int e = 0; e < 4; ++e) {
        u[e] = fold128(fold256(acc[e][0], acc[e][1]), fold256(acc[e][2], acc[e][3]));
    }
    return fold32(fold64(u[0], u[1]), fold64(u[2], u[3]));
}

// o[r][d0 .. d0 + 16 NC) = o * c[r] + sum_j p[r][j] v_j for the quad's first NR rows, n keys from j0.
// p(r, j) = p[(j / 4) * 16 + 4 r + j % 4] (the score4 layout), c[r] = c[4 r].
template <int NR, int NC, bool F16>
void accumulate_v(const void * v, size_t stride, int j0, int n, int d0, const float * p, const float * c, float * o,
                  int head_dim) {
    __m512 acc[NR][NC];
    for (int r = 0; r < NR; ++r) {
        const __m512 cr = _mm512_set1_ps(c[4 * r]);
        for (int i = 0; i < NC; ++i) {
            acc[r][i] = _mm512_mul_ps(_mm512_loadu_ps(o + static_cast<size_t>(r) * head_dim + d0 + 16 * i), cr);
        }
    }
    for (int j = 0; j < n; ++j) {
        const size_t off = static_cast<size_t>(j0 + j) * stride + d0;
        __m512       vv[NC];
        for (int i = 0; i < NC; ++i) {
            vv[i] = load16<F16>(v, off + 16 * i);
        }
        const float * pj = p + (j >> 2) * 16 + (j & 3);
        for (int r = 0; r < NR; ++r) {
            const __m512 w = _mm512_set1_ps(pj[4 * r]);
            for (int i = 0; i < NC; ++i) {
                acc[r][i] = _mm512_fmadd_ps(vv[i], w, acc[r][i]);
            }
        }
    }
    for (int r = 0; r < NR; ++r) {
        for (int i = 0; i < NC; ++i) {
            _mm512_storeu_ps(o + static_cast<size_t>(r) * head_dim + d0 + 16 * i, acc[r][i]);
        }
    }
}

using accumulate_v_fn = void (*)(const void *, size_t, int, int, int, const float *, const float *, float *, int);

template <bool F16, int NR> accumulate_v_fn pick_accumulate_v(int nc) {
    switch (nc) {
    case 1: return accumulate_v<NR, 1, F16>;
    case 2: return accumulate_v<NR, 2, F16>;
    case 3: return accumulate_v<NR, 3, F16>;
    default: return accumulate_v<NR, 4, F16>;
    }
}

template <bool F16> accumulate_v_fn pick_accumulate_v(int nr, int nc) {
    switch (nr) {
    case 1: return pick_accumulate_v<F16, 1>(nc);
    case 2: return pick_accumulate_v<F16, 2>(nc);
    case 3: return pick_accumulate_v<F16, 3>(nc);
    default: return pick_accumulate_v<F16, 4>(nc);
    }
}

// Asks for the V rows of keys [j, j + n) (read after this tile's scores) and the K rows one tile
// ahead: the cache rows of one head are strided (other heads in between) and the V passes visit a
// tile in column chunks, neither of which the hardware prefetchers follow well from DRAM.
inline void prefetch_rows(const attend_block & b, int j, int n, int hi, int hd) {
    const size_t esize = b.format == kv_format::f16 ? sizeof(kv_half) : sizeof(float);
    const size_t bytes = static_cast<size_t>(hd) * esize;
    for (int e = 0; e < n; ++e) {
        const char * v = static_cast<const char *>(b.v) + static_cast<size_t>(j + e) * b.kv_stride * esize;
        for (size_t x = 0; x < bytes; x += 64) {
            _mm_prefetch(v + x, _MM_HINT_T0);
        }
        if (j + e + k_tile < hi) {
            const char * k = static_cast<const char *>(b.k) + static_cast<size_t>(j + e + k_tile) * b.kv_stride * esize;
            for (size_t x = 0; x < bytes; x += 64) {
                _mm_prefetch(k + x, _MM_HINT_T0);
            }
        }
    }
}

// Folds keys [lo, hi) (all visible to every row) into the quad's rows q (scaled, zero past nr),
// whose state is m, l (unit g = row g; l per lane) and o (nr rows of head_dim).
template <int HD, bool F16>
void fold_quad(const attend_block & b, const float * q, int nr, int lo, int hi, __m512 & m, __m512 & l, float * o) {
    const int    hd = HD > 0 ? HD : b.head_dim;
    alignas(64) float p[k_tile * k_quad];
    alignas(64) float c[16];
    for (int j0 = lo; j0 < hi; j0 += k_tile) {
        const int n = std::min(k_tile, hi - j0), steps = (n + 3) / 4;
        __m512    s[k_tile / 4];
        __mmask16 valid[k_tile / 4];
        __m512    mx = _mm512_set1_ps(-INFINITY);
        for (int i = 0; i < steps; ++i) {
            const int n_valid = std::min(4, n - 4 * i);
            prefetch_rows(b, j0 + 4 * i, n_valid, hi, hd);
            s[i] = score4<HD, F16>(q, hd, b.k, b.kv_stride, j0 + 4 * i, n_valid);
            valid[i] = static_cast<__mmask16>(((1u << n_valid) - 1) * 0x1111u);
            if (n_valid < 4) { // keys past the range score -inf
                s[i] = _mm512_mask_mov_ps(_mm512_set1_ps(-INFINITY), valid[i], s[i]);
            }
            mx = _mm512_max_ps(mx, s[i]);
        }
        mx = _mm512_max_ps(mx, _mm512_permute_ps(mx, 0x4e)); // the max of each unit in all its lanes
        mx = _mm512_max_ps(mx, _mm512_permute_ps(mx, 0xb1));
        const __m512 m_new = _mm512_max_ps(m, mx);
        const __m512 cr = exp512(_mm512_sub_ps(m, m_new)); // rescales what was summed under the old max
        __m512       sum = _mm512_setzero_ps();
        for (int i = 0; i < steps; ++i) {
            // masked keys (-inf) give 0, and the mask zeroes them anyway
            const __m512 pe = _mm512_maskz_mov_ps(valid[i], exp512(_mm512_sub_ps(s[i], m_new)));
            _mm512_store_ps(p + 16 * i, pe);
            sum = _mm512_add_ps(sum, pe);
        }
        l = _mm512_fmadd_ps(l, cr, sum);
        m = m_new;
        _mm512_store_ps(c, cr);
        for (int d0 = 0; d0 < hd; d0 += 64) {
            pick_accumulate_v<F16>(nr, std::min(4, (hd - d0) / 16))(b.v, b.kv_stride, j0, n, d0, p, c, o, hd);
        }
    }
}

template <int HD, bool F16>
void attend_decode(const attend_block & b, int key_begin, int key_end, const attend_state & st) {
    const int hd = HD > 0 ? HD : b.head_dim;
    alignas(64) float q[k_quad * k_max_head_dim];
    for (int t = 0; t < b.n_q; ++t) {
        const int p = b.pos0 + t;
        const int lo = std::max(key_begin, b.window > 0 ? p - b.window + 1 : 0);
        const int hi = std::min(key_end, p + 1);
        if (lo >= hi) {
            continue;
        }
        for (int g0 = 0; g0 < b.group; g0 += k_quad) {
            const int nr = std::min(k_quad, b.group - g0);
            const int r0 = t * b.group + g0; // state row of the quad's row 0
            float     m0[16], l0[16];
            for (int g = 0; g < k_quad; ++g) {
                const float * src = b.q + t * b.q_stride + static_cast<size_t>(g0 + g) * hd;
                for (int d = 0; d < hd; ++d) {
                    q[g * hd + d] = g < nr ? src[d] * b.scale : 0.0f;
                }
                for (int e = 0; e < 4; ++e) {
                    m0[4 * g + e] = g < nr ? st.m[r0 + g] : 0.0f;
                    l0[4 * g + e] = g < nr && e == 0 ? st.l[r0 + g] : 0.0f;
                }
            }
            __m512 m = _mm512_loadu_ps(m0), l = _mm512_loadu_ps(l0);
            fold_quad<HD, F16>(b, q, nr, lo, hi, m, l, st.o + static_cast<size_t>(r0) * hd);
            _mm512_storeu_ps(m0, m);
            _mm512_storeu_ps(l0, l);
            for (int g = 0; g < nr; ++g) {
                st.m[r0 + g] = m0[4 * g];
                st.l[r0 + g] = (l0[4 * g] + l0[4 * g + 1]) + (l0[4 * g + 2] + l0[4 * g + 3]);
            }
        }
    }
}

template <bool F16> void attend_decode_dispatch(const attend_block & b, int key_begin, int key_end, const attend_state & st) {
    switch (b.head_dim) {
    case 64: attend_decode<64, F16>(b, key_begin, key_end, st); break;
    case 128: attend_decode<128, F16>(b, key_begin, key_end, st); break;
    case 256: attend_decode<256, F16>(b, key_begin, key_end, st); break;
    default: attend_decode<0, F16>(b, key_begin, key_end, st); break;
    }
}

void attend_block_decode_avx512(const attend_block & b, int key_begin, int key_end, const attend_state & st,
                                float *) {
    if (b.format == kv_format::f16) {
        attend_decode_dispatch<true>(b, key_begin, key_end, st);
    } else {
        attend_decode_dispatch<false>(b, key_begin, key_end, st);
    }
}

void attend_block_avx512(const attend_block & b, int key_begin, int key_end, const attend_state & st,
                         float * scratch) {
    if (b.n_q * b.group <= k_max_decode_rows) {
        attend_block_decode_avx512(b, key_begin, key_end, st, scratch);
    } else {
        find_attend_block_kernel_avx2()(b, key_begin, key_end, st, scratch);
    }
}

} // namespace

// head_dim a multiple of 16 up to k_max_head_dim; nullptr otherwise.
attend_block_fn find_attend_block_kernel_avx512(int head_dim) {
    return head_dim % 16 == 0 && head_dim <= k_max_head_dim ? attend_block_avx512 : nullptr;
}
attend_block_fn find_attend_decode_kernel_avx512(int head_dim) {
    return head_dim % 16 == 0 && head_dim <= k_max_head_dim ? attend_block_decode_avx512 : nullptr;
}

} // namespace v4::kernels::cpu
