// DeepSeek-V4 reference prefill in fp32, top to bottom:
//   embedding -> n_hc residual streams -> per layer { mHC collapse -> attention -> mHC expand/mix,
//   mHC collapse -> MoE -> mHC expand/mix } -> hyper head -> RMSNorm -> lm_head.
// Matrices are row-major [out, in] as in PyTorch; activations are row-major [T, features].
// Mirrors transformers 5.23 modeling_deepseek_v4.py (stateless path, past_key_values = None).
#include "models/deepseek4/deepseek4.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "v4/error.h"

namespace v4::deepseek4 {

namespace {

constexpr float neg_inf = -std::numeric_limits<float>::infinity();

// y [T, out] = x [T, in] @ w[out, in]^T
std::vector<float> linear(const std::vector<float> & x, int T, int in, const std::vector<float> & w, int out) {
    std::vector<float> y(size_t(T) * out);
    for (int t = 0; t < T; t++) {
        const float * xr = &x[size_t(t) * in];
        for (int o = 0; o < out; o++) {
            const float * wr = &w[size_t(o) * in];
            float acc = 0.0f;
            for (int i = 0; i < in; i++) acc += xr[i] * wr[i];
            y[size_t(t) * out + o] = acc;
        }
    }
    return y;
}

// In-place RMSNorm over each row of width d; weight may be null (unweighted).
void rms_norm_rows(float * x, int rows, int d, const float * weight, float eps) {
    for (int r = 0; r < rows; r++) {
        float * v = x + size_t(r) * d;
        float ss = 0.0f;
        for (int i = 0; i < d; i++) ss += v[i] * v[i];
        const float scale = 1.0f / std::sqrt(ss / float(d) + eps);
        for (int i = 0; i < d; i++) v[i] = weight ? weight[i] * (v[i] * scale) : v[i] * scale;
    }
}

// Interleaved RoPE on the trailing rope_dim channels of one head vector v[dim]:
// pairs (2i, 2i+1) of the rope slice rotate by pos * inv_freq[i]; sign = -1 undoes it.
void rope_apply(float * v, int dim, const d4_rope & rope, int pos, float sign) {
    const int pairs = int(rope.inv_freq.size());
    float * r = v + (dim - 2 * pairs);
    for (int i = 0; i < pairs; i++) {
        const float angle = float(pos) * rope.inv_freq[size_t(i)];
        const float c = std::cos(angle) * rope.attn_factor, s = sign * std::sin(angle) * rope.attn_factor;
        const float a = r[2 * i], b = r[2 * i + 1];
        r[2 * i] = a * c - b * s;
        r[2 * i + 1] = b * c + a * s;
    }
}

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
float silu(float x) { return x / (1.0f + std::exp(-x)); }
float softplus(float x) { return x > 20.0f ? x : std::log1p(std::exp(x)); }  // torch threshold 20

struct hc_weights {  // one mHC site's per-token mixing weights
    std::vector<float> post;  // [T, n]
    std::vector<float> comb;  // [T, n, n]  comb[j][k]: input stream j -> output stream k
};

// mHC (paper §2.2): from the n streams X [T, n, D] compute pre / post / comb; returns the collapsed
// block input sum_j pre_j X_j [T, D] and fills `w` for hc_expand.
std::vector<float> hc_collapse(const d4_config & c, const std::vector<float> & X, int T, const std::vector<float> & fn,
                               const std::vector<float> & base, const std::vector<float> & scale, hc_weights & w) {
    const int n = c.hc_mult, D = c.hidden, n_mix = (2 + n) * n;
    std::vector<float> flat = X;  // [T, n*D]
    rms_norm_rows(flat.data(), T, n * D, nullptr, c.rms_eps);
    const std::vector<float> mix = linear(flat, T, n * D, fn, n_mix);  // [T, (2+n)n]
    std::vector<float> collapsed(size_t(T) * D, 0.0f);
    w.post.assign(size_t(T) * n, 0.0f);
    w.comb.assign(size_t(T) * n * n, 0.0f);
    for (int t = 0; t < T; t++) {
        const float * mt = &mix[size_t(t) * n_mix];
        float * post = &w.post[size_t(t) * n];
        float * comb = &w.comb[size_t(t) * n * n];
        for (int j = 0; j < n; j++) {
            const float pre = sigmoid(mt[j] * scale[0] + base[size_t(j)]) + c.hc_eps;
            post[j] = 2.0f * sigmoid(mt[n + j] * scale[1] + base[size_t(n + j)]);
            const float * xj = &X[(size_t(t) * n + j) * D];
            for (int d = 0; d < D; d++) collapsed[size_t(t) * D + d] += pre * xj[d];
        }
        // comb: row softmax + eps, then Sinkhorn-Knopp towards a doubly-stochastic matrix.
        for (int j = 0; j < n; j++) {
            float * row = comb + j * n;
            float mx = neg_inf;
            for (int k = 0; k < n; k++) {
                row[k] = mt[2 * n + j * n + k] * scale[2] + base[size_t(2 * n + j * n + k)];
                mx = std::max(mx, row[k]);
            }
            float sum = 0.0f;
            for (int k = 0; k < n; k++) sum += (row[k] = std::exp(row[k] - mx));
            for (int k = 0; k < n; k++) row[k] = row[k] / sum + c.hc_eps;
        }
        auto normalize_cols = [&] {
            for (int k = 0; k < n; k++) {
                float s = 0.0f;
                for (int j = 0; j < n; j++) s += comb[j * n + k];
                for (int j = 0; j < n; j++) comb[j * n + k] /= (s + c.hc_eps);
            }
        };
        normalize_cols();
        for (int it = 0; it < c.hc_sinkhorn_iters - 1; it++) {
            for (int j = 0; j < n; j++) {
                float s = 0.0f;
                for (int k = 0; k < n; k++) s += comb[j * n + k];
                for (int k = 0; k < n; k++) comb[j * n + k] /= (s + c.hc_eps);
            }
            normalize_cols();
        }
    }
    return collapsed;
}

// X'[t, k] = post_k * out[t] + sum_j comb[j][k] * X[t, j]
void hc_expand(const d4_config & c, std::vector<float> & X, int T, const std::vector<float> & out, const hc_weights & w) {
    const int n = c.hc_mult, D = c.hidden;
    std::vector<float> mixed(X.size(), 0.0f);
    for (int t = 0; t < T; t++) {
        for (int k = 0; k < n; k++) {
            float * dst = &mixed[(size_t(t) * n + k) * D];
            const float post = w.post[size_t(t) * n + k];
            for (int d = 0; d < D; d++) dst[d] = post * out[size_t(t) * D + d];
            for (int j = 0; j < n; j++) {
                const float cjk = w.comb[(size_t(t) * n + j) * n + k];
                const float * xj = &X[(size_t(t) * n + j) * D];
                for (int d = 0; d < D; d++) dst[d] += cjk * xj[d];
            }
        }
    }
    X.swap(mixed);
}

// Compressor (paper §2.3.1 eqs. 9-12 for CSA, §2.3.2 eqs. 20-23 for HCA): each closed window of
// `ratio` tokens becomes one entry, a per-channel softmax(gate + position_bias)-weighted sum of the
// projected tokens, RMSNormed and roped at the window's first position. CSA ("overlap") entries
// mix two series: Ca (channels [0, dim)) of the previous window and Cb ([dim, 2dim)) of the current.
// Returns entries [T / ratio, dim].
std::vector<float> compress(const d4_config & c, const d4_compressor & comp, int ratio, const std::vector<float> & x,
                            int T) {
    const int dim = comp.dim, width = (comp.overlap ? 2 : 1) * dim;
    const std::vector<float> kv = linear(x, T, c.hidden, comp.kv_proj, width);     // [T, width]
    const std::vector<float> gate = linear(x, T, c.hidden, comp.gate_proj, width); // [T, width]
    const int n_win = T / ratio;
    std::vector<float> entries(size_t(n_win) * dim);
    std::vector<float> logit(static_cast<size_t>(2 * ratio)), value(static_cast<size_t>(2 * ratio));
    for (int w = 0; w < n_win; w++) {
        for (int ch = 0; ch < dim; ch++) {
            int n_slots = 0;
            auto slot = [&](int token, int r, int column) {
                logit[size_t(n_slots)] = gate[size_t(token) * width + column] + comp.pos_bias[size_t(r) * width + column];
                value[size_t(n_slots)] = kv[size_t(token) * width + column];
                n_slots++;
            };
            if (comp.overlap) {
                if (w > 0) {
                    for (int r = 0; r < ratio; r++) slot((w - 1) * ratio + r, r, ch);  // Ca, previous window
                }
                for (int r = 0; r < ratio; r++) slot(w * ratio + r, r, dim + ch);      // Cb, this window
            } else {
                for (int r = 0; r < ratio; r++) slot(w * ratio + r, r, ch);
            }
            float mx = neg_inf;
            for (int i = 0; i < n_slots; i++) mx = std::max(mx, logit[size_t(i)]);
            float sum = 0.0f, acc = 0.0f;
            for (int i = 0; i < n_slots; i++) {
                const float p = std::exp(logit[size_t(i)] - mx);
                sum += p;
                acc += p * value[size_t(i)];
            }
            entries[size_t(w) * dim + ch] = acc / sum;
        }
    }
    rms_norm_rows(entries.data(), n_win, dim, comp.kv_norm.data(), c.rms_eps);
    for (int w = 0; w < n_win; w++) {
        rope_apply(&entries[size_t(w) * dim], dim, c.rope_compress, w * ratio, 1.0f);
    }
    return entries;
}

// Lightning indexer (paper §2.3.1 eqs. 13-17): score[t, s] = sum_h w[t,h] * ReLU(q[t,h] . K[s]) and
// keep, per query, the top index_topk causally visible entries (s < (t + 1) / ratio).
// Returns visible[t * C + s] (1 = attend).
std::vector<char> index_select(const d4_config & c, const d4_layer & L, const std::vector<float> & x,
                               const std::vector<float> & q_res, int T) {
    const int ratio = c.csa_ratio, H = c.index_heads, dim = c.index_head_dim;
    const std::vector<float> keys = compress(c, L.index_comp, ratio, x, T);           // [C, dim]
    const int C = T / ratio;
    std::vector<float> q = linear(q_res, T, c.q_lora_rank, L.index_q_b, H * dim);      // [T, H, dim]
    for (int t = 0; t < T; t++) {
        for (int h = 0; h < H; h++) rope_apply(&q[(size_t(t) * H + h) * dim], dim, c.rope_compress, t, 1.0f);
    }
    const std::vector<float> head_w = linear(x, T, c.hidden, L.index_weights, H);    // [T, H]
    const float softmax_scale = 1.0f / std::sqrt(float(dim)), weights_scale = 1.0f / std::sqrt(float(H));
    std::vector<char> visible(size_t(T) * C, 0);
    std::vector<float> score(static_cast<size_t>(C));
    std::vector<int> order(static_cast<size_t>(C));
    const int top_k = std::min(c.index_topk, C);
    for (int t = 0; t < T; t++) {
        const int n_ready = (t + 1) / ratio;  // entries whose window closed at or before t
        for (int s = 0; s < C; s++) {
            if (s >= n_ready) { score[size_t(s)] = neg_inf; continue; }
            float acc = 0.0f;
            for (int h = 0; h < H; h++) {
                const float * qh = &q[(size_t(t) * H + h) * dim];
                const float * ks = &keys[size_t(s) * dim];
                float dot = 0.0f;
                for (int i = 0; i < dim; i++) dot += qh[i] * ks[i];
                acc += std::max(dot, 0.0f) * softmax_scale * (head_w[size_t(t) * H + h] * weights_scale);
            }
            score[size_t(s)] = acc;
        }
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return score[size_t(a)] > score[size_t(b)]; });
        for (int i = 0; i < top_k; i++) {
            if (order[size_t(i)] < n_ready) visible[size_t(t) * C + size_t(order[size_t(i)])] = 1;
        }
    }
    return visible;
}

