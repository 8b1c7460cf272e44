// The DeepSeek-V4 forward as a sequence of operator calls, written once for two backends:
//   - d4_host_ops.h: the scalar references of kernels/reference/deepseek4_ops on host memory; the CPU
//     test (tests/gpu/test_deepseek4_reference.cpp) checks this against the engine's d4_eval;
//   - d4_cuda_forward.cpp: the kernels of kernels/cuda/deepseek4 on device memory.
// So the control flow and every piece of buffer arithmetic the device runs (window tails, the
// compressors' open windows and carried previous window, entry offsets, top-k strides) is verified
// on the CPU; what only a GPU can verify is each kernel against its reference (test_cuda_deepseek4).
// The blocks mirror engine/src/models/deepseek4/deepseek4.cpp (d4_eval, attention, compress_append,
// index_select, moe); comments there explain the model.
//
// Ops provides: template <class T> buffer type `buf<T>` with resize(b, n) (discards), grow(b, n)
// (keeps), ptr(b); copy(dst, src, n); w(weights) -> const T * for the model's containers (floats, tid2eid);
// and the operators below with the signatures of
// ref::d4 (rope_rows / embed / top_k as in kernels/cuda/deepseek4). Layer is d4_layer or its device twin
// (the same member names).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "models/deepseek4/deepseek4.h"
#include "reference/deepseek4_ops.h"

