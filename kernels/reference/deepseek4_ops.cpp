// Scalar DeepSeek-V4 operators (see deepseek4_ops.h). Each mirrors a block of
// engine/src/models/deepseek4/deepseek4.cpp; the comments name which.
#include "reference/deepseek4_ops.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace v4::kernels::ref::d4 {

namespace {

constexpr float neg_inf = -std::numeric_limits<float>::infinity();

float dot(const float * a, const float * b, int n) {
    float s = 0.0f;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
float silu(float x) { return x / (1.0f + std::exp(-x)); }
float softplus(float x) { return x > 20.0f ? x : std::log1p(std::exp(x)); }  // torch threshold 20

} // namespace

void linear(const float * x, int T, int in, const float * w, int out, float * y) {
    for (int t = 0; t < T; t++) {
        for (int o = 0; o < out; o++) y[size_t(t) * out + o] = dot(&x[size_t(t) * in], &w[size_t(o) * in], in);
    }
}

void rms_norm_rows(float * x, int64_t rows, int d, const float * w, float eps) {
    for (int64_t r = 0; r < rows; r++) {
        float * v = x + r * d;
        float ss = 0.0f;
        for (int i = 0; i < d; i++) ss += v[i] * v[i];
        const float scale = 1.0f / std::sqrt(ss / float(d) + eps);
        for (int i = 0; i < d; i++) v[i] = w ? w[i] * (v[i] * scale) : v[i] * scale;
    }
}

void rope_apply(float * v, int dim, const rope_table & rope, int pos, float sign) {
    float * r = v + (dim - 2 * rope.pairs);
    for (int i = 0; i < rope.pairs; i++) {
        const float angle = float(pos) * rope.inv_freq[i];
        const float c = std::cos(angle) * rope.attn_factor, s = sign * std::sin(angle) * rope.attn_factor;
        const float a = r[2 * i], b = r[2 * i + 1];
        r[2 * i] = a * c - b * s;
        r[2 * i + 1] = b * c + a * s;
    }
}

// engine hc_collapse, the per-token part.
void hc_weights(const hc_params & p, const float * mix, const float * base, const float * scale, float * pre,
                float * post, float * comb) {
    const int n = p.n;
    for (int j = 0; j < n; j++) {
        pre[j] = sigmoid(mix[j] * scale[0] + base[j]) + p.hc_eps;
        post[j] = 2.0f * sigmoid(mix[n + j] * scale[1] + base[n + j]);
    }
    for (int j = 0; j < n; j++) {
        float * row = comb + j * n;
        float mx = neg_inf;
        for (int k = 0; k < n; k++) {
            row[k] = mix[2 * n + j * n + k] * scale[2] + base[2 * n + j * n + k];
            mx = std::max(mx, row[k]);
        }
        float sum = 0.0f;
        for (int k = 0; k < n; k++) sum += (row[k] = std::exp(row[k] - mx));
        for (int k = 0; k < n; k++) row[k] = row[k] / sum + p.hc_eps;
    }
    auto normalize_cols = [&] {
        for (int k = 0; k < n; k++) {
            float s = 0.0f;
            for (int j = 0; j < n; j++) s += comb[j * n + k];
            for (int j = 0; j < n; j++) comb[j * n + k] /= (s + p.hc_eps);
        }
    };
    normalize_cols();
    for (int it = 0; it < p.sinkhorn_iters - 1; it++) {
        for (int j = 0; j < n; j++) {
            float s = 0.0f;
            for (int k = 0; k < n; k++) s += comb[j * n + k];
            for (int k = 0; k < n; k++) comb[j * n + k] /= (s + p.hc_eps);
        }
        normalize_cols();
    }
}

void hc_collapse(const hc_params & p, const float * X, int T, const float * fn, const float * base, const float * scale,
                 float * collapsed, float * post, float * comb) {
    const int n = p.n, D = p.D, n_mix = (2 + n) * n;
    std::vector<float> flat(size_t(n) * D), mix(static_cast<size_t>(n_mix)), pre(static_cast<size_t>(n));
    for (int t = 0; t < T; t++) {
        const float * xt = X + size_t(t) * n * D;
        std::copy_n(xt, size_t(n) * D, flat.data());
        rms_norm_rows(flat.data(), 1, n * D, nullptr, p.rms_eps);
        linear(flat.data(), 1, n * D, fn, n_mix, mix.data());
        hc_weights(p, mix.data(), base, scale, pre.data(), post + size_t(t) * n, comb + size_t(t) * n * n);
        float * ct = collapsed + size_t(t) * D;
        std::fill_n(ct, D, 0.0f);
        for (int j = 0; j < n; j++) {
            for (int d = 0; d < D; d++) ct[d] += pre[size_t(j)] * xt[size_t(j) * D + d];
        }
    }
}

// engine hc_expand
void hc_expand(const hc_params & p, float * X, int T, const float * out, const float * post, const float * comb) {
    const int n = p.n, D = p.D;
    std::vector<float> mixed(size_t(n) * D);
    for (int t = 0; t < T; t++) {
        float * xt = X + size_t(t) * n * D;
        for (int k = 0; k < n; k++) {
            float * dst = &mixed[size_t(k) * D];
            const float pk = post[size_t(t) * n + k];
            for (int d = 0; d < D; d++) dst[d] = pk * out[size_t(t) * D + d];
            for (int j = 0; j < n; j++) {
                const float cjk = comb[(size_t(t) * n + j) * n + k];
                for (int d = 0; d < D; d++) dst[d] += cjk * xt[size_t(j) * D + d];
            }
        }
        std::copy(mixed.begin(), mixed.end(), xt);
    }
}

// engine d4_eval, the hyper head
void hc_head(const hc_params & p, const float * X, int T, const float * fn, const float * base, const float * scale,
             float * h) {
    const int n = p.n, D = p.D;
    std::vector<float> flat(size_t(n) * D), mix(static_cast<size_t>(n));
    for (int t = 0; t < T; t++) {
        const float * xt = X + size_t(t) * n * D;
        std::copy_n(xt, size_t(n) * D, flat.data());
        rms_norm_rows(flat.data(), 1, n * D, nullptr, p.rms_eps);
        linear(flat.data(), 1, n * D, fn, n, mix.data());
        float * ht = h + size_t(t) * D;
        std::fill_n(ht, D, 0.0f);
        for (int j = 0; j < n; j++) {
            const float pre = sigmoid(mix[size_t(j)] * scale[0] + base[j]) + p.hc_eps;
            for (int d = 0; d < D; d++) ht[d] += pre * xt[size_t(j) * D + d];
        }
    }
}

// engine compress_append, the loop over closing windows
void compress_windows(const compress_params & p, const float * kv, const float * gate, const float * prev_kv,
                      const float * prev_gate, int n_windows, int first_entry, float * entries) {
    const int ratio = p.ratio, dim = p.dim, width = p.width();
    std::vector<float> logit(static_cast<size_t>(2 * ratio)), value(static_cast<size_t>(2 * ratio));
    for (int k = 0; k < n_windows; k++) {
        const float * cur_kv = kv + size_t(k) * ratio * width;
        const float * cur_gate = gate + size_t(k) * ratio * width;
        const bool has_prev = p.overlap && first_entry + k > 0;
        const float * pkv = k == 0 ? prev_kv : cur_kv - size_t(ratio) * width;
        const float * pgate = k == 0 ? prev_gate : cur_gate - size_t(ratio) * width;
        float * entry = entries + size_t(k) * dim;
        for (int ch = 0; ch < dim; ch++) {
            int n_slots = 0;
            auto slot = [&](const float * kv_rows, const float * gate_rows, int r, int column) {
                logit[size_t(n_slots)] = gate_rows[size_t(r) * width + column] + p.pos_bias[size_t(r) * width + column];
                value[size_t(n_slots)] = kv_rows[size_t(r) * width + column];
                n_slots++;
            };
            if (has_prev) {
                for (int r = 0; r < ratio; r++) slot(pkv, pgate, r, ch);
            }
            for (int r = 0; r < ratio; r++) slot(cur_kv, cur_gate, r, p.overlap ? dim + ch : ch);
            float mx = neg_inf;
            for (int i = 0; i < n_slots; i++) mx = std::max(mx, logit[size_t(i)]);
            float sum = 0.0f, acc = 0.0f;
            for (int i = 0; i < n_slots; i++) {
                const float e = std::exp(logit[size_t(i)] - mx);
                sum += e;
                acc += e * value[size_t(i)];
            }
            entry[ch] = acc / sum;
        }
        rms_norm_rows(entry, 1, dim, p.kv_norm, p.rms_eps);
        rope_apply(entry, dim, p.rope, (first_entry + k) * ratio, 1.0f);
    }
}

// engine deepseek4_index.cpp index_scores: per (query, head) a dot over dim, then ReLU-weighted head sum
void index_scores(const float * keys, int n_keys, int dim, const float * q, const float * head_w, float w_scale, int n_q,
                  int H, float * scores) {
    for (int t = 0; t < n_q; t++) {
        for (int s = 0; s < n_keys; s++) {
            float acc = 0.0f;
            for (int h = 0; h < H; h++) {
                const float d = dot(&q[(size_t(t) * H + h) * dim], &keys[size_t(s) * dim], dim);
                acc += std::max(d, 0.0f) * (head_w[size_t(t) * H + h] * w_scale);
            }
            scores[size_t(t) * n_keys + s] = acc;
        }
    }
}

// The engine's top_k_entries, by another road: a stable descending sort, the first k, re-sorted by id.
int top_k_ascending(const float * scores, int n, int k, int32_t * out) {
    std::vector<int32_t> order(static_cast<size_t>(std::max(n, 0)));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return scores[a] > scores[b]; });
    const int m = std::min(n, k);
    std::sort(order.begin(), order.begin() + m);
    std::copy_n(order.begin(), m, out);
    return m;
}