// Attention block (paper §2.3): low-rank q, shared K=V single head, sliding window of
// `sliding_window` keys plus compressed entries (CSA: indexer-selected; HCA: all closed windows),
// per-head sink logit, inverse rope on the output's rope slice, grouped low-rank output projection.
std::vector<float> attention(const d4_config & c, const d4_layer & L, d4_attn type, const std::vector<float> & x, int T) {
    const int H = c.n_heads, hd = c.head_dim, D = c.hidden;
    const d4_rope & rope = type == d4_attn::sliding ? c.rope_main : c.rope_compress;

    std::vector<float> q_res = linear(x, T, D, L.q_a, c.q_lora_rank);                 // [T, q_lora]
    rms_norm_rows(q_res.data(), T, c.q_lora_rank, L.q_a_norm.data(), c.rms_eps);
    std::vector<float> q = linear(q_res, T, c.q_lora_rank, L.q_b, H * hd);           // [T, H, hd]
    rms_norm_rows(q.data(), T * H, hd, nullptr, c.rms_eps);
    std::vector<float> kv = linear(x, T, D, L.kv, hd);                                // [T, hd]
    rms_norm_rows(kv.data(), T, hd, L.kv_norm.data(), c.rms_eps);
    for (int t = 0; t < T; t++) {
        for (int h = 0; h < H; h++) rope_apply(&q[(size_t(t) * H + h) * hd], hd, rope, t, 1.0f);
        rope_apply(&kv[size_t(t) * hd], hd, rope, t, 1.0f);
    }

    std::vector<float> comp_kv;  // [C, hd]
    std::vector<char> visible;   // [T, C]
    int C = 0;
    if (type != d4_attn::sliding) {
        const int ratio = type == d4_attn::csa ? c.csa_ratio : c.hca_ratio;
        comp_kv = compress(c, L.comp, ratio, x, T);
        C = T / ratio;
        if (type == d4_attn::csa) {
            visible = index_select(c, L, x, q_res, T);
        } else {
            visible.assign(size_t(T) * C, 0);
            for (int t = 0; t < T; t++) {
                for (int s = 0; s < std::min(C, (t + 1) / ratio); s++) visible[size_t(t) * C + s] = 1;
            }
        }
    }

    const float scale = 1.0f / std::sqrt(float(hd));
    std::vector<float> out(size_t(T) * H * hd, 0.0f);  // [T, H, hd]
    std::vector<float> logits;
    std::vector<const float *> vals;
    for (int t = 0; t < T; t++) {
        vals.clear();
        for (int j = std::max(0, t - c.sliding_window + 1); j <= t; j++) vals.push_back(&kv[size_t(j) * hd]);
        for (int s = 0; s < C; s++) {
            if (visible[size_t(t) * C + s]) vals.push_back(&comp_kv[size_t(s) * hd]);
        }
        logits.resize(vals.size());
        for (int h = 0; h < H; h++) {
            const float * qh = &q[(size_t(t) * H + h) * hd];
            float mx = L.sinks[size_t(h)];
            for (size_t i = 0; i < vals.size(); i++) {
                float dot = 0.0f;
                for (int d = 0; d < hd; d++) dot += qh[d] * vals[i][d];
                logits[i] = dot * scale;
                mx = std::max(mx, logits[i]);
            }
            float sum = std::exp(L.sinks[size_t(h)] - mx);  // the sink takes probability mass, adds no value
            for (size_t i = 0; i < vals.size(); i++) sum += (logits[i] = std::exp(logits[i] - mx));
            float * oh = &out[(size_t(t) * H + h) * hd];
            for (size_t i = 0; i < vals.size(); i++) {
                const float p = logits[i] / sum;
                for (int d = 0; d < hd; d++) oh[d] += p * vals[i][d];
            }
            rope_apply(oh, hd, rope, t, -1.0f);  // V carried rope (K = V): undo at the query position
        }
    }

    // Grouped output projection: group g of heads [T, H*hd/G] -> [T, o_lora] with its own block of o_a.
    const int G = c.o_groups, in_g = H * hd / G, R = c.o_lora_rank;
    std::vector<float> grouped(size_t(T) * G * R);  // [T, G * o_lora]
    for (int t = 0; t < T; t++) {
        for (int g = 0; g < G; g++) {
            const float * xg = &out[size_t(t) * H * hd + size_t(g) * in_g];
            for (int r = 0; r < R; r++) {
                const float * wr = &L.o_a[(size_t(g) * R + r) * in_g];
                float acc = 0.0f;
                for (int i = 0; i < in_g; i++) acc += xg[i] * wr[i];
                grouped[size_t(t) * G * R + size_t(g) * R + r] = acc;
            }
        }
    }
    return linear(grouped, T, G * R, L.o_b, D);  // [T, D]
}

