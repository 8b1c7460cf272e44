// Scalar attention: the twin of the AVX2 tile kernel (same tiling and online softmax, std::exp),
// the state helpers, the f16 store, and the dispatch.
#include <algorithm>
#include <cmath>

#include "cpu/attention.h"
#include "cpu/cpu_features.h"
#include "reference/dequantize.h"

namespace v4::kernels::cpu {

namespace {

// Row j of a K or V cache as f32.
void load_row(const void * cache, kv_format format, size_t offset, int n, float * out) {
    if (format == kv_format::f32) {
        std::copy_n(static_cast<const float *>(cache) + offset, n, out);
        return;
    }
    const kv_half * h = static_cast<const kv_half *>(cache) + offset;
    for (int d = 0; d < n; ++d) {
        out[d] = ref::fp16_to_fp32(h[d]);
    }
}

void attend_block_scalar(const attend_block & b, int key_begin, int key_end, const attend_state & st,
                         float * scratch) {
    const int hd = b.head_dim;
    float *   kt = scratch; // [k_attend_tile][hd] f32 keys of the tile
    float *   vt = kt + static_cast<size_t>(k_attend_tile) * hd;
    float *   s = vt + static_cast<size_t>(k_attend_tile) * hd; // [k_attend_tile] scores of one row
    for (int j0 = key_begin; j0 < key_end; j0 += k_attend_tile) {
        const int j1 = std::min(key_end, j0 + k_attend_tile);
        for (int j = j0; j < j1; ++j) {
            load_row(b.k, b.format, j * b.kv_stride, hd, kt + static_cast<size_t>(j - j0) * hd);
            load_row(b.v, b.format, j * b.kv_stride, hd, vt + static_cast<size_t>(j - j0) * hd);
        }
        for (int t = 0; t < b.n_q; ++t) {
            const int p = b.pos0 + t;
            const int lo = std::max(j0, b.window > 0 ? p - b.window + 1 : 0);
            const int hi = std::min(j1, p + 1);
            for (int g = 0; g < b.group && lo < hi; ++g) {
                const int     r = t * b.group + g;
                const float * q = b.q + t * b.q_stride + static_cast<size_t>(g) * hd;
                float         mx = st.m[r];
                for (int j = lo; j < hi; ++j) {
                    float dot = 0.0f;
                    for (int d = 0; d < hd; ++d) {
                        dot += q[d] * kt[(j - j0) * hd + d];
                    }
                    s[j - lo] = dot * b.scale;
                    mx = std::max(mx, s[j - lo]);
                }
                const float c = std::exp(st.m[r] - mx); // rescales what was summed under the old max
                float       sum = 0.0f;
                float *     o = st.o + static_cast<size_t>(r) * hd;
                for (int d = 0; d < hd; ++d) {
                    o[d] *= c;
                }
                for (int j = lo; j < hi; ++j) {
                    const float w = std::exp(s[j - lo] - mx);
                    sum += w;
                    for (int d = 0; d < hd; ++d) {
                        o[d] += w * vt[(j - j0) * hd + d];
                    }
                }
                st.l[r] = st.l[r] * c + sum;
                st.m[r] = mx;
            }
        }
    }
}

void kv_from_f32_scalar(const float * x, kv_half * y, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        y[i] = ref::fp32_to_fp16(x[i]);
    }
}

} // namespace

#if defined(__x86_64__) || defined(_M_X64)
attend_block_fn find_attend_block_kernel_avx2();   // x86/avx2_attention.cpp
attend_block_fn find_attend_block_kernel_avx512(int head_dim); // x86/avx512_attention.cpp
attend_block_fn find_attend_decode_kernel_avx512(int head_dim);
void            kv_from_f32_f16c(const float * x, kv_half * y, size_t n);
namespace {
bool has_avx2_f16c() {
    static const bool yes = [] {
        const cpu_features & f = usable_cpu_features();
        return f.avx2 && f.fma && f.f16c;
    }();
    return yes;
}
// V4_NO_AVX512 set: the AVX2 kernels only (as for the matmuls, to compare).
bool has_avx512f() {
    static const bool yes = has_avx2_f16c() && usable_cpu_features().avx512f;
    return yes;
}
} // namespace
#endif

attend_block_fn find_attend_block_kernel_scalar() { return attend_block_scalar; }

attend_block_fn find_attend_block_kernel(int head_dim) {
#if defined(__x86_64__) || defined(_M_X64)
    if (has_avx512f()) {
        if (attend_block_fn fn = find_attend_block_kernel_avx512(head_dim)) {
            return fn;
        }
    }
    if (has_avx2_f16c() && head_dim % 8 == 0) {
        return find_attend_block_kernel_avx2();
    }
#endif
    (void)head_dim;
    return attend_block_scalar;
}

attend_block_fn find_attend_decode_kernel(int head_dim) {
#if defined(__x86_64__) || defined(_M_X64)
    if (has_avx512f()) {
        return find_attend_decode_kernel_avx512(head_dim);
    }
#endif
    (void)head_dim;
    return nullptr;
}

size_t attend_scratch_floats(int head_dim) {
    return 2 * static_cast<size_t>(k_attend_tile) * head_dim + k_attend_tile;
}

void attend_state_init(const attend_state & st, int rows, int head_dim) {
    std::fill(st.m, st.m + rows, -INFINITY);
    std::fill(st.l, st.l + rows, 0.0f);
    std::fill(st.o, st.o + static_cast<size_t>(rows) * head_dim, 0.0f);
}

void attend_state_merge(const attend_state & into, const attend_state & from, int rows, int head_dim) {
    for (int r = 0; r < rows; ++r) {
        if (from.l[r] == 0.0f) {
            continue; // saw no key
        }
        const float mx = std::max(into.m[r], from.m[r]);
        const float ci = std::exp(into.m[r] - mx), cf = std::exp(from.m[r] - mx);
        float *       oi = into.o + static_cast<size_t>(r) * head_dim;
        const float * of = from.o + static_cast<size_t>(r) * head_dim;
        for (int d = 0; d < head_dim; ++d) {
            oi[d] = oi[d] * ci + of[d] * cf;
        }
        into.l[r] = into.l[r] * ci + from.l[r] * cf;
        into.m[r] = mx;
    }
}

void attend_state_finish(const attend_state & st, int n_q, int group, int head_dim, float * out, size_t out_stride) {
    for (int t = 0; t < n_q; ++t) {
        for (int g = 0; g < group; ++g) {
            const int     r = t * group + g;
            const float   inv = st.l[r] > 0.0f ? 1.0f / st.l[r] : 0.0f;
            const float * o = st.o + static_cast<size_t>(r) * head_dim;
            float *       y = out + t * out_stride + static_cast<size_t>(g) * head_dim;
            for (int d = 0; d < head_dim; ++d) {
                y[d] = o[d] * inv;
            }
        }
    }
}

void kv_from_f32(const float * x, kv_half * y, size_t n) {
#if defined(__x86_64__) || defined(_M_X64)
    if (has_avx2_f16c()) {
        kv_from_f32_f16c(x, y, n);
        return;
    }
#endif
    kv_from_f32_scalar(x, y, n);
}

} // namespace v4::kernels::cpu
