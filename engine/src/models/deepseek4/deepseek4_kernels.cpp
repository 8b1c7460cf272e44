// DeepSeek-V4 forward kernels (see deepseek4_kernels.h).
#include "models/deepseek4/deepseek4_kernels.h"

#include <algorithm>
#include <cmath>

#include "cpu/quant_dot.h"
#include "models/deepseek4/deepseek4_simd.h"

namespace v4::deepseek4 {

namespace {

// f32 x f32 dot product from kernels/cpu (AVX2 + FMA when the CPU has it, else scalar).
float dot(const float * a, const float * b, int n) {
    static const kernels::cpu::vec_dot_fn f32_dot = kernels::cpu::find_dot_kernel(0)->dot;  // GGML type 0 = F32
    return f32_dot(n, a, b);
}

// Below this many rows a weight row is dotted with each row (matmul_dot_avx512) instead of being
// broadcast into lanes of tokens.
constexpr int min_packed_rows = 8;

void matmul_generic(const d4_packed_rows & x, const float * w, int out, int o0, int o1, float * y) {
    for (int o = o0; o < o1; o++) {
        const float * wr = w + size_t(o) * x.in;
        for (int t = 0; t < x.T; t++) y[size_t(t) * out + o] = dot(x.x + size_t(t) * x.in, wr, x.in);
    }
}

void attend_generic(const float * q, int H, int dim, const float * const * rows, int n, const float * sinks, float scale,
                    float * out, std::vector<float> & logits) {
    logits.resize(size_t(n));
    for (int h = 0; h < H; h++) {
        const float * qh = q + size_t(h) * dim;
        float mx = sinks[h];
        for (int j = 0; j < n; j++) {
            logits[size_t(j)] = dot(qh, rows[j], dim) * scale;
            mx = std::max(mx, logits[size_t(j)]);
        }
        float sum = std::exp(sinks[h] - mx);
        for (int j = 0; j < n; j++) sum += (logits[size_t(j)] = std::exp(logits[size_t(j)] - mx));
        float * oh = out + size_t(h) * dim;
        std::fill(oh, oh + dim, 0.0f);
        for (int j = 0; j < n; j++) {
            const float p = logits[size_t(j)] / sum;
            for (int d = 0; d < dim; d++) oh[d] += p * rows[j][d];
        }
    }
}

#ifdef D4_HAVE_AVX512_PATH

// 4 weight rows x 32 tokens per step: each weight is broadcast once against two vectors of tokens.
__attribute__((target("avx512f"))) void matmul_avx512(const d4_packed_rows & x, const float * w, int out, int o0,
                                                        int o1, float * y) {
    const int Tp = x.T_pad, in = x.in;
    alignas(64) float tile[4][32];
    for (int o = o0; o < o1; o += 4) {
        const int n_o = std::min(4, o1 - o);
        const float * wr[4];
        for (int a = 0; a < 4; a++) wr[a] = w + size_t(o + std::min(a, n_o - 1)) * in;  // repeat the last row past the end
        for (int tb = 0; tb < Tp; tb += 32) {
            const bool two = tb + 16 < Tp;
            __m512 acc[4][2];
            for (auto & a : acc) a[0] = a[1] = _mm512_setzero_ps();
            const float * xc = x.xt.data() + tb;
            if (two) {
                for (int i = 0; i < in; i++, xc += Tp) {
                    const __m512 x0 = _mm512_loadu_ps(xc), x1 = _mm512_loadu_ps(xc + 16);
                    for (int a = 0; a < 4; a++) {
                        const __m512 wv = _mm512_set1_ps(wr[a][i]);
                        acc[a][0] = _mm512_fmadd_ps(wv, x0, acc[a][0]);
                        acc[a][1] = _mm512_fmadd_ps(wv, x1, acc[a][1]);
                    }
                }
            } else {
                for (int i = 0; i < in; i++, xc += Tp) {
                    const __m512 x0 = _mm512_loadu_ps(xc);
                    for (int a = 0; a < 4; a++) acc[a][0] = _mm512_fmadd_ps(_mm512_set1_ps(wr[a][i]), x0, acc[a][0]);
                }
            }
            const int n_t = std::min(two ? 32 : 16, x.T - tb);
            for (int a = 0; a < n_o; a++) {
                _mm512_store_ps(tile[a], acc[a][0]);
                _mm512_store_ps(tile[a] + 16, acc[a][1]);
                for (int l = 0; l < n_t; l++) y[size_t(tb + l) * out + o + a] = tile[a][l];
            }
        }
    }
}

// Few rows (decode): one dot product per (row, output) streaming the weight row, which keeps a
// decode step at the speed of reading the weights. Summed in another order than matmul_avx512, so a
// row's result can differ in the last bits between a decode step and a prefill chunk.
__attribute__((target("avx512f"))) void matmul_dot_avx512(const d4_packed_rows & x, const float * w, int out, int o0,
                                                            int o1, float * y) {
    const int in = x.in;
    for (int o = o0; o < o1; o++) {
        const float * wr = w + size_t(o) * in;
        for (int t = 0; t < x.T; t++) {
            const float * xr = x.x + size_t(t) * in;
            __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
            int i = 0;
            for (; i + 32 <= in; i += 32) {
                a0 = _mm512_fmadd_ps(_mm512_loadu_ps(wr + i), _mm512_loadu_ps(xr + i), a0);
                a1 = _mm512_fmadd_ps(_mm512_loadu_ps(wr + i + 16), _mm512_loadu_ps(xr + i + 16), a1);
            }
            for (; i < in; i += 16) {
                const __mmask16 m = first_lanes(in - i);
                a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, wr + i), _mm512_maskz_loadu_ps(m, xr + i), a0);
            }
            y[size_t(t) * out + o] = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
        }
    }
}

