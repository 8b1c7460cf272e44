// Qwen3 (dense): the llama decoder with per-head RMSNorm on q and k before RoPE (no biases),
// NEOX RoPE, head_dim from attention.key_length (128, independent of n_embd / n_head).
#include "models/model_impl.h"

namespace v4::detail {

void load_qwen3(model_impl & m) {
    load_common_hparams(m);
    m.hp.rope = rope_kind::neox;
    m.hp.rms_eps = get_arch_f32_or(m, key::rms_eps, 1e-6f);
    load_common_tensors(m);
    for (uint32_t i = 0; i < m.hp.n_layer; ++i) {
        const int il = static_cast<int>(i);
        layer &   L = m.layers[i];
        L.q_norm = get_vector(m, tensor_name(tensor::attn_q_norm, il), m.hp.head_dim);
        L.k_norm = get_vector(m, tensor_name(tensor::attn_k_norm, il), m.hp.head_dim);
    }
    m.forward = forward_llama_like;
}

} // namespace v4::detail
