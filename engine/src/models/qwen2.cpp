// Qwen2 / Qwen2.5: the llama decoder with biases on q, k and v, NEOX RoPE, often tied embeddings.
#include "models/model_impl.h"

namespace v4::detail {

void load_qwen2(model_impl & m) {
    load_common_hparams(m);
    m.hp.rope = rope_kind::neox;
    m.hp.rms_eps = get_arch_f32_or(m, key::rms_eps, 1e-6f);
    load_common_tensors(m);
    for (uint32_t i = 0; i < m.hp.n_layer; ++i) {
        const int il = static_cast<int>(i);
        layer &   L = m.layers[i];
        L.bq = get_vector(m, tensor_name(tensor::attn_q_bias, il), m.hp.q_dim());
        L.bk = get_vector(m, tensor_name(tensor::attn_k_bias, il), m.hp.kv_dim());
        L.bv = get_vector(m, tensor_name(tensor::attn_v_bias, il), m.hp.kv_dim());
    }
    m.forward = forward_llama_like;
}

} // namespace v4::detail
