// Pieces every family's forward shares: cancellation, the KV cache write (f32 rows, rounded to f16
// for an f16 cache), attention over a layer's cache, residual adds, and the final norm + output
// projection.
#include <cstring>

#include "cpu/attention.h"
#include "models/model_impl.h"
#include "v4/error.h"

namespace v4::detail {

void check_cancel(const forward_args & a) {
    if (a.cancel != nullptr && a.cancel->load(std::memory_order_relaxed)) {
        throw Error(ErrorCode::cancelled, "evaluation cancelled");
    }
}

// Byte offset of layer il's row at position pos.
static size_t cache_offset(const model_impl & m, const forward_args & a, int il, int pos) {
    const size_t rows = static_cast<size_t>(il) * static_cast<size_t>(a.n_ctx) + static_cast<size_t>(pos);
    return rows * m.hp.kv_dim() * kv_cache_elem_bytes(a.kv_type);
}

void store_kv(const model_impl & m, const forward_args & a, int il, const float * k, const float * v) {
    const size_t off = cache_offset(m, a, il, a.pos0);
    const size_t n = a.tokens.size() * m.hp.kv_dim();
    uint8_t *    kc = static_cast<uint8_t *>(a.k_cache) + off;
    uint8_t *    vc = static_cast<uint8_t *>(a.v_cache) + off;
    if (a.kv_type == dtype::f16) {
        kernels::cpu::kv_from_f32(k, reinterpret_cast<uint16_t *>(kc), n);
        kernels::cpu::kv_from_f32(v, reinterpret_cast<uint16_t *>(vc), n);
    } else {
        std::memcpy(kc, k, n * sizeof(float));
        std::memcpy(vc, v, n * sizeof(float));
    }
}

void attend(const model_impl & m, const forward_args & a, int il, const float * q, float * out, int window,
            float scale) {
    const hparams & hp = m.hp;
    attention_args  args;
    args.q = q;
    args.k_cache = static_cast<const uint8_t *>(a.k_cache) + cache_offset(m, a, il, 0);
    args.v_cache = static_cast<const uint8_t *>(a.v_cache) + cache_offset(m, a, il, 0);
    args.kv_type = a.kv_type;
    args.out = out;
    args.n_tokens = static_cast<int>(a.tokens.size());
    args.pos0 = a.pos0;
    args.n_head = static_cast<int>(hp.n_head);
    args.n_head_kv = static_cast<int>(hp.n_head_kv);
    args.head_dim = static_cast<int>(hp.head_dim);
    args.kv_stride = static_cast<int>(hp.kv_dim());
    args.window = window;
    args.scale = scale;
    a.be->attention(args);
}

void add_inplace(float * x, const float * y, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        x[i] += y[i];
    }
}

void add_bias(float * x, const std::vector<float> & b, int n_rows) {
    const size_t n = b.size();
    for (int r = 0; r < n_rows; ++r) {
        add_inplace(x + static_cast<size_t>(r) * n, b.data(), n);
    }
}

void compute_logits(const model_impl & m, const forward_args & a, const float * x) {
    const int    n_tokens = static_cast<int>(a.tokens.size());
    const int    n_out = a.all_logits ? n_tokens : 1;
    const size_t n_embd = m.hp.n_embd;
    const float * rows = x + static_cast<size_t>(n_tokens - n_out) * n_embd; // [n_out][n_embd]
    std::vector<float> normed(static_cast<size_t>(n_out) * n_embd);
    a.be->rms_norm(rows, m.output_norm.data(), n_out, static_cast<int>(n_embd), m.hp.rms_eps, normed.data());
    a.be->matmul(m.output, normed.data(), n_out, a.logits); // [n_out][n_vocab]
}

decoder_activations::decoder_activations(const hparams & hp, const forward_args & a) {
    const size_t  T = a.tokens.size();
    scratch_arena s(a);
    x    = s.take(T * hp.n_embd);
    cur  = s.take(T * hp.n_embd);
    q    = s.take(T * hp.q_dim());
    k    = s.take(T * hp.kv_dim());
    v    = s.take(T * hp.kv_dim());
    attn = s.take(T * hp.q_dim());
    o    = s.take(T * hp.n_embd);
    gate = s.take(T * hp.n_ff);
    up   = s.take(T * hp.n_ff);
    pos.resize(T);
    for (size_t t = 0; t < T; ++t) {
        pos[t] = a.pos0 + static_cast<int32_t>(t);
    }
}

} // namespace v4::detail