// engine attention(), the loop over queries
void sparse_attention(const attn_params & p, const attn_kv & kv, const float * q, int T, int pos0, float * out) {
    const int H = p.H, hd = p.hd;
    std::vector<const float *> vals;
    std::vector<float> logits;
    for (int t = 0; t < T; t++) {
        const int pos = pos0 + t;
        vals.clear();
        for (int j = std::max(0, pos - p.window + 1); j <= pos; j++) {
            vals.push_back(kv.win + size_t((j - kv.win_base) % kv.win_cap) * hd);
        }
        if (kv.hca_ratio > 0) {
            for (int s = 0; s < (pos + 1) / kv.hca_ratio; s++) vals.push_back(kv.comp + size_t(s) * hd);
        } else if (kv.sel) {
            for (int i = 0; i < kv.n_sel[t]; i++) vals.push_back(kv.comp + size_t(kv.sel[size_t(t) * kv.sel_ld + i]) * hd);
        }
        logits.resize(vals.size());
        for (int h = 0; h < H; h++) {
            const float * qh = q + (size_t(t) * H + h) * hd;
            float mx = p.sinks[h];
            for (size_t i = 0; i < vals.size(); i++) {
                logits[i] = dot(qh, vals[i], hd) * p.scale;
                mx = std::max(mx, logits[i]);
            }
            float sum = std::exp(p.sinks[h] - mx);
            for (size_t i = 0; i < vals.size(); i++) sum += (logits[i] = std::exp(logits[i] - mx));
            float * oh = out + (size_t(t) * H + h) * hd;
            std::fill_n(oh, hd, 0.0f);
            for (size_t i = 0; i < vals.size(); i++) {
                const float pr = logits[i] / sum;
                for (int d = 0; d < hd; d++) oh[d] += pr * vals[i][d];
            }
            rope_apply(oh, hd, p.rope, pos, -1.0f);
        }
    }
}