// SwiGLU with V4's clamp: silu(min(gate, limit)) * clamp(up, -limit, limit)
float swiglu(float gate, float up, float limit) {
    return silu(std::min(gate, limit)) * std::clamp(up, -limit, limit);
}

// MoE (paper §2.1): sqrt(softplus) router scores; experts chosen by tid2eid[token] (hash layers) or by
// top-k of score + correction bias; weights = chosen scores renormalised * routed_scaling_factor;
// plus one always-on shared expert.
std::vector<float> moe(const d4_config & c, const d4_layer & L, bool hashed, const std::vector<float> & x,
                       const std::vector<int32_t> & tokens, int T) {
    const int D = c.hidden, E = c.n_experts, K = c.n_experts_used, F = c.moe_ff;
    const std::vector<float> router_logits = linear(x, T, D, L.router, E);  // [T, E]
    const std::vector<float> sh_gate = linear(x, T, D, L.sh_gate, F);
    const std::vector<float> sh_up = linear(x, T, D, L.sh_up, F);
    std::vector<float> sh_act(size_t(T) * F);
    for (size_t i = 0; i < sh_act.size(); i++) sh_act[i] = swiglu(sh_gate[i], sh_up[i], c.swiglu_limit);
    std::vector<float> out = linear(sh_act, T, F, L.sh_down, D);            // shared expert [T, D]

    std::vector<float> score(static_cast<size_t>(E)), biased(static_cast<size_t>(E)), h(static_cast<size_t>(2 * F));
    std::vector<int> chosen(static_cast<size_t>(K)), order(static_cast<size_t>(E));
    for (int t = 0; t < T; t++) {
        for (int e = 0; e < E; e++) score[size_t(e)] = std::sqrt(softplus(router_logits[size_t(t) * E + e]));
        if (hashed) {
            for (int k = 0; k < K; k++) chosen[size_t(k)] = int(L.tid2eid[size_t(tokens[size_t(t)]) * K + k]);
        } else {
            for (int e = 0; e < E; e++) biased[size_t(e)] = score[size_t(e)] + L.router_bias[size_t(e)];
            std::iota(order.begin(), order.end(), 0);
            std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return biased[size_t(a)] > biased[size_t(b)]; });
            std::copy(order.begin(), order.begin() + K, chosen.begin());
        }
        float wsum = 0.0f;
        for (int k = 0; k < K; k++) wsum += score[size_t(chosen[size_t(k)])];
        const float * xt = &x[size_t(t) * D];
        for (int k = 0; k < K; k++) {
            const int e = chosen[size_t(k)];
            const float weight = score[size_t(e)] / (wsum + 1e-20f) * c.routed_scale;
            const float * gu = &L.exp_gate_up[size_t(e) * 2 * F * D];  // [2F, D]: gate rows, then up rows
            for (int r = 0; r < 2 * F; r++) {
                float acc = 0.0f;
                for (int d = 0; d < D; d++) acc += gu[size_t(r) * D + d] * xt[d];
                h[size_t(r)] = acc;
            }
            for (int f = 0; f < F; f++) h[size_t(f)] = swiglu(h[size_t(f)], h[size_t(F + f)], c.swiglu_limit);
            const float * down = &L.exp_down[size_t(e) * D * F];  // [D, F]
            for (int d = 0; d < D; d++) {
                float acc = 0.0f;
                for (int f = 0; f < F; f++) acc += down[size_t(d) * F + f] * h[size_t(f)];
                out[size_t(t) * D + d] += weight * acc;
            }
        }
    }
    return out;
}

} // namespace