namespace v4::deepseek4::steps {

namespace rd = v4::kernels::ref::d4;

template <class Ops>
struct comp_state {
    typename Ops::template buf<float> buf_kv, buf_gate;    // [n_buf, width] the open window's projections
    typename Ops::template buf<float> prev_kv, prev_gate;  // [ratio, width] the last closed window (CSA)
    typename Ops::template buf<float> entries;             // [n_entries, dim]
    int n_buf = 0, n_entries = 0;
};

template <class Ops>
struct layer_state {
    typename Ops::template buf<float> tail;  // [n_tail, head_dim] the last sliding_window - 1 roped K=V rows
    int n_tail = 0;
    comp_state<Ops> comp, index_comp;
};

// What the blocks need besides the layer: the config and the two RoPE tables (in the backend's memory).
struct context {
    const d4_config & c;
    rd::rope_table rope_main, rope_compress;
};

// engine compress_append: the chunk's projections join the open window, closed windows become entries,
// the last closed window is kept (CSA), the rest stays open.
template <class Ops, class Comp>
void compress_append(const context & cx, const Comp & comp, int ratio, const float * x, int S, comp_state<Ops> & st) {
    const d4_config & c = cx.c;
    const int dim = comp.dim, width = (comp.overlap ? 2 : 1) * dim, rows = st.n_buf + S;
    typename Ops::template buf<float> kv, gate;
    Ops::resize(kv, size_t(rows) * width);
    Ops::resize(gate, size_t(rows) * width);
    Ops::copy(Ops::ptr(kv), Ops::ptr(st.buf_kv), size_t(st.n_buf) * width);
    Ops::copy(Ops::ptr(gate), Ops::ptr(st.buf_gate), size_t(st.n_buf) * width);
    Ops::linear(Ops::w(comp.kv_proj), width, c.hidden, x, S, Ops::ptr(kv) + size_t(st.n_buf) * width);
    Ops::linear(Ops::w(comp.gate_proj), width, c.hidden, x, S, Ops::ptr(gate) + size_t(st.n_buf) * width);
    const int n_close = rows / ratio;
    if (n_close > 0) {
        rd::compress_params p;
        p.ratio = ratio;
        p.dim = dim;
        p.overlap = comp.overlap;
        p.pos_bias = Ops::w(comp.pos_bias);
        p.kv_norm = Ops::w(comp.kv_norm);
        p.rms_eps = c.rms_eps;
        p.rope = cx.rope_compress;
        Ops::grow(st.entries, size_t(st.n_entries + n_close) * dim);
        const bool prev = comp.overlap && st.n_entries > 0;
        Ops::compress_windows(p, Ops::ptr(kv), Ops::ptr(gate), prev ? Ops::ptr(st.prev_kv) : nullptr,
                              prev ? Ops::ptr(st.prev_gate) : nullptr, n_close, st.n_entries,
                              Ops::ptr(st.entries) + size_t(st.n_entries) * dim);
        if (comp.overlap) {
            const size_t last = size_t(n_close - 1) * ratio * width;
            Ops::resize(st.prev_kv, size_t(ratio) * width);
            Ops::resize(st.prev_gate, size_t(ratio) * width);
            Ops::copy(Ops::ptr(st.prev_kv), Ops::ptr(kv) + last, size_t(ratio) * width);
            Ops::copy(Ops::ptr(st.prev_gate), Ops::ptr(gate) + last, size_t(ratio) * width);
        }
        st.n_entries += n_close;
    }
    const int left = rows - n_close * ratio;
    Ops::resize(st.buf_kv, size_t(left) * width);
    Ops::resize(st.buf_gate, size_t(left) * width);
    Ops::copy(Ops::ptr(st.buf_kv), Ops::ptr(kv) + size_t(n_close) * ratio * width, size_t(left) * width);
    Ops::copy(Ops::ptr(st.buf_gate), Ops::ptr(gate) + size_t(n_close) * ratio * width, size_t(left) * width);
    st.n_buf = left;
}

// engine attention(): x [S, D] at positions n_past .. -> y [S, D]
template <class Ops, class Layer>
void attention(const context & cx, const Layer & L, d4_attn type, const float * x, int S, int n_past,
               layer_state<Ops> & st, float * y) {
    const d4_config & c = cx.c;
    const int H = c.n_heads, hd = c.head_dim, D = c.hidden, QR = c.q_lora_rank;
    const rd::rope_table rope = type == d4_attn::sliding ? cx.rope_main : cx.rope_compress;
    typename Ops::template buf<float> q_res, q, keys, out, grouped, iq, head_w, scores;
    typename Ops::template buf<int32_t> sel, n_sel;
    Ops::resize(q_res, size_t(S) * QR);
    Ops::linear(Ops::w(L.q_a), QR, D, x, S, Ops::ptr(q_res));
    Ops::rms_norm_rows(Ops::ptr(q_res), S, QR, Ops::w(L.q_a_norm), c.rms_eps);
    Ops::resize(q, size_t(S) * H * hd);
    Ops::linear(Ops::w(L.q_b), H * hd, QR, Ops::ptr(q_res), S, Ops::ptr(q));
    Ops::rms_norm_rows(Ops::ptr(q), int64_t(S) * H, hd, nullptr, c.rms_eps);
    // Window keys: the carried tail (positions n_past - n_tail ..) followed by this chunk.
    const int n_keys_win = st.n_tail + S;
    Ops::resize(keys, size_t(n_keys_win) * hd);
    Ops::copy(Ops::ptr(keys), Ops::ptr(st.tail), size_t(st.n_tail) * hd);
    float * kv = Ops::ptr(keys) + size_t(st.n_tail) * hd;
    Ops::linear(Ops::w(L.kv), hd, D, x, S, kv);
    Ops::rms_norm_rows(kv, S, hd, Ops::w(L.kv_norm), c.rms_eps);
    Ops::rope_rows(Ops::ptr(q), S, H, hd, rope, n_past, 1.0f);
    Ops::rope_rows(kv, S, 1, hd, rope, n_past, 1.0f);

    rd::attn_kv where;
    where.win = Ops::ptr(keys);
    where.win_base = n_past - st.n_tail;
    where.win_cap = n_keys_win;
    if (type != d4_attn::sliding) {
        compress_append<Ops>(cx, L.comp, type == d4_attn::csa ? c.csa_ratio : c.hca_ratio, x, S, st.comp);
        Ops::grow(st.comp.entries, 1);  // a valid pointer before the first window closes
        where.comp = Ops::ptr(st.comp.entries);
        if (type == d4_attn::hca) where.hca_ratio = c.hca_ratio;
    }
    if (type == d4_attn::csa) {  // lightning indexer (engine index_select)
        const int IH = c.index_heads, idim = c.index_head_dim, K = c.index_topk;
        compress_append<Ops>(cx, L.index_comp, c.csa_ratio, x, S, st.index_comp);
        Ops::grow(st.index_comp.entries, 1);
        Ops::resize(iq, size_t(S) * IH * idim);
        Ops::linear(Ops::w(L.index_q_b), IH * idim, QR, Ops::ptr(q_res), S, Ops::ptr(iq));
        Ops::rope_rows(Ops::ptr(iq), S, IH, idim, cx.rope_compress, n_past, 1.0f);
        Ops::resize(head_w, size_t(S) * IH);
        Ops::linear(Ops::w(L.index_weights), IH, D, x, S, Ops::ptr(head_w));
        const float w_scale = (1.0f / std::sqrt(float(idim))) * (1.0f / std::sqrt(float(IH)));
        const int n_keys = st.index_comp.n_entries;  // every query's visible entries are a prefix of these
        Ops::resize(scores, std::max<size_t>(size_t(S) * n_keys, 1));
        Ops::index_scores(Ops::ptr(st.index_comp.entries), n_keys, idim, Ops::ptr(iq), Ops::ptr(head_w), w_scale, S, IH,
                          Ops::ptr(scores));
        Ops::resize(sel, size_t(S) * K);
        Ops::resize(n_sel, size_t(S));
        Ops::top_k(Ops::ptr(scores), n_keys, S, n_past, c.csa_ratio, K, Ops::ptr(sel), Ops::ptr(n_sel));
        where.sel = Ops::ptr(sel);
        where.n_sel = Ops::ptr(n_sel);
        where.sel_ld = K;
    }
    rd::attn_params ap;
    ap.H = H;
    ap.hd = hd;
    ap.window = c.sliding_window;
    ap.scale = 1.0f / std::sqrt(float(hd));
    ap.sinks = Ops::w(L.sinks);
    ap.rope = rope;
    Ops::resize(out, size_t(S) * H * hd);
    Ops::sparse_attention(ap, where, Ops::ptr(q), S, n_past, Ops::ptr(out));
    const int keep = std::min(n_keys_win, c.sliding_window - 1);
    Ops::resize(st.tail, size_t(keep) * hd);
    Ops::copy(Ops::ptr(st.tail), Ops::ptr(keys) + size_t(n_keys_win - keep) * hd, size_t(keep) * hd);
    st.n_tail = keep;

    const int G = c.o_groups, R = c.o_lora_rank;
    Ops::resize(grouped, size_t(S) * G * R);
    Ops::grouped_linear(Ops::ptr(out), S, G, H * hd / G, Ops::w(L.o_a), R, Ops::ptr(grouped));
    Ops::linear(Ops::w(L.o_b), D, G * R, Ops::ptr(grouped), S, y);
}

// engine moe(): the shared expert, then the routed experts accumulated in routing order. x [T, D],
// tokens [T] (in the backend's memory, for hash routing) -> y [T, D].
template <class Ops, class Layer>
void moe(const context & cx, const Layer & L, bool hashed, const float * x, const int32_t * tokens, int T, float * y) {
    const d4_config & c = cx.c;
    const int D = c.hidden, E = c.n_experts, K = c.n_experts_used, F = c.moe_ff;
    typename Ops::template buf<float> logits, weights, h;
    typename Ops::template buf<int32_t> ids;
    Ops::resize(logits, size_t(T) * E);
    Ops::linear(Ops::w(L.router), E, D, x, T, Ops::ptr(logits));
    Ops::resize(ids, size_t(T) * K);
    Ops::resize(weights, size_t(T) * K);
    Ops::route(Ops::ptr(logits), T, E, K, hashed ? nullptr : Ops::w(L.router_bias), Ops::w(L.tid2eid), tokens,
               c.routed_scale, Ops::ptr(ids), Ops::ptr(weights));
    Ops::resize(h, size_t(T) * K * F);
    const rd::weight_view sh_gate{rd::wfmt::f32, Ops::w(L.sh_gate), nullptr, D, F, 0};
    const rd::weight_view sh_up{rd::wfmt::f32, Ops::w(L.sh_up), nullptr, D, F, 0};
    const rd::weight_view sh_down{rd::wfmt::f32, Ops::w(L.sh_down), nullptr, F, D, 0};
    Ops::expert_gate_up(sh_gate, sh_up, x, T, nullptr, 1, F, c.swiglu_limit, Ops::ptr(h));
    Ops::expert_down(sh_down, Ops::ptr(h), T, nullptr, nullptr, 1, D, F, false, y);
    const rd::weight_view gate{rd::wfmt::f32, Ops::w(L.exp_gate_up), nullptr, D, 2 * F, 0};  // [2F, D]: gate rows,
    const rd::weight_view up{rd::wfmt::f32, Ops::w(L.exp_gate_up), nullptr, D, 2 * F, F};   // then up rows
    const rd::weight_view down{rd::wfmt::f32, Ops::w(L.exp_down), nullptr, F, D, 0};
    Ops::expert_gate_up(gate, up, x, T, Ops::ptr(ids), K, F, c.swiglu_limit, Ops::ptr(h));
    Ops::expert_down(down, Ops::ptr(h), T, Ops::ptr(ids), Ops::ptr(weights), K, D, F, true, y);
}

// engine d4_eval between the token check and the logits: tokens [S] (backend memory) at positions
// n_past .., layers' state advanced; writes logits [R, vocab] of the last R = all_logits ? S : 1 rows.
template <class Ops, class Model>
void eval(const Model & m, const context & cx, const int32_t * tokens, int S, int n_past, layer_state<Ops> * states,
          bool all_logits, typename Ops::template buf<float> & logits) {
    const d4_config & c = cx.c;
    const int D = c.hidden, n = c.hc_mult;
    const rd::hc_params hp{n, D, c.hc_sinkhorn_iters, c.rms_eps, c.hc_eps};
    typename Ops::template buf<float> X, in, post, comb, block_out, h;
    Ops::resize(X, size_t(S) * n * D);  // residual streams [S, n, D]
    Ops::resize(in, size_t(S) * D);
    Ops::resize(post, size_t(S) * n);
    Ops::resize(comb, size_t(S) * n * n);
    Ops::resize(block_out, size_t(S) * D);
    Ops::embed(Ops::w(m.tok_embd), tokens, S, n, D, Ops::ptr(X));
    for (int il = 0; il < c.n_layers; il++) {
        const auto & L = m.layers[size_t(il)];
        Ops::hc_collapse(hp, Ops::ptr(X), S, Ops::w(L.attn_hc_fn), Ops::w(L.attn_hc_base), Ops::w(L.attn_hc_scale),
                         Ops::ptr(in), Ops::ptr(post), Ops::ptr(comb));
        Ops::rms_norm_rows(Ops::ptr(in), S, D, Ops::w(L.attn_norm), c.rms_eps);
        attention<Ops>(cx, L, c.attn_types[size_t(il)], Ops::ptr(in), S, n_past, states[il], Ops::ptr(block_out));
        Ops::hc_expand(hp, Ops::ptr(X), S, Ops::ptr(block_out), Ops::ptr(post), Ops::ptr(comb));
        Ops::hc_collapse(hp, Ops::ptr(X), S, Ops::w(L.ffn_hc_fn), Ops::w(L.ffn_hc_base), Ops::w(L.ffn_hc_scale),
                         Ops::ptr(in), Ops::ptr(post), Ops::ptr(comb));
        Ops::rms_norm_rows(Ops::ptr(in), S, D, Ops::w(L.ffn_norm), c.rms_eps);
        moe<Ops>(cx, L, c.hash_moe[size_t(il)], Ops::ptr(in), tokens, S, Ops::ptr(block_out));
        Ops::hc_expand(hp, Ops::ptr(X), S, Ops::ptr(block_out), Ops::ptr(post), Ops::ptr(comb));
    }
    const int first = all_logits ? 0 : S - 1, R = S - first;  // hyper head, RMSNorm, lm_head
    Ops::resize(h, size_t(R) * D);
    Ops::hc_head(hp, Ops::ptr(X) + size_t(first) * n * D, R, Ops::w(m.head_fn), Ops::w(m.head_base), Ops::w(m.head_scale),
                 Ops::ptr(h));
    Ops::rms_norm_rows(Ops::ptr(h), R, D, Ops::w(m.out_norm), c.rms_eps);
    Ops::resize(logits, size_t(R) * c.vocab);
    Ops::linear(Ops::w(m.lm_head), c.vocab, D, Ops::ptr(h), R, Ops::ptr(logits));
}

} // namespace v4::deepseek4::steps