void grouped_linear(const float * x, int T, int G, int in_g, const float * w, int R, float * y) {
    for (int t = 0; t < T; t++) {
        for (int g = 0; g < G; g++) {
            const float * xg = x + size_t(t) * G * in_g + size_t(g) * in_g;
            for (int r = 0; r < R; r++) {
                y[size_t(t) * G * R + size_t(g) * R + r] = dot(xg, w + (size_t(g) * R + r) * in_g, in_g);
            }
        }
    }
}

float swiglu_clamped(float gate, float up, float limit) {
    return silu(std::min(gate, limit)) * std::clamp(up, -limit, limit);
}

// engine moe(), the routing part
void route(const float * logits, int T, int E, int K, const float * bias, const int64_t * tid2eid,
           const int32_t * tokens, float routed_scale, int32_t * ids, float * weights) {
    std::vector<float> score(static_cast<size_t>(E)), biased(static_cast<size_t>(E));
    std::vector<int32_t> order(static_cast<size_t>(E));
    for (int t = 0; t < T; t++) {
        for (int e = 0; e < E; e++) score[size_t(e)] = std::sqrt(softplus(logits[size_t(t) * E + e]));
        int32_t * chosen = ids + size_t(t) * K;
        if (!bias) {
            for (int k = 0; k < K; k++) chosen[k] = int32_t(tid2eid[size_t(tokens[t]) * K + k]);
        } else {
            for (int e = 0; e < E; e++) biased[size_t(e)] = score[size_t(e)] + bias[e];
            std::iota(order.begin(), order.end(), 0);
            std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return biased[size_t(a)] > biased[size_t(b)]; });
            std::copy_n(order.begin(), K, chosen);
        }
        float wsum = 0.0f;
        for (int k = 0; k < K; k++) wsum += score[size_t(chosen[k])];
        for (int k = 0; k < K; k++) weights[size_t(t) * K + k] = score[size_t(chosen[k])] / (wsum + 1e-20f) * routed_scale;
    }
}

