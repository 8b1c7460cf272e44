// DeepSeek-V4 reference prefill in fp32, top to bottom:
//   embedding -> n_hc residual streams -> per layer { mHC collapse -> attention -> mHC expand/mix,
//   mHC collapse -> MoE -> mHC expand/mix } -> hyper head -> RMSNorm -> lm_head.
// Matrices are row-major [out, in] as in PyTorch; activations are row-major [T, features].
// Mirrors transformers 5.23 modeling_deepseek_v4.py. d4_eval takes the sequence in chunks of any
// size (prefill, then one token per decode step) and carries what the next chunk needs in d4_state:
// the last sliding_window - 1 keys per layer and the compressors' open windows and entries.
#include "models/deepseek4/deepseek4.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "backend/cpu/thread_pool.h"
#include "models/deepseek4/deepseek4_index.h"
#include "models/deepseek4/deepseek4_kernels.h"
#include "v4/error.h"

namespace v4::deepseek4 {

namespace {

constexpr float neg_inf = -std::numeric_limits<float>::infinity();

// fn(task, thread) for task in [0, n): on the pool's threads when there is one, else in order here.
template <class F>
void parallel_for(detail::thread_pool * pool, int n, F && fn) {
    if (pool != nullptr && n > 1) {
        pool->run(n, [&fn](int task, int thread) { fn(task, thread); });
    } else {
        for (int i = 0; i < n; i++) fn(i, 0);
    }
}

int pool_threads(const detail::thread_pool * pool) { return pool != nullptr ? pool->size() : 1; }

// y [T, out] = x [T, in] @ w[out, in]^T; blocks of output rows are split across the pool. Each
// weight row is read from memory once and reused for all T rows (prefill chunks).
std::vector<float> linear(const float * x, int T, int in, const float * w, int out, detail::thread_pool * pool = nullptr) {
    std::vector<float> y(size_t(T) * out);
    const d4_packed_rows packed = d4_pack_rows(x, T, in);
    constexpr int rows_per_task = 16;
    parallel_for(pool, (out + rows_per_task - 1) / rows_per_task, [&](int task, int) {
        const int o0 = task * rows_per_task;
        d4_matmul_rows(packed, w, out, o0, std::min(out, o0 + rows_per_task), y.data());
    });
    return y;
}
std::vector<float> linear(const std::vector<float> & x, int T, int in, const std::vector<float> & w, int out,
                          detail::thread_pool * pool = nullptr) {
    return linear(x.data(), T, in, w.data(), out, pool);
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
                               const std::vector<float> & base, const std::vector<float> & scale, hc_weights & w,
                               detail::thread_pool * pool) {
    const int n = c.hc_mult, D = c.hidden, n_mix = (2 + n) * n;
    std::vector<float> flat = X;  // [T, n*D]
    rms_norm_rows(flat.data(), T, n * D, nullptr, c.rms_eps);
    const std::vector<float> mix = linear(flat, T, n * D, fn, n_mix, pool);  // [T, (2+n)n]
    std::vector<float> collapsed(size_t(T) * D, 0.0f);
    w.post.assign(size_t(T) * n, 0.0f);
    w.comb.assign(size_t(T) * n * n, 0.0f);
    parallel_for(pool, T, [&](int t, int) {
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
    });
    return collapsed;
}

// X'[t, k] = post_k * out[t] + sum_j comb[j][k] * X[t, j]
void hc_expand(const d4_config & c, std::vector<float> & X, int T, const std::vector<float> & out, const hc_weights & w,
               detail::thread_pool * pool) {
    const int n = c.hc_mult, D = c.hidden;
    std::vector<float> mixed(X.size(), 0.0f);
    parallel_for(pool, T, [&](int t, int) {
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
    });
    X.swap(mixed);
}

// Compressor (paper §2.3.1 eqs. 9-12 for CSA, §2.3.2 eqs. 20-23 for HCA): each closed window of
// `ratio` tokens becomes one entry, a per-channel softmax(gate + position_bias)-weighted sum of the
// projected tokens, RMSNormed and roped at the window's first position. CSA ("overlap") entries
// mix two series: Ca (channels [0, dim)) of the previous window and Cb ([dim, 2dim)) of the current.
// Appends this chunk's tokens to the open window in `st` and every window that closes to
// st.entries; tokens of a still-open window wait in st.buf_* for the next call.
void compress_append(const d4_config & c, const d4_compressor & comp, int ratio, const std::vector<float> & x, int S,
                     d4_comp_state & st, detail::thread_pool * pool) {
    const int dim = comp.dim, width = (comp.overlap ? 2 : 1) * dim;
    const std::vector<float> kv = linear(x, S, c.hidden, comp.kv_proj, width, pool);     // [S, width]
    const std::vector<float> gate = linear(x, S, c.hidden, comp.gate_proj, width, pool); // [S, width]
    st.buf_kv.insert(st.buf_kv.end(), kv.begin(), kv.end());
    st.buf_gate.insert(st.buf_gate.end(), gate.begin(), gate.end());
    const int n_buf = int(st.buf_kv.size() / size_t(width));
    const int n_close = n_buf / ratio;
    std::vector<float> logit(static_cast<size_t>(2 * ratio)), value(static_cast<size_t>(2 * ratio));
    std::vector<float> entry(static_cast<size_t>(dim));
    for (int k = 0; k < n_close; k++) {
        const float * cur_kv = &st.buf_kv[size_t(k) * ratio * width];     // [ratio, width]
        const float * cur_gate = &st.buf_gate[size_t(k) * ratio * width];
        const bool has_prev = comp.overlap && st.n_entries > 0;
        for (int ch = 0; ch < dim; ch++) {
            int n_slots = 0;
            auto slot = [&](const float * kv_rows, const float * gate_rows, int r, int column) {
                logit[size_t(n_slots)] = gate_rows[size_t(r) * width + column] + comp.pos_bias[size_t(r) * width + column];
                value[size_t(n_slots)] = kv_rows[size_t(r) * width + column];
                n_slots++;
            };
            if (has_prev) {
                for (int r = 0; r < ratio; r++) slot(st.prev_kv.data(), st.prev_gate.data(), r, ch);  // Ca, previous window
            }
            for (int r = 0; r < ratio; r++) slot(cur_kv, cur_gate, r, comp.overlap ? dim + ch : ch);  // Cb (or the only series)
            float mx = neg_inf;
            for (int i = 0; i < n_slots; i++) mx = std::max(mx, logit[size_t(i)]);
            float sum = 0.0f, acc = 0.0f;
            for (int i = 0; i < n_slots; i++) {
                const float p = std::exp(logit[size_t(i)] - mx);
                sum += p;
                acc += p * value[size_t(i)];
            }
            entry[size_t(ch)] = acc / sum;
        }
        rms_norm_rows(entry.data(), 1, dim, comp.kv_norm.data(), c.rms_eps);
        rope_apply(entry.data(), dim, c.rope_compress, st.n_entries * ratio, 1.0f);
        st.entries.insert(st.entries.end(), entry.begin(), entry.end());
        st.n_entries++;
        if (comp.overlap) {
            st.prev_kv.assign(cur_kv, cur_kv + size_t(ratio) * width);
            st.prev_gate.assign(cur_gate, cur_gate + size_t(ratio) * width);
        }
    }
    const size_t consumed = size_t(n_close) * ratio * width;
    st.buf_kv.erase(st.buf_kv.begin(), st.buf_kv.begin() + std::ptrdiff_t(consumed));
    st.buf_gate.erase(st.buf_gate.begin(), st.buf_gate.begin() + std::ptrdiff_t(consumed));
}

// Lightning indexer (paper §2.3.1 eqs. 13-17): score[t, s] = sum_h w[t,h] * ReLU(q[t,h] . K[s]) and
// keep, per query, the top index_topk causally visible entries (s < (pos + 1) / ratio).
// Returns, per query t, its selected entry ids in ascending order in selected[t].
std::vector<std::vector<int>> index_select(const d4_config & c, const d4_layer & L, const std::vector<float> & x,
                                           const std::vector<float> & q_res, int S, int n_past, d4_comp_state & st,
                                           detail::thread_pool * pool) {
    const int ratio = c.csa_ratio, H = c.index_heads, dim = c.index_head_dim;
    compress_append(c, L.index_comp, ratio, x, S, st, pool);
    std::vector<float> q = linear(q_res, S, c.q_lora_rank, L.index_q_b, H * dim, pool);      // [S, H, dim]
    for (int t = 0; t < S; t++) {
        for (int h = 0; h < H; h++) rope_apply(&q[(size_t(t) * H + h) * dim], dim, c.rope_compress, n_past + t, 1.0f);
    }
    std::vector<float> head_w = linear(x, S, c.hidden, L.index_weights, H, pool);          // [S, H]
    const float scale = (1.0f / std::sqrt(float(dim))) * (1.0f / std::sqrt(float(H)));
    for (float & w : head_w) w *= scale;
    // n_ready[t]: entries closed by the time query t runs (causal: s < (pos + 1) / ratio).
    std::vector<int> n_ready(static_cast<size_t>(S));
    for (int t = 0; t < S; t++) n_ready[size_t(t)] = (n_past + t + 1) / ratio;
    std::vector<std::vector<int>> selected(static_cast<size_t>(S));
    // Queries in groups: one pass over the keys scores and selects for the whole group.
    parallel_for(pool, (S + index_group - 1) / index_group, [&](int g, int) {
        const int t0 = g * index_group, n_q = std::min(index_group, S - t0);
        index_select_group(st.entries.data(), dim, &q[size_t(t0) * H * dim], &head_w[size_t(t0) * H], n_q, H, &n_ready[size_t(t0)],
                           c.index_topk, &selected[size_t(t0)]);
    });
    return selected;
}

// Attention block (paper §2.3): low-rank q, shared K=V single head, sliding window of
// `sliding_window` keys plus compressed entries (CSA: indexer-selected; HCA: all closed windows),
// per-head sink logit, inverse rope on the output's rope slice, grouped low-rank output projection.
// x [S, D] are the chunk's tokens at positions n_past .. n_past + S - 1; `st` carries the window
// tail and the compressor states across chunks.
std::vector<float> attention(const d4_config & c, const d4_layer & L, d4_attn type, const std::vector<float> & x, int S,
                             int n_past, d4_layer_state & st, detail::thread_pool * pool) {
    const int H = c.n_heads, hd = c.head_dim, D = c.hidden;
    const d4_rope & rope = type == d4_attn::sliding ? c.rope_main : c.rope_compress;

    std::vector<float> q_res = linear(x, S, D, L.q_a, c.q_lora_rank, pool);           // [S, q_lora]
    rms_norm_rows(q_res.data(), S, c.q_lora_rank, L.q_a_norm.data(), c.rms_eps);
    std::vector<float> q = linear(q_res, S, c.q_lora_rank, L.q_b, H * hd, pool);     // [S, H, hd]
    rms_norm_rows(q.data(), S * H, hd, nullptr, c.rms_eps);
    std::vector<float> kv = linear(x, S, D, L.kv, hd, pool);                          // [S, hd]
    rms_norm_rows(kv.data(), S, hd, L.kv_norm.data(), c.rms_eps);
    for (int t = 0; t < S; t++) {
        for (int h = 0; h < H; h++) rope_apply(&q[(size_t(t) * H + h) * hd], hd, rope, n_past + t, 1.0f);
        rope_apply(&kv[size_t(t) * hd], hd, rope, n_past + t, 1.0f);
    }
    // Window keys: the carried tail (positions kv_base ..) followed by this chunk.
    std::vector<float> keys = st.kv_tail;
    keys.insert(keys.end(), kv.begin(), kv.end());                                   // [n_tail + S, hd]
    const int kv_base = n_past - int(st.kv_tail.size() / size_t(hd));

    std::vector<std::vector<int>> selected;  // CSA: per query, the indexer's entries
    const d4_comp_state & comp = st.comp;
    if (type != d4_attn::sliding) {
        const int ratio = type == d4_attn::csa ? c.csa_ratio : c.hca_ratio;
        compress_append(c, L.comp, ratio, x, S, st.comp, pool);
        if (type == d4_attn::csa) selected = index_select(c, L, x, q_res, S, n_past, st.index_comp, pool);
    }

    const float scale = 1.0f / std::sqrt(float(hd));
    std::vector<float> out(size_t(S) * H * hd);  // [S, H, hd]
    struct scratch {
        std::vector<const float *> rows;
        std::vector<float> logits;
    };
    std::vector<scratch> per_thread(static_cast<size_t>(pool_threads(pool)));
    parallel_for(pool, S, [&](int t, int thread) {
        const int pos = n_past + t;
        std::vector<const float *> & rows = per_thread[size_t(thread)].rows;
        rows.clear();
        for (int j = std::max(0, pos - c.sliding_window + 1); j <= pos; j++) rows.push_back(&keys[size_t(j - kv_base) * hd]);
        if (type == d4_attn::csa) {
            for (int s : selected[size_t(t)]) rows.push_back(&comp.entries[size_t(s) * hd]);
        } else if (type == d4_attn::hca) {  // every closed window
            for (int s = 0; s < (pos + 1) / c.hca_ratio; s++) rows.push_back(&comp.entries[size_t(s) * hd]);
        }
        float * ot = &out[size_t(t) * H * hd];
        d4_attend(&q[size_t(t) * H * hd], H, hd, rows.data(), int(rows.size()), L.sinks.data(), scale, ot,
                  per_thread[size_t(thread)].logits);
        for (int h = 0; h < H; h++) rope_apply(ot + size_t(h) * hd, hd, rope, pos, -1.0f);  // V carried rope (K = V): undo at the query position
    });
    // Keep the last sliding_window - 1 rows: the next token's window is those plus itself.
    const size_t keep = std::min(keys.size() / size_t(hd), size_t(c.sliding_window - 1));
    st.kv_tail.assign(keys.end() - std::ptrdiff_t(keep * hd), keys.end());

    // Grouped output projection: group g of heads [S, H*hd/G] -> [S, o_lora] with its own block of o_a.
    const int G = c.o_groups, in_g = H * hd / G, R = c.o_lora_rank;
    std::vector<float> grouped(size_t(S) * G * R);  // [S, G * o_lora]
    std::vector<float> xg(size_t(S) * in_g);
    for (int g = 0; g < G; g++) {
        for (int t = 0; t < S; t++) {
            std::copy_n(&out[size_t(t) * H * hd + size_t(g) * in_g], in_g, &xg[size_t(t) * in_g]);
        }
        const std::vector<float> yg = linear(xg.data(), S, in_g, &L.o_a[size_t(g) * R * in_g], R, pool);  // [S, R]
        for (int t = 0; t < S; t++) std::copy_n(&yg[size_t(t) * R], R, &grouped[size_t(t) * G * R + size_t(g) * R]);
    }
    return linear(grouped, S, G * R, L.o_b, D, pool);  // [S, D]
}

// SwiGLU with V4's clamp: silu(min(gate, limit)) * clamp(up, -limit, limit)
float swiglu(float gate, float up, float limit) {
    return silu(std::min(gate, limit)) * std::clamp(up, -limit, limit);
}

// MoE (paper §2.1): sqrt(softplus) router scores; experts chosen by tid2eid[token] (hash layers) or by
// top-k of score + correction bias; weights = chosen scores renormalised * routed_scaling_factor;
// plus one always-on shared expert.
std::vector<float> moe(const d4_config & c, const d4_layer & L, bool hashed, const std::vector<float> & x,
                       const std::vector<int32_t> & tokens, int T, detail::thread_pool * pool) {
    const int D = c.hidden, E = c.n_experts, K = c.n_experts_used, F = c.moe_ff;
    const std::vector<float> router_logits = linear(x, T, D, L.router, E, pool);  // [T, E]
    const std::vector<float> sh_gate = linear(x, T, D, L.sh_gate, F, pool);
    const std::vector<float> sh_up = linear(x, T, D, L.sh_up, F, pool);
    std::vector<float> sh_act(size_t(T) * F);
    for (size_t i = 0; i < sh_act.size(); i++) sh_act[i] = swiglu(sh_gate[i], sh_up[i], c.swiglu_limit);
    std::vector<float> out = linear(sh_act, T, F, L.sh_down, D, pool);            // shared expert [T, D]

    // Routing: per token its K experts and weights; per expert the (token, slot) pairs it serves.
    std::vector<float> route_w(size_t(T) * K);
    std::vector<std::vector<int>> served(static_cast<size_t>(E));  // t * K + k
    std::vector<float> score(static_cast<size_t>(E)), biased(static_cast<size_t>(E));
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
        for (int k = 0; k < K; k++) {
            const int e = chosen[size_t(k)];
            route_w[size_t(t) * K + k] = score[size_t(e)] / (wsum + 1e-20f) * c.routed_scale;
            served[size_t(e)].push_back(t * K + k);
        }
    }
    // Each expert runs once over the tokens routed to it (its weights read once per chunk, not once
    // per token), in parallel across experts; results land in per-(token, slot) rows and are added
    // in slot order below, so the sum does not depend on the thread count.
    std::vector<float> expert_out(size_t(T) * K * D);
    std::vector<int> active;
    for (int e = 0; e < E; e++) {
        if (!served[size_t(e)].empty()) active.push_back(e);
    }
    parallel_for(pool, int(active.size()), [&](int task, int) {
        const int e = active[size_t(task)];
        const std::vector<int> & slots = served[size_t(e)];
        const int n = int(slots.size());
        std::vector<float> xe(size_t(n) * D);
        for (int i = 0; i < n; i++) std::copy_n(&x[size_t(slots[size_t(i)] / K) * D], D, &xe[size_t(i) * D]);
        // gate_up [2F, D]: gate rows, then up rows.
        const std::vector<float> gu = linear(xe.data(), n, D, &L.exp_gate_up[size_t(e) * 2 * F * D], 2 * F);
        std::vector<float> h(size_t(n) * F);
        for (int i = 0; i < n; i++) {
            for (int f = 0; f < F; f++) h[size_t(i) * F + f] = swiglu(gu[size_t(i) * 2 * F + f], gu[size_t(i) * 2 * F + F + f], c.swiglu_limit);
        }
        const std::vector<float> y = linear(h.data(), n, F, &L.exp_down[size_t(e) * D * F], D);  // [n, D]
        for (int i = 0; i < n; i++) std::copy_n(&y[size_t(i) * D], D, &expert_out[size_t(slots[size_t(i)]) * D]);
    });
    for (int t = 0; t < T; t++) {
        for (int k = 0; k < K; k++) {
            const float weight = route_w[size_t(t) * K + k];
            const float * y = &expert_out[(size_t(t) * K + k) * D];
            for (int d = 0; d < D; d++) out[size_t(t) * D + d] += weight * y[d];
        }
    }
    return out;
}

} // namespace

