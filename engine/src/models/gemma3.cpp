// Gemma 3 (text): checked against transformers' models/gemma3/modeling_gemma3.py.
//  - embeddings scaled by sqrt(n_embd)
//  - RMSNorm is x/rms * (1 + w) in HF; llama.cpp's converter stores (1 + w) in the GGUF (transformers'
//    GGUF loader subtracts 1 again), so here it is the plain x/rms * w
//  - per-head RMSNorm on q and k (QK-norm), before RoPE (NEOX pairing)
//  - four norms per block: attn_norm, post_attention_norm, ffn_norm (pre), post_ffw_norm
//  - GeGLU: down(gelu_tanh(gate(x)) * up(x))
//  - layer il is global when il % 6 == 5 (rope base from the file, 1e6), else local: sliding window
//    (key seen when pos - key_pos < window) with rope base 10000
//  - attention scale 1/sqrt(query_pre_attn_scalar); llama.cpp and HF both use head_dim for the
//    sizes whose query_pre_attn_scalar equals head_dim (270M, 1B, 4B, 12B); 27B uses n_embd/n_head
//  - no attention or final logit soft-capping in Gemma 3
#include <cmath>

#include "models/model_impl.h"

namespace v4::detail {

namespace {

void forward_gemma3(const model_impl & m, const forward_args & a) {
    const hparams & hp = m.hp;
    backend &       be = *a.be;
    const int       T = static_cast<int>(a.tokens.size());
    const size_t    n_embd = hp.n_embd;
    const int       head_dim = static_cast<int>(hp.head_dim);

    decoder_activations act(hp, a);
    float * const x = act.x, * const cur = act.cur, * const q = act.q, * const k = act.k, * const v = act.v;
    float * const attn = act.attn, * const o = act.o, * const gate = act.gate, * const up = act.up;
    const std::vector<int32_t> & pos = act.pos;

    be.get_rows(m.tok_embd, a.tokens, x);
    const float embd_scale = std::sqrt(static_cast<float>(n_embd));
    for (size_t i = 0; i < T * n_embd; ++i) {
        x[i] *= embd_scale;
    }

    for (uint32_t il = 0; il < hp.n_layer; ++il) {
        check_cancel(a);
        const layer & L = m.layers[il];
        const bool    local = hp.is_local(il);

        // attention
        be.rms_norm(x, L.attn_norm.data(), T, n_embd, hp.rms_eps, cur);
        const matmul_target qkv[] = {{&L.wq, q}, {&L.wk, k}, {&L.wv, v}};
        be.matmul_shared_input(cur, T, qkv);
        be.rms_norm(q, L.q_norm.data(), T * hp.n_head, head_dim, hp.rms_eps, q);
        be.rms_norm(k, L.k_norm.data(), T * hp.n_head_kv, head_dim, hp.rms_eps, k);
        rope_params rp;
        rp.kind = rope_kind::neox;
        rp.n_rot = static_cast<int>(hp.n_rot);
        rp.freq_base = local ? hp.rope_base_local : hp.rope_base;
        rp.freq_scale = local ? 1.0f : hp.rope_scale;
        be.rope(q, T, hp.n_head, head_dim, pos.data(), rp);
        be.rope(k, T, hp.n_head_kv, head_dim, pos.data(), rp);
        store_kv(m, a, il, k, v);
        attend(m, a, il, q, attn, local ? static_cast<int>(hp.sliding_window) : 0, hp.attn_scale);
        be.matmul(L.wo, attn, T, o);
        be.rms_norm(o, L.attn_post_norm.data(), T, n_embd, hp.rms_eps, o);
        add_inplace(x, o, T * n_embd);

        // feed-forward (GeGLU)
        be.rms_norm(x, L.ffn_norm.data(), T, n_embd, hp.rms_eps, cur);
        const matmul_target gate_up[] = {{&L.ffn_gate, gate}, {&L.ffn_up, up}};
        be.matmul_shared_input(cur, T, gate_up);
        be.glu(gate, up, T * hp.n_ff, glu_kind::gelu_tanh);
        be.matmul(L.ffn_down, gate, T, o);
        be.rms_norm(o, L.ffn_post_norm.data(), T, n_embd, hp.rms_eps, o);
        add_inplace(x, o, T * n_embd);
    }
    check_cancel(a);
    compute_logits(m, a, x);
}

} // namespace

void load_gemma3(model_impl & m) {
    load_common_hparams(m);
    hparams & hp = m.hp;
    hp.rope = rope_kind::neox;
    hp.embd_scale = true;
    hp.rms_eps = get_arch_f32_or(m, key::rms_eps, 1e-6f);
    hp.sliding_window = get_arch_u32_or(m, key::sliding_window, 4096);
    hp.swa_pattern = 6;
    hp.rope_base_local = 10000.0f;
    // query_pre_attn_scalar is not in the GGUF; llama.cpp derives it the same way: 27B (62 layers)
    // uses n_embd / n_head, every other size head_dim.
    const float qpas = hp.n_layer == 62 ? static_cast<float>(hp.n_embd / hp.n_head) : static_cast<float>(hp.head_dim);
    hp.attn_scale = 1.0f / std::sqrt(qpas);

    load_common_tensors(m);
    for (uint32_t i = 0; i < hp.n_layer; ++i) {
        const int il = static_cast<int>(i);
        layer &   L = m.layers[i];
        L.q_norm = get_vector(m, tensor_name(tensor::attn_q_norm, il), hp.head_dim);
        L.k_norm = get_vector(m, tensor_name(tensor::attn_k_norm, il), hp.head_dim);
        L.attn_post_norm = get_vector(m, tensor_name(tensor::attn_post_norm, il), hp.n_embd);
        L.ffn_post_norm = get_vector(m, tensor_name(tensor::ffn_post_norm, il), hp.n_embd);
    }
    m.forward = forward_gemma3;
}

} // namespace v4::detail