void expert_gate_up(const weight_view & gate, const weight_view & up, const float * x, int T, const int32_t * ids,
                    int K, int F, float limit, float * h) {
    const int64_t D = gate.cols;
    for (int t = 0; t < T; t++) {
        const float * xt = x + size_t(t) * D;
        for (int k = 0; k < K; k++) {
            const int e = ids ? ids[size_t(t) * K + k] : 0;
            for (int f = 0; f < F; f++) {
                float g = 0.0f, u = 0.0f;
                for (int64_t d = 0; d < D; d++) g += weight_at(gate, e, f, d) * xt[d];
                for (int64_t d = 0; d < D; d++) u += weight_at(up, e, f, d) * xt[d];
                h[(size_t(t) * K + k) * F + f] = swiglu_clamped(g, u, limit);
            }
        }
    }
}

void expert_down(const weight_view & down, const float * h, int T, const int32_t * ids, const float * weights, int K,
                 int D, int F, bool accumulate, float * out) {
    for (int t = 0; t < T; t++) {
        for (int d = 0; d < D; d++) {
            float acc = accumulate ? out[size_t(t) * D + d] : 0.0f;
            for (int k = 0; k < K; k++) {
                const int e = ids ? ids[size_t(t) * K + k] : 0;
                const float * hk = h + (size_t(t) * K + k) * F;
                float s = 0.0f;
                for (int f = 0; f < F; f++) s += weight_at(down, e, d, f) * hk[f];
                acc += (weights ? weights[size_t(t) * K + k] : 1.0f) * s;
            }
            out[size_t(t) * D + d] = acc;
        }
    }
}

} // namespace v4::kernels::ref::d4