// xt[i * T_pad + t] = x[t * in + i] by 16 x 16 tiles (rows past T are the zero padding).
__attribute__((target("avx512f"))) void pack_avx512(const float * x, int T, int in, int T_pad, float * xt) {
    for (int t0 = 0; t0 < T_pad; t0 += 16) {
        for (int i0 = 0; i0 < in; i0 += 16) {
            const int n_i = std::min(16, in - i0);
            const __mmask16 m = first_lanes(n_i);
            __m512 r[16];
            for (int a = 0; a < 16; a++) {
                r[a] = t0 + a < T ? _mm512_maskz_loadu_ps(m, x + size_t(t0 + a) * in + i0) : _mm512_setzero_ps();
            }
            transpose16(r);
            for (int i = 0; i < n_i; i++) _mm512_storeu_ps(xt + size_t(i0 + i) * T_pad + t0, r[i]);
        }
    }
}

// e^x for x <= 0 (softmax after subtracting the max): 2^n * poly(r), |r| <= ln2/2, rel. error ~1e-7.
__attribute__((target("avx512f"))) __m512 exp_nonpositive(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187e-06f), r);
    __m512 p = _mm512_set1_ps(1.0f / 720.0f);
    for (const float c : {1.0f / 120.0f, 1.0f / 24.0f, 1.0f / 6.0f, 0.5f, 1.0f, 1.0f}) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c));
    return _mm512_scalef_ps(p, n);
}

// dim a multiple of 16, at most 128 (the head fits in 8 registers).
__attribute__((target("avx512f"))) void attend_avx512(const float * q, int H, int dim, const float * const * rows, int n,
                                                        const float * sinks, float scale, float * out,
                                                        std::vector<float> & logits) {
    const int nv = dim / 16;
    logits.resize(size_t(n) + 16);
    float * lg = logits.data();
    for (int h = 0; h < H; h++) {
        __m512 qv[8];
        for (int v = 0; v < nv; v++) qv[v] = _mm512_loadu_ps(q + size_t(h) * dim + 16 * v);
        float mx = sinks[h];
        for (int j = 0; j < n; j++) {
            __m512 acc = _mm512_mul_ps(qv[0], _mm512_loadu_ps(rows[j]));
            for (int v = 1; v < nv; v++) acc = _mm512_fmadd_ps(qv[v], _mm512_loadu_ps(rows[j] + 16 * v), acc);
            lg[j] = _mm512_reduce_add_ps(acc) * scale;
            mx = std::max(mx, lg[j]);
        }
        const __m512 vmx = _mm512_set1_ps(mx);
        __m512 vsum = _mm512_setzero_ps();
        for (int j = 0; j < n; j += 16) {
            const __mmask16 m = first_lanes(n - j);
            const __m512 e = exp_nonpositive(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, lg + j), vmx));
            _mm512_mask_storeu_ps(lg + j, m, e);
            vsum = _mm512_add_ps(vsum, _mm512_maskz_mov_ps(m, e));
        }
        const float inv = 1.0f / (_mm512_reduce_add_ps(vsum) + std::exp(sinks[h] - mx));
        __m512 acc[8];
        for (int v = 0; v < nv; v++) acc[v] = _mm512_setzero_ps();
        for (int j = 0; j < n; j++) {
            const __m512 p = _mm512_set1_ps(lg[j] * inv);
            for (int v = 0; v < nv; v++) acc[v] = _mm512_fmadd_ps(p, _mm512_loadu_ps(rows[j] + 16 * v), acc[v]);
        }
        for (int v = 0; v < nv; v++) _mm512_storeu_ps(out + size_t(h) * dim + 16 * v, acc[v]);
    }
}

#endif

} // namespace

d4_packed_rows d4_pack_rows(const float * x, int T, int in) {
    d4_packed_rows p;
    p.T = T;
    p.in = in;
    p.x = x;
#ifdef D4_HAVE_AVX512_PATH
    if (T >= min_packed_rows && cpu_has_avx512()) {
        p.T_pad = (T + 15) / 16 * 16;
        p.xt.resize(size_t(in) * p.T_pad);
        pack_avx512(x, T, in, p.T_pad, p.xt.data());
    }
#endif
    return p;
}

void d4_matmul_rows(const d4_packed_rows & x, const float * w, int out, int o0, int o1, float * y) {
#ifdef D4_HAVE_AVX512_PATH
    if (!x.xt.empty()) {
        matmul_avx512(x, w, out, o0, o1, y);
        return;
    }
    if (x.T < min_packed_rows && cpu_has_avx512()) {
        matmul_dot_avx512(x, w, out, o0, o1, y);
        return;
    }
#endif
    matmul_generic(x, w, out, o0, o1, y);
}

void d4_attend(const float * q, int H, int dim, const float * const * rows, int n_rows, const float * sinks, float scale,
               float * out, std::vector<float> & scratch) {
#ifdef D4_HAVE_AVX512_PATH
    if (dim % 16 == 0 && dim <= 128 && cpu_has_avx512()) {
        attend_avx512(q, H, dim, rows, n_rows, sinks, scale, out, scratch);
        return;
    }
#endif
    attend_generic(q, H, dim, rows, n_rows, sinks, scale, out, scratch);
}

} // namespace v4::deepseek4