d4_state d4_new_state(const d4_model & m) {
    d4_state st;
    st.layers.resize(m.layers.size());
    return st;
}

std::vector<float> d4_eval(const d4_model & m, d4_state & state, const std::vector<int32_t> & tokens, bool all_logits,
                           detail::thread_pool * pool) {
    const d4_config & c = m.cfg;
    const int S = int(tokens.size()), D = c.hidden, n = c.hc_mult;
    if (S == 0) {
        throw Error(ErrorCode::invalid_argument, "deepseek4: empty token sequence");
    }
    if (state.layers.size() != m.layers.size()) {
        throw Error(ErrorCode::invalid_argument, "deepseek4: state was made for another model");
    }
    // Residual streams X [S, n, D]: every stream starts as the token embedding.
    std::vector<float> X(size_t(S) * n * D);
    for (int t = 0; t < S; t++) {
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
        std::vector<float> attn_in = hc_collapse(c, X, S, L.attn_hc_fn, L.attn_hc_base, L.attn_hc_scale, hc, pool);
        rms_norm_rows(attn_in.data(), S, D, L.attn_norm.data(), c.rms_eps);
        const std::vector<float> attn_out =
            attention(c, L, c.attn_types[size_t(il)], attn_in, S, state.n_past, state.layers[size_t(il)], pool);
        hc_expand(c, X, S, attn_out, hc, pool);

        std::vector<float> ffn_in = hc_collapse(c, X, S, L.ffn_hc_fn, L.ffn_hc_base, L.ffn_hc_scale, hc, pool);
        rms_norm_rows(ffn_in.data(), S, D, L.ffn_norm.data(), c.rms_eps);
        const std::vector<float> ffn_out = moe(c, L, c.hash_moe[size_t(il)], ffn_in, tokens, S, pool);
        hc_expand(c, X, S, ffn_out, hc, pool);
    }
    state.n_past += S;

    // Hyper head: collapse the n streams with sigmoid weights, then RMSNorm and lm_head.
    const int first = all_logits ? 0 : S - 1, R = S - first;
    std::vector<float> flat(X.begin() + std::ptrdiff_t(size_t(first) * n * D), X.end());  // [R, n*D]
    const std::vector<float> rows = flat;
    rms_norm_rows(flat.data(), R, n * D, nullptr, c.rms_eps);
    const std::vector<float> mix = linear(flat, R, n * D, m.head_fn, n, pool);  // [R, n]
    std::vector<float> h(size_t(R) * D, 0.0f);
    for (int t = 0; t < R; t++) {
        for (int j = 0; j < n; j++) {
            const float pre = sigmoid(mix[size_t(t) * n + j] * m.head_scale[0] + m.head_base[size_t(j)]) + c.hc_eps;
            for (int d = 0; d < D; d++) h[size_t(t) * D + d] += pre * rows[(size_t(t) * n + j) * D + d];
        }
    }
    rms_norm_rows(h.data(), R, D, m.out_norm.data(), c.rms_eps);
    return linear(h, R, D, m.lm_head, c.vocab, pool);  // [R, vocab]
}

std::vector<float> d4_forward(const d4_model & m, const std::vector<int32_t> & tokens) {
    d4_state state = d4_new_state(m);
    return d4_eval(m, state, tokens);
}

namespace {
int32_t argmax_last(const std::vector<float> & logits, int vocab) {
    const float * last = &logits[logits.size() - size_t(vocab)];
    return int32_t(std::max_element(last, last + vocab) - last);
}
} // namespace

std::vector<int32_t> d4_greedy(const d4_model & m, std::vector<int32_t> tokens, int n) {
    std::vector<int32_t> out;
    for (int i = 0; i < n; i++) {
        out.push_back(argmax_last(d4_forward(m, tokens), m.cfg.vocab));
        tokens.push_back(out.back());
    }
    return out;
}

std::vector<int32_t> d4_greedy_decode(const d4_model & m, const std::vector<int32_t> & prompt, int n) {
    d4_state state = d4_new_state(m);
    std::vector<int32_t> out;
    std::vector<float> logits = d4_eval(m, state, prompt);
    for (int i = 0; i < n; i++) {
        out.push_back(argmax_last(logits, m.cfg.vocab));
        if (i + 1 < n) logits = d4_eval(m, state, {out.back()});
    }
    return out;
}

} // namespace v4::deepseek4
