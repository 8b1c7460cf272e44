// DeepSeek-V4 device forward (see d4_cuda_forward.h). It follows engine d4_eval block by block (and
// tests/gpu/test_deepseek4_reference.cpp's forward made of the scalar references, which matches it):
// embedding -> n streams -> per layer { mHC collapse, RMSNorm, attention, mHC expand; the same for
// the MoE } -> hyper head -> RMSNorm -> lm_head. Everything runs on the legacy default stream, so
// kernels and device-to-device copies are ordered without events.
#include "backend/cuda/deepseek4/d4_cuda_forward.h"

#include "v4/error.h"

#if defined(V4_WITH_CUDA)

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>

#include "cuda/device.h"
#include "cuda/deepseek4/attention.h"
#include "cuda/deepseek4/compressor.h"
#include "cuda/deepseek4/indexer.h"
#include "cuda/deepseek4/mhc.h"
#include "cuda/deepseek4/moe.h"
#include "cuda/deepseek4/rows.h"

namespace v4::deepseek4 {

namespace kd = v4::kernels::cuda::d4;
namespace rd = v4::kernels::ref::d4;

namespace {

void check(cudaError_t err, const char * what) {
    if (err != cudaSuccess) {
        cudaGetLastError();
        throw Error(err == cudaErrorMemoryAllocation ? ErrorCode::out_of_memory : ErrorCode::internal,
                    std::string("deepseek4 CUDA: ") + what + ": " + cudaGetErrorString(err));
    }
}

void check(const std::string & err) {
    if (!err.empty()) throw Error(ErrorCode::internal, "deepseek4 CUDA: " + err);
}

// Device array of T. resize() discards the contents; grow() keeps them. Never null once sized (at
// least one element), so kernels that take "the entries so far" get a valid pointer before any exist.
template <typename T>
struct dvec {
    T * p = nullptr;
    size_t n = 0, cap = 0;
    dvec() = default;
    dvec(const dvec &) = delete;
    dvec & operator=(const dvec &) = delete;
    dvec(dvec && o) noexcept : p(o.p), n(o.n), cap(o.cap) { o.p = nullptr; o.n = o.cap = 0; }
    ~dvec() { cudaFree(p); }
    void reserve(size_t count, bool keep) {
        if (count <= cap && p) return;
        const size_t new_cap = std::max<size_t>({count, cap + cap / 2, 1});
        T * q = nullptr;
        check(cudaMalloc(&q, new_cap * sizeof(T)), "allocating device memory");
        if (keep && n) check(cudaMemcpy(q, p, n * sizeof(T), cudaMemcpyDeviceToDevice), "growing a device buffer");
        cudaFree(p);
        p = q;
        cap = new_cap;
    }
    void resize(size_t count) {
        reserve(count, false);
        n = count;
    }
    void grow(size_t count) {
        reserve(count, true);
        n = std::max(n, count);
    }
    void upload(const T * src, size_t count) {
        resize(count);
        if (count) check(cudaMemcpy(p, src, count * sizeof(T), cudaMemcpyHostToDevice), "uploading");
    }
    void upload(const std::vector<T> & v) { upload(v.data(), v.size()); }
};

void copy_d2d(float * dst, const float * src, size_t count) {
    if (count) check(cudaMemcpyAsync(dst, src, count * sizeof(float), cudaMemcpyDeviceToDevice, nullptr), "device copy");
}

} // namespace

struct d4_dev_compressor {
    int dim = 0;
    bool overlap = false;
    dvec<float> kv_proj, gate_proj, pos_bias, kv_norm;
};

struct d4_dev_layer {
    dvec<float> attn_hc_fn, attn_hc_base, attn_hc_scale, ffn_hc_fn, ffn_hc_base, ffn_hc_scale, attn_norm, ffn_norm;
    dvec<float> q_a, q_a_norm, q_b, kv, kv_norm, o_a, o_b, sinks;
    d4_dev_compressor comp, index_comp;
    dvec<float> index_q_b, index_weights;  // index_weights carry the 1 / sqrt(dim * heads) scale
    dvec<float> router, router_bias;
    dvec<int32_t> tid2eid;
    dvec<float> exp_gate_up, exp_down, sh_gate, sh_up, sh_down;
};

struct d4_cuda_model {
    d4_config cfg;
    uint64_t bytes = 0;
    dvec<float> tok_embd, head_fn, head_base, head_scale, out_norm, lm_head, rope_main, rope_compress;
    std::vector<d4_dev_layer> layers;
};

struct d4_dev_comp_state {
    dvec<float> buf_kv, buf_gate;    // [n_buf, width] the open window's projections
    dvec<float> prev_kv, prev_gate;  // [ratio, width] the last closed window (CSA)
    dvec<float> entries;             // [n_entries, dim]
    int n_buf = 0, n_entries = 0;
};

struct d4_dev_layer_state {
    dvec<float> tail;  // [n_tail, head_dim] the last sliding_window - 1 roped K=V rows
    int n_tail = 0;
    d4_dev_comp_state comp, index_comp;
};

struct d4_cuda_state_impl {
    const d4_cuda_model * model = nullptr;
    std::vector<d4_dev_layer_state> layers;
};

namespace {

rd::rope_table table(const dvec<float> & freq, const d4_rope & r) { return {freq.p, int(r.inv_freq.size()), r.attn_factor}; }

// y [T, out] = x [T, in] @ w^T, w fp32 [out, in] on the device.
void lin(const dvec<float> & w, int out, int in, const float * x, int T, float * y) {
    const rd::weight_view v{rd::wfmt::f32, w.p, nullptr, in, out, 0};
    check(kd::linear(v, x, T, out, y, nullptr));
}

// engine compress_append: projections of the chunk appended to the open window; closed windows
// pooled into entries; the last closed window kept (CSA) and the rest left open.
void compress_append(const d4_cuda_model & m, const d4_dev_compressor & comp, int ratio, const float * x, int S,
                     d4_dev_comp_state & st) {
    const d4_config & c = m.cfg;
    const int dim = comp.dim, width = (comp.overlap ? 2 : 1) * dim, rows = st.n_buf + S;
    dvec<float> kv, gate;
    kv.resize(size_t(rows) * width);
    gate.resize(size_t(rows) * width);
    copy_d2d(kv.p, st.buf_kv.p, size_t(st.n_buf) * width);
    copy_d2d(gate.p, st.buf_gate.p, size_t(st.n_buf) * width);
    lin(comp.kv_proj, width, c.hidden, x, S, kv.p + size_t(st.n_buf) * width);
    lin(comp.gate_proj, width, c.hidden, x, S, gate.p + size_t(st.n_buf) * width);
    const int n_close = rows / ratio;
    if (n_close > 0) {
        rd::compress_params p;
        p.ratio = ratio;
        p.dim = dim;
        p.overlap = comp.overlap;
        p.pos_bias = comp.pos_bias.p;
        p.kv_norm = comp.kv_norm.p;
        p.rms_eps = c.rms_eps;
        p.rope = table(m.rope_compress, c.rope_compress);
        st.entries.grow(size_t(st.n_entries + n_close) * dim);
        const bool prev = comp.overlap && st.n_entries > 0;
        check(kd::compress_windows(p, kv.p, gate.p, prev ? st.prev_kv.p : nullptr, prev ? st.prev_gate.p : nullptr, n_close,
                                   st.n_entries, st.entries.p + size_t(st.n_entries) * dim, nullptr));
        if (comp.overlap) {
            st.prev_kv.resize(size_t(ratio) * width);
            st.prev_gate.resize(size_t(ratio) * width);
            copy_d2d(st.prev_kv.p, kv.p + size_t(n_close - 1) * ratio * width, size_t(ratio) * width);
            copy_d2d(st.prev_gate.p, gate.p + size_t(n_close - 1) * ratio * width, size_t(ratio) * width);
        }
        st.n_entries += n_close;
    }
    const int left = rows - n_close * ratio;
    st.buf_kv.resize(size_t(left) * width);
    st.buf_gate.resize(size_t(left) * width);
    copy_d2d(st.buf_kv.p, kv.p + size_t(n_close) * ratio * width, size_t(left) * width);
    copy_d2d(st.buf_gate.p, gate.p + size_t(n_close) * ratio * width, size_t(left) * width);
    st.n_buf = left;
    check(cudaStreamSynchronize(nullptr), "compressor");  // kv / gate are freed on return
}

// engine attention(): x [S, D] -> out [S, D]
void attention(const d4_cuda_model & m, const d4_dev_layer & L, d4_attn type, const float * x, int S, int n_past,
               d4_dev_layer_state & st, float * y) {
    const d4_config & c = m.cfg;
    const int H = c.n_heads, hd = c.head_dim, D = c.hidden, QR = c.q_lora_rank;
    const rd::rope_table rope = type == d4_attn::sliding ? table(m.rope_main, c.rope_main) : table(m.rope_compress, c.rope_compress);
    dvec<float> q_res, q, keys, out, grouped;
    q_res.resize(size_t(S) * QR);
    lin(L.q_a, QR, D, x, S, q_res.p);
    check(kd::rms_norm_rows(q_res.p, S, QR, L.q_a_norm.p, c.rms_eps, nullptr));
    q.resize(size_t(S) * H * hd);
    lin(L.q_b, H * hd, QR, q_res.p, S, q.p);
    check(kd::rms_norm_rows(q.p, int64_t(S) * H, hd, nullptr, c.rms_eps, nullptr));
    const int n_keys_win = st.n_tail + S;
    keys.resize(size_t(n_keys_win) * hd);
    copy_d2d(keys.p, st.tail.p, size_t(st.n_tail) * hd);
    float * kv = keys.p + size_t(st.n_tail) * hd;
    lin(L.kv, hd, D, x, S, kv);
    check(kd::rms_norm_rows(kv, S, hd, L.kv_norm.p, c.rms_eps, nullptr));
    check(kd::rope_rows(q.p, S, H, hd, rope, n_past, 1.0f, nullptr));
    check(kd::rope_rows(kv, S, 1, hd, rope, n_past, 1.0f, nullptr));

    rd::attn_kv where;
    where.win = keys.p;
    where.win_base = n_past - st.n_tail;
    where.win_cap = n_keys_win;
    dvec<int32_t> sel, n_sel;
    dvec<float> iq, head_w, scores;
    if (type != d4_attn::sliding) {
        const int ratio = type == d4_attn::csa ? c.csa_ratio : c.hca_ratio;
        compress_append(m, L.comp, ratio, x, S, st.comp);
        st.comp.entries.grow(1);  // a valid pointer before the first window closes
        where.comp = st.comp.entries.p;
        if (type == d4_attn::hca) where.hca_ratio = c.hca_ratio;
    }
    if (type == d4_attn::csa) {  // lightning indexer
        const int IH = c.index_heads, idim = c.index_head_dim, K = c.index_topk;
        compress_append(m, L.index_comp, c.csa_ratio, x, S, st.index_comp);
        st.index_comp.entries.grow(1);
        iq.resize(size_t(S) * IH * idim);
        lin(L.index_q_b, IH * idim, QR, q_res.p, S, iq.p);
        check(kd::rope_rows(iq.p, S, IH, idim, table(m.rope_compress, c.rope_compress), n_past, 1.0f, nullptr));
        head_w.resize(size_t(S) * IH);
        lin(L.index_weights, IH, D, x, S, head_w.p);
        const int n_keys = st.index_comp.n_entries;
        scores.resize(std::max<size_t>(size_t(S) * n_keys, 1));
        check(kd::index_scores(st.index_comp.entries.p, n_keys, idim, iq.p, head_w.p, S, IH, scores.p, nullptr));
        sel.resize(size_t(S) * K);
        n_sel.resize(size_t(S));
        check(kd::top_k(scores.p, n_keys, S, n_past, c.csa_ratio, K, sel.p, n_sel.p, nullptr));
        where.sel = sel.p;
        where.n_sel = n_sel.p;
        where.sel_ld = K;
    }
    rd::attn_params ap;
    ap.H = H;
    ap.hd = hd;
    ap.window = c.sliding_window;
    ap.scale = 1.0f / std::sqrt(float(hd));
    ap.sinks = L.sinks.p;
    ap.rope = rope;
    out.resize(size_t(S) * H * hd);
    check(kd::sparse_attention(ap, where, q.p, S, n_past, out.p, nullptr));
    const int keep = std::min(n_keys_win, c.sliding_window - 1);
    st.tail.resize(size_t(keep) * hd);
    copy_d2d(st.tail.p, keys.p + size_t(n_keys_win - keep) * hd, size_t(keep) * hd);
    st.n_tail = keep;

    const int G = c.o_groups, R = c.o_lora_rank;
    grouped.resize(size_t(S) * G * R);
    check(kd::grouped_linear(out.p, S, G, H * hd / G, L.o_a.p, R, grouped.p, nullptr));
    lin(L.o_b, D, G * R, grouped.p, S, y);
    check(cudaStreamSynchronize(nullptr), "attention");  // scratch buffers are freed on return
}

// engine moe(): shared expert, then the routed experts accumulated in routing order.
void moe(const d4_cuda_model & m, const d4_dev_layer & L, bool hashed, const float * x, const int32_t * tokens, int T,
         float * y) {
    const d4_config & c = m.cfg;
    const int D = c.hidden, E = c.n_experts, K = c.n_experts_used, F = c.moe_ff;
    dvec<float> logits, weights, h;
    dvec<int32_t> ids;
    logits.resize(size_t(T) * E);
    lin(L.router, E, D, x, T, logits.p);
    ids.resize(size_t(T) * K);
    weights.resize(size_t(T) * K);
    check(kd::route(logits.p, T, E, K, hashed ? nullptr : L.router_bias.p, L.tid2eid.p, tokens, c.routed_scale, ids.p,
                    weights.p, nullptr));
    h.resize(size_t(T) * K * F);
    const rd::weight_view sh_gate{rd::wfmt::f32, L.sh_gate.p, nullptr, D, F, 0};
    const rd::weight_view sh_up{rd::wfmt::f32, L.sh_up.p, nullptr, D, F, 0};
    const rd::weight_view sh_down{rd::wfmt::f32, L.sh_down.p, nullptr, F, D, 0};
    check(kd::expert_gate_up(sh_gate, sh_up, x, T, nullptr, 1, F, c.swiglu_limit, h.p, nullptr));
    check(kd::expert_down(sh_down, h.p, T, nullptr, nullptr, 1, D, F, false, y, nullptr));
    const rd::weight_view gate{rd::wfmt::f32, L.exp_gate_up.p, nullptr, D, 2 * F, 0};
    const rd::weight_view up{rd::wfmt::f32, L.exp_gate_up.p, nullptr, D, 2 * F, F};
    const rd::weight_view down{rd::wfmt::f32, L.exp_down.p, nullptr, F, D, 0};
    check(kd::expert_gate_up(gate, up, x, T, ids.p, K, F, c.swiglu_limit, h.p, nullptr));
    check(kd::expert_down(down, h.p, T, ids.p, weights.p, K, D, F, true, y, nullptr));
    check(cudaStreamSynchronize(nullptr), "moe");
}

void up(dvec<float> & d, const std::vector<float> & h, uint64_t & bytes) {
    d.upload(h);
    bytes += h.size() * sizeof(float);
}

} // namespace

std::string d4_cuda_unavailable_reason() {
    const v4::kernels::cuda::device_probe probe = v4::kernels::cuda::probe_devices();
    return probe.device_count > 0 ? std::string() : "no CUDA device: " + probe.unavailable_reason;
}

std::shared_ptr<const d4_cuda_model> d4_cuda_upload(const d4_model & m) {
    if (const std::string why = d4_cuda_unavailable_reason(); !why.empty()) throw Error(ErrorCode::unsupported, why);
    const d4_config & c = m.cfg;
    if (c.hc_mult > kd::max_hc_streams) throw Error(ErrorCode::unsupported, "deepseek4 CUDA: more than 8 mHC streams");
    if (c.head_dim > kd::max_attn_head_dim) throw Error(ErrorCode::unsupported, "deepseek4 CUDA: head_dim above 512");
    if (c.n_experts > kd::max_router_experts) throw Error(ErrorCode::unsupported, "deepseek4 CUDA: more than 1024 experts");
    auto d = std::make_shared<d4_cuda_model>();
    d->cfg = c;
    uint64_t & b = d->bytes;
    up(d->tok_embd, m.tok_embd, b);
    up(d->head_fn, m.head_fn, b);
    up(d->head_base, m.head_base, b);
    up(d->head_scale, m.head_scale, b);
    up(d->out_norm, m.out_norm, b);
    up(d->lm_head, m.lm_head, b);
    up(d->rope_main, c.rope_main.inv_freq, b);
    up(d->rope_compress, c.rope_compress.inv_freq, b);
    for (const d4_layer & L : m.layers) {
        d4_dev_layer & o = d->layers.emplace_back();
        for (auto [dst, src] : {std::pair{&o.attn_hc_fn, &L.attn_hc_fn}, {&o.attn_hc_base, &L.attn_hc_base},
                                {&o.attn_hc_scale, &L.attn_hc_scale}, {&o.ffn_hc_fn, &L.ffn_hc_fn},
                                {&o.ffn_hc_base, &L.ffn_hc_base}, {&o.ffn_hc_scale, &L.ffn_hc_scale},
                                {&o.attn_norm, &L.attn_norm}, {&o.ffn_norm, &L.ffn_norm}, {&o.q_a, &L.q_a},
                                {&o.q_a_norm, &L.q_a_norm}, {&o.q_b, &L.q_b}, {&o.kv, &L.kv}, {&o.kv_norm, &L.kv_norm},
                                {&o.o_a, &L.o_a}, {&o.o_b, &L.o_b}, {&o.sinks, &L.sinks}, {&o.index_q_b, &L.index_q_b},
                                {&o.router, &L.router}, {&o.router_bias, &L.router_bias},
                                {&o.exp_gate_up, &L.exp_gate_up}, {&o.exp_down, &L.exp_down}, {&o.sh_gate, &L.sh_gate},
                                {&o.sh_up, &L.sh_up}, {&o.sh_down, &L.sh_down}}) {
            up(*dst, *src, b);
        }
        for (auto [dst, src] : {std::pair{&o.comp, &L.comp}, {&o.index_comp, &L.index_comp}}) {
            dst->dim = src->dim;
            dst->overlap = src->overlap;
            up(dst->kv_proj, src->kv_proj, b);
            up(dst->gate_proj, src->gate_proj, b);
            up(dst->pos_bias, src->pos_bias, b);
            up(dst->kv_norm, src->kv_norm, b);
        }
        // The engine scales the indexer's head weights after the projection; folded in here (one rounding).
        std::vector<float> iw = L.index_weights;
        const float scale = (1.0f / std::sqrt(float(c.index_head_dim))) * (1.0f / std::sqrt(float(std::max(c.index_heads, 1))));
        for (float & w : iw) w *= scale;
        up(o.index_weights, iw, b);
        std::vector<int32_t> table(L.tid2eid.size());
        for (size_t i = 0; i < table.size(); i++) {
            if (L.tid2eid[i] < 0 || L.tid2eid[i] >= c.n_experts) {
                throw Error(ErrorCode::format, "deepseek4 CUDA: tid2eid names expert " + std::to_string(L.tid2eid[i]) +
                                                   " of " + std::to_string(c.n_experts));
            }
            table[i] = int32_t(L.tid2eid[i]);
        }
        o.tid2eid.upload(table);
        b += table.size() * sizeof(int32_t);
    }
    return d;
}

d4_cuda_state d4_cuda_new_state(const d4_cuda_model & m) {
    d4_cuda_state s;
    s.impl = std::make_shared<d4_cuda_state_impl>();
    s.impl->model = &m;
    s.impl->layers.resize(m.layers.size());
    return s;
}

uint64_t d4_cuda_weight_bytes(const d4_cuda_model & m) { return m.bytes; }

std::vector<float> d4_cuda_eval(const d4_cuda_model & m, d4_cuda_state & state, const std::vector<int32_t> & tokens,
                                bool all_logits) {
    const d4_config & c = m.cfg;
    const int S = int(tokens.size()), D = c.hidden, n = c.hc_mult;
    if (S == 0) throw Error(ErrorCode::invalid_argument, "deepseek4: empty token sequence");
    if (!state.impl || state.impl->model != &m) throw Error(ErrorCode::invalid_argument, "deepseek4: state was made for another model");
    for (int32_t id : tokens) {
        if (id < 0 || id >= c.vocab) throw Error(ErrorCode::invalid_argument, "deepseek4: token id " + std::to_string(id) + " outside vocab");
    }
    const rd::hc_params hp{n, D, c.hc_sinkhorn_iters, c.rms_eps, c.hc_eps};
    dvec<int32_t> tok;
    tok.upload(tokens);
    dvec<float> X, in, post, comb, block_out;
    X.resize(size_t(S) * n * D);
    in.resize(size_t(S) * D);
    post.resize(size_t(S) * n);
    comb.resize(size_t(S) * n * n);
    block_out.resize(size_t(S) * D);
    check(kd::embed_streams(m.tok_embd.p, tok.p, S, n, D, X.p, nullptr));
    for (int il = 0; il < c.n_layers; il++) {
        const d4_dev_layer & L = m.layers[size_t(il)];
        check(kd::hc_collapse(hp, X.p, S, L.attn_hc_fn.p, L.attn_hc_base.p, L.attn_hc_scale.p, in.p, post.p, comb.p, nullptr));
        check(kd::rms_norm_rows(in.p, S, D, L.attn_norm.p, c.rms_eps, nullptr));
        attention(m, L, c.attn_types[size_t(il)], in.p, S, state.n_past, state.impl->layers[size_t(il)], block_out.p);
        check(kd::hc_expand(hp, X.p, S, block_out.p, post.p, comb.p, nullptr));
        check(kd::hc_collapse(hp, X.p, S, L.ffn_hc_fn.p, L.ffn_hc_base.p, L.ffn_hc_scale.p, in.p, post.p, comb.p, nullptr));
        check(kd::rms_norm_rows(in.p, S, D, L.ffn_norm.p, c.rms_eps, nullptr));
        moe(m, L, c.hash_moe[size_t(il)], in.p, tok.p, S, block_out.p);
        check(kd::hc_expand(hp, X.p, S, block_out.p, post.p, comb.p, nullptr));
    }
    state.n_past += S;
    const int first = all_logits ? 0 : S - 1, R = S - first;
    dvec<float> h, logits;
    h.resize(size_t(R) * D);
    check(kd::hc_head(hp, X.p + size_t(first) * n * D, R, m.head_fn.p, m.head_base.p, m.head_scale.p, h.p, nullptr));
    check(kd::rms_norm_rows(h.p, R, D, m.out_norm.p, c.rms_eps, nullptr));
    logits.resize(size_t(R) * c.vocab);
    lin(m.lm_head, c.vocab, D, h.p, R, logits.p);
    std::vector<float> out(logits.n);
    check(cudaMemcpy(out.data(), logits.p, out.size() * sizeof(float), cudaMemcpyDeviceToHost), "logits");
    return out;
}

} // namespace v4::deepseek4

#else  // no CUDA in this build

namespace v4::deepseek4 {

struct d4_cuda_model {};
struct d4_cuda_state_impl {};

namespace {
[[noreturn]] void no_cuda() { throw Error(ErrorCode::unsupported, d4_cuda_unavailable_reason()); }
} // namespace

std::string d4_cuda_unavailable_reason() { return "this build has no CUDA (nvcc was not found at configure time)"; }
std::shared_ptr<const d4_cuda_model> d4_cuda_upload(const d4_model &) { no_cuda(); }
d4_cuda_state d4_cuda_new_state(const d4_cuda_model &) { no_cuda(); }
std::vector<float> d4_cuda_eval(const d4_cuda_model &, d4_cuda_state &, const std::vector<int32_t> &, bool) { no_cuda(); }
uint64_t d4_cuda_weight_bytes(const d4_cuda_model &) { return 0; }

} // namespace v4::deepseek4

#endif