std::vector<float> d4_forward(const d4_model & m, const std::vector<int32_t> & tokens) {
    const d4_config & c = m.cfg;
    const int T = int(tokens.size()), D = c.hidden, n = c.hc_mult;
    if (T == 0) {
        throw Error(ErrorCode::invalid_argument, "deepseek4: empty token sequence");
    }
    // Residual streams X [T, n, D]: every stream starts as the token embedding.
    std::vector<float> X(size_t(T) * n * D);
    for (int t = 0; t < T; t++) {
        const int32_t id = tokens[size_t(t)];
        if (id < 0 || id >= c.vocab) {
            throw Error(ErrorCode::invalid_argument, "deepseek4: token id " + std::to_string(id) + " outside vocab");
        }
        for (int j = 0; j < n; j++) {
            std::copy_n(&m.tok_embd[size_t(id) * D], D, &X[(size_t(t) * n + j) * D]);
        }
    }

    hc_weights hc;
    for (int il = 0; il < c.n_layers; il++) {
        const d4_layer & L = m.layers[size_t(il)];
        std::vector<float> attn_in = hc_collapse(c, X, T, L.attn_hc_fn, L.attn_hc_base, L.attn_hc_scale, hc);
        rms_norm_rows(attn_in.data(), T, D, L.attn_norm.data(), c.rms_eps);
        const std::vector<float> attn_out = attention(c, L, c.attn_types[size_t(il)], attn_in, T);
        hc_expand(c, X, T, attn_out, hc);

        std::vector<float> ffn_in = hc_collapse(c, X, T, L.ffn_hc_fn, L.ffn_hc_base, L.ffn_hc_scale, hc);
        rms_norm_rows(ffn_in.data(), T, D, L.ffn_norm.data(), c.rms_eps);
        const std::vector<float> ffn_out = moe(c, L, c.hash_moe[size_t(il)], ffn_in, tokens, T);
        hc_expand(c, X, T, ffn_out, hc);
    }

    // Hyper head: collapse the n streams with sigmoid weights, then RMSNorm and lm_head.
    std::vector<float> flat = X;
    rms_norm_rows(flat.data(), T, n * D, nullptr, c.rms_eps);
    const std::vector<float> mix = linear(flat, T, n * D, m.head_fn, n);  // [T, n]
    std::vector<float> h(size_t(T) * D, 0.0f);
    for (int t = 0; t < T; t++) {
        for (int j = 0; j < n; j++) {
            const float pre = sigmoid(mix[size_t(t) * n + j] * m.head_scale[0] + m.head_base[size_t(j)]) + c.hc_eps;
            for (int d = 0; d < D; d++) h[size_t(t) * D + d] += pre * X[(size_t(t) * n + j) * D + d];
        }
    }
    rms_norm_rows(h.data(), T, D, m.out_norm.data(), c.rms_eps);
    return linear(h, T, D, m.lm_head, c.vocab);  // [T, vocab]
}

std::vector<int32_t> d4_greedy(const d4_model & m, std::vector<int32_t> tokens, int n) {
    std::vector<int32_t> out;
    for (int i = 0; i < n; i++) {
        const std::vector<float> logits = d4_forward(m, tokens);
        const float * last = &logits[(tokens.size() - 1) * size_t(m.cfg.vocab)];
        const int32_t next = int32_t(std::max_element(last, last + m.cfg.vocab) - last);
        out.push_back(next);
        tokens.push_back(next);
    }
    return out;
}

} // namespace v4::deepseek4
