// Scalar references for the DeepSeek-V4 operators the CUDA kernels implement (kernels/cuda/deepseek4),
// written to do exactly what the engine's fp32 forward does (engine/src/models/deepseek4/deepseek4.cpp):
// same formulas, same summation order where it matters, same tie-breaking. They are the ground truth
// of tests/gpu/test_cuda_deepseek4.cpp; tests/gpu/test_deepseek4_reference.cpp checks them against the
// engine (a forward composed of these ops reproduces d4_eval's logits). Plain loops, no SIMD.
//
// Layouts are row-major, activations [T, features], matrices [out, in] as in PyTorch. Shapes are the
// caller's promise; nothing here allocates device memory or validates beyond what the comments say.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define V4_D4_HD __host__ __device__
#else
#define V4_D4_HD
#endif

namespace v4::kernels::ref::d4 {

// ---- weight formats (host and device share these decoders) ------------------------------------

// The expert / projection weight formats of the released checkpoints (engine quant_formats.h), kept
// in their block form on the device and decoded on the fly.
enum class wfmt : int {
    f32,            // float
    bf16,           // upper 16 bits of a float
    fp8_e4m3_b128,  // float8_e4m3fn, one float multiplier per 128 x 128 block (of the expert's matrix)
    fp4_e2m1_b32,   // MXFP4: two E2M1 codes per byte along the row (element 2k = low nibble), one UE8M0 per 32
};

V4_D4_HD inline float d4_bits_to_float(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

V4_D4_HD inline float bf16_to_float(uint16_t bits) { return d4_bits_to_float(uint32_t(bits) << 16); }

// bias 7, no infinities, S.1111.111 = NaN, subnormals mant / 8 * 2^-6
V4_D4_HD inline float fp8_e4m3_to_float(uint8_t bits) {
    const int exp = (bits >> 3) & 0xF, mant = bits & 0x7;
    float v;
    if (exp == 0xF && mant == 0x7) {
        v = d4_bits_to_float(0x7FC00000u);
    } else if (exp == 0) {
        v = float(mant) * (1.0f / 512.0f);
    } else {
        v = float(8 + mant) * d4_bits_to_float(uint32_t(exp - 10 + 127) << 23);  // (8 + mant) * 2^(exp - 10)
    }
    return (bits & 0x80) ? -v : v;
}

// 2^(e - 127); 0xFF is NaN; e = 0 is 2^-127, a float subnormal.
V4_D4_HD inline float e8m0_to_float(uint8_t bits) {
    if (bits == 0xFF) return d4_bits_to_float(0x7FC00000u);
    if (bits == 0) return d4_bits_to_float(0x00400000u);
    return d4_bits_to_float(uint32_t(bits) << 23);
}

V4_D4_HD inline float fp4_e2m1_to_float(uint8_t nibble) {
    const int mag = nibble & 0x7;  // 0, .5, 1, 1.5, 2, 3, 4, 6
    const float v = mag < 4 ? 0.5f * float(mag) : (mag < 7 ? float(mag - 2) : 6.0f);
    return (nibble & 0x8) ? -v : v;
}

// A stack of experts' matrices in one format: expert e's matrix is [rows_per_expert, cols], its data
// and scales contiguous after expert e - 1's. The view reads logical rows [row0, row0 + rows) of each
// (gate and up are two views of the engine's stacked [2F, D] gate_up, row0 = 0 and F). A single matrix
// is a stack of one. Scales: fp8 floats [ceil(rows_per_expert / 128), ceil(cols / 128)] per expert;
// fp4 bytes [rows_per_expert, cols / 32] per expert (cols a multiple of 32); none otherwise.
struct weight_view {
    wfmt fmt = wfmt::f32;
    const void * data = nullptr;
    const void * scales = nullptr;
    int64_t cols = 0;
    int64_t rows_per_expert = 0;
    int64_t row0 = 0;
};

V4_D4_HD inline int64_t weight_expert_bytes(const weight_view & w) {
    const int64_t n = w.rows_per_expert * w.cols;
    switch (w.fmt) {
        case wfmt::f32: return 4 * n;
        case wfmt::bf16: return 2 * n;
        case wfmt::fp8_e4m3_b128: return n;
        case wfmt::fp4_e2m1_b32: return n / 2;
    }
    return 0;
}

// Scale entries (floats for fp8, bytes for fp4) per expert.
V4_D4_HD inline int64_t weight_expert_scales(const weight_view & w) {
    switch (w.fmt) {
        case wfmt::fp8_e4m3_b128: return ((w.rows_per_expert + 127) / 128) * ((w.cols + 127) / 128);
        case wfmt::fp4_e2m1_b32: return w.rows_per_expert * (w.cols / 32);
        default: return 0;
    }
}

// Element (r, c) of expert e, r a logical row of the view.
V4_D4_HD inline float weight_at(const weight_view & w, int e, int64_t r, int64_t c) {
    const int64_t pr = w.row0 + r;
    const uint8_t * base = static_cast<const uint8_t *>(w.data) + int64_t(e) * weight_expert_bytes(w);
    switch (w.fmt) {
        case wfmt::f32: return reinterpret_cast<const float *>(base)[pr * w.cols + c];
        case wfmt::bf16: return bf16_to_float(reinterpret_cast<const uint16_t *>(base)[pr * w.cols + c]);
        case wfmt::fp8_e4m3_b128: {
            const float * s = static_cast<const float *>(w.scales) + int64_t(e) * weight_expert_scales(w);
            return fp8_e4m3_to_float(base[pr * w.cols + c]) * s[(pr / 128) * ((w.cols + 127) / 128) + c / 128];
        }
        case wfmt::fp4_e2m1_b32: {
            const uint8_t * s = static_cast<const uint8_t *>(w.scales) + int64_t(e) * weight_expert_scales(w);
            const uint8_t byte = base[pr * (w.cols / 2) + c / 2];
            return fp4_e2m1_to_float((c % 2 == 0) ? (byte & 0xF) : (byte >> 4)) * e8m0_to_float(s[pr * (w.cols / 32) + c / 32]);
        }
    }
    return 0.0f;
}

// ---- small blocks -----------------------------------------------------------------------------

// RoPE table: pair i of the trailing 2 * pairs channels turns by pos * inv_freq[i]; cos and sin scaled
// by attn_factor (engine d4_rope).
struct rope_table {
    const float * inv_freq = nullptr;  // [pairs]
    int pairs = 0;
    float attn_factor = 1.0f;
};

// y [T, out] = x [T, in] @ w [out, in]^T
void linear(const float * x, int T, int in, const float * w, int out, float * y);
// In place over rows of width d; w may be null (unweighted).
void rms_norm_rows(float * x, int64_t rows, int d, const float * w, float eps);
// Interleaved RoPE on the trailing 2 * pairs channels of v[dim]; sign -1 undoes it.
void rope_apply(float * v, int dim, const rope_table & rope, int pos, float sign);

// ---- mHC (manifold-constrained hyper-connections) ---------------------------------------------

struct hc_params {
    int n = 0;               // streams (hc_mult)
    int D = 0;               // hidden
    int sinkhorn_iters = 0;
    float rms_eps = 1e-6f, hc_eps = 1e-6f;
};

// One token's mixing weights from its (2 + n) * n raw projections: pre [n] = sigmoid + eps,
// post [n] = 2 sigmoid, comb [n, n] (comb[j][k]: stream j -> k) = row softmax + eps, then
// Sinkhorn (columns, then iters - 1 rounds of rows and columns), each divided by (sum + eps).
void hc_weights(const hc_params & p, const float * mix, const float * base, const float * scale, float * pre,
                float * post, float * comb);
// X [T, n, D] -> collapsed [T, D] = sum_j pre_j X_j, post [T, n], comb [T, n, n]. fn [(2+n)n, n*D]
// projects the unweighted-RMSNormed flat streams.
void hc_collapse(const hc_params & p, const float * X, int T, const float * fn, const float * base, const float * scale,
                 float * collapsed, float * post, float * comb);
// X[t, k] <- post_k * out[t] + sum_j comb[j][k] * X[t, j], in place (X [T, n, D], out [T, D]).
void hc_expand(const hc_params & p, float * X, int T, const float * out, const float * post, const float * comb);
// Hyper head: h [T, D] = sum_j (sigmoid(mix_j * scale[0] + base_j) + eps) X_j, fn [n, n*D].
void hc_head(const hc_params & p, const float * X, int T, const float * fn, const float * base, const float * scale,
             float * h);

// ---- compressor (CSA / HCA entries) -----------------------------------------------------------

struct compress_params {
    int ratio = 0, dim = 0;
    bool overlap = false;             // CSA: two series (Ca = channels [0, dim), Cb = [dim, 2 dim))
    const float * pos_bias = nullptr; // [ratio, width], width = (overlap ? 2 : 1) * dim
    const float * kv_norm = nullptr;  // [dim]
    float rms_eps = 1e-6f;
    rope_table rope;                  // entry e is roped at position e * ratio
    V4_D4_HD int width() const { return (overlap ? 2 : 1) * dim; }
};

// Closes n_windows windows into entries [n_windows, dim] (global ids first_entry ..). kv, gate:
// [n_windows * ratio, width] projections of the windows' rows. With overlap, entry e > 0 also pools
// the Ca half of window e - 1: rows of the previous window in kv/gate, or for the first window
// prev_kv / prev_gate [ratio, width] (required when overlap and first_entry > 0, else unused).
void compress_windows(const compress_params & p, const float * kv, const float * gate, const float * prev_kv,
                      const float * prev_gate, int n_windows, int first_entry, float * entries);

// ---- lightning indexer ------------------------------------------------------------------------

// scores[t * n_keys + s] = sum_h (head_w[t, h] * w_scale) * ReLU(q[t, h, :] . keys[s, :]); w_scale is the
// engine's 1 / sqrt(dim * H), applied to the head weights first as the engine does.
void index_scores(const float * keys, int n_keys, int dim, const float * q, const float * head_w, float w_scale, int n_q,
                  int H, float * scores);
// The k best of scores[0, n) (ties to the lower index), ascending ids into out[0, min(n, k)); returns the count.
int top_k_ascending(const float * scores, int n, int k, int32_t * out);

// ---- sparse attention with sinks --------------------------------------------------------------

struct attn_params {
    int H = 0, hd = 0;
    int window = 0;               // sliding_window: keys at positions pos - window + 1 .. pos
    float scale = 0.0f;           // 1 / sqrt(hd)
    const float * sinks = nullptr; // [H]
    rope_table rope;              // the output's rope slice is turned back by -pos
};

// Where a query finds its keys. Window K=V rows: position p (win_base <= p) is row (p - win_base) % win_cap
// of win [win_cap, hd] (a ring when win_cap is small, a plain buffer when it spans everything).
// Compressed entries comp [*, hd]: per query t either the ids sel[t * sel_ld + i], i < n_sel[t] (CSA),
// or with hca_ratio > 0 every closed window 0 .. (pos + 1) / hca_ratio - 1 (HCA); neither: SWA only.
struct attn_kv {
    const float * win = nullptr;
    int win_base = 0, win_cap = 0;
    const float * comp = nullptr;
    const int32_t * sel = nullptr;
    const int32_t * n_sel = nullptr;
    int sel_ld = 0;
    int hca_ratio = 0;
};

// out [T, H, hd] for queries q [T, H, hd] (roped) at positions pos0 .. pos0 + T - 1: softmax over the
// window keys then the compressed ones, with the head's sink logit in the denominator; V = K; the
// output's rope slice turned back at the query position.
void sparse_attention(const attn_params & p, const attn_kv & kv, const float * q, int T, int pos0, float * out);

// Grouped low-rank output projection: y[t, g * R + r] = x[t, g * in_g : (g + 1) * in_g] . w[g * R + r, :].
void grouped_linear(const float * x, int T, int G, int in_g, const float * w, int R, float * y);

// ---- MoE --------------------------------------------------------------------------------------

float swiglu_clamped(float gate, float up, float limit);  // silu(min(gate, limit)) * clamp(up, -limit, limit)

// Router: score_e = sqrt(softplus(logit_e)). Hash layers (bias == null): ids = tid2eid[token, :].
// Learned: the K highest score + bias, in descending order, ties to the lower expert id. weights_k =
// score_k / (sum of chosen scores + 1e-20) * routed_scale. logits [T, E], ids / weights [T, K].
void route(const float * logits, int T, int E, int K, const float * bias, const int64_t * tid2eid,
           const int32_t * tokens, float routed_scale, int32_t * ids, float * weights);

// h[t, k, f] = swiglu_clamped(gate_e[f] . x[t], up_e[f] . x[t]) for expert e = ids[t, k] (ids null:
// expert 0, K = 1: the shared expert). x [T, D] with D = gate.cols = up.cols; h [T, K, F].
void expert_gate_up(const weight_view & gate, const weight_view & up, const float * x, int T, const int32_t * ids,
                    int K, int F, float limit, float * h);
// out[t, d] = (accumulate ? out[t, d] : 0) + sum over k in order of weights[t, k] * (down_e[d] . h[t, k])
// (weights null: 1). down rows D, cols F.
void expert_down(const weight_view & down, const float * h, int T, const int32_t * ids, const float * weights, int K,
                 int D, int F, bool accumulate, float * out);

} // namespace v4::kernels::ref::d4
