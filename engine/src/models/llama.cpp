// Llama 2 / Llama 3 (and the shared pre-norm decoder qwen2 and qwen3 reuse).
//  - llama.cpp's converter permutes the rows of attn_q/attn_k so that the "normal" RoPE (rotating
//    adjacent pairs 2i, 2i+1) reproduces HF's rotate_half; qwen2/qwen3 are stored unpermuted and
//    use NEOX pairing (i, i + n_rot/2)
//  - Llama 3.1+ files carry rope_freqs.weight: per-frequency divisors (the "llama3" rope scaling)
//  - SwiGLU: down(silu(gate(x)) * up(x))
#include <cmath>

#include "models/model_impl.h"

namespace v4::detail {

void forward_llama_like(const model_impl & m, const forward_args & a) {
    const hparams & hp = m.hp;
    backend &       be = *a.be;
    const int       T = static_cast<int>(a.tokens.size());
    const size_t    n_embd = hp.n_embd;
    const int       head_dim = static_cast<int>(hp.head_dim);

    decoder_activations act(hp, a);
    float * const x = act.x, * const cur = act.cur, * const q = act.q, * const k = act.k, * const v = act.v;
    float * const attn = act.attn, * const o = act.o, * const gate = act.gate, * const up = act.up;
    const std::vector<int32_t> & pos = act.pos;
    rope_params rp;
    rp.kind = hp.rope;
    rp.n_rot = static_cast<int>(hp.n_rot);
    rp.freq_base = hp.rope_base;
    rp.freq_scale = hp.rope_scale;
    rp.freq_factors = m.rope_freqs.empty() ? nullptr : m.rope_freqs.data();
    const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));

    be.get_rows(m.tok_embd, a.tokens, x);

    for (uint32_t il = 0; il < hp.n_layer; ++il) {
        check_cancel(a);
        const layer & L = m.layers[il];

        // attention
        be.rms_norm(x, L.attn_norm.data(), T, n_embd, hp.rms_eps, cur);
        const matmul_target qkv[] = {{&L.wq, q}, {&L.wk, k}, {&L.wv, v}};
        be.matmul_shared_input(cur, T, qkv);
        if (!L.bq.empty()) { // qwen2
            add_bias(q, L.bq, T);
            add_bias(k, L.bk, T);
            add_bias(v, L.bv, T);
        }
        if (!L.q_norm.empty()) { // qwen3
            be.rms_norm(q, L.q_norm.data(), T * hp.n_head, head_dim, hp.rms_eps, q);
            be.rms_norm(k, L.k_norm.data(), T * hp.n_head_kv, head_dim, hp.rms_eps, k);
        }
        be.rope(q, T, hp.n_head, head_dim, pos.data(), rp);
        be.rope(k, T, hp.n_head_kv, head_dim, pos.data(), rp);
        store_kv(m, a, il, k, v);
        attend(m, a, il, q, attn, 0, scale);
        be.matmul(L.wo, attn, T, o);
        add_inplace(x, o, T * n_embd);

        // feed-forward (SwiGLU)
        be.rms_norm(x, L.ffn_norm.data(), T, n_embd, hp.rms_eps, cur);
        const matmul_target gate_up[] = {{&L.ffn_gate, gate}, {&L.ffn_up, up}};
        be.matmul_shared_input(cur, T, gate_up);
        be.glu(gate, up, T * hp.n_ff, glu_kind::silu);
        be.matmul(L.ffn_down, gate, T, o);
        add_inplace(x, o, T * n_embd);
    }
    check_cancel(a);
    compute_logits(m, a, x);
}

void load_llama(model_impl & m) {
    load_common_hparams(m);
    m.hp.rope = rope_kind::norm;
    load_common_tensors(m);
    m.rope_freqs = get_vector_opt(m, tensor::rope_freqs, m.hp.n_rot / 2);
    m.forward = forward_llama_like;
}

} // namespace v4::detail
