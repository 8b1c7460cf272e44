// Every external name the model loader uses, in one place: architecture ids, GGUF metadata keys
// (the "%s" is the architecture) and tensor names (the "%d" is the block index). They follow
// llama.cpp's llama-arch.cpp so that files made by its converter load here.
#pragma once

#include <string>
#include <string_view>

namespace v4::detail {

enum class arch { llama, qwen2, qwen3, gemma3 };

struct arch_name {
    arch         id;
    const char * name;
};

inline constexpr arch_name k_arch_names[] = {
    {arch::llama, "llama"},
    {arch::qwen2, "qwen2"},
    {arch::qwen3, "qwen3"},
    {arch::gemma3, "gemma3"},
};
inline constexpr const char * k_supported_archs = "llama, qwen2, qwen3, gemma3";

namespace key {
inline constexpr const char * architecture = "general.architecture";
inline constexpr const char * name = "general.name";
// Per-architecture keys: prefix with "<arch>."
inline constexpr const char * context_length = "context_length";
inline constexpr const char * embedding_length = "embedding_length";
inline constexpr const char * block_count = "block_count";
inline constexpr const char * feed_forward_length = "feed_forward_length";
inline constexpr const char * head_count = "attention.head_count";
inline constexpr const char * head_count_kv = "attention.head_count_kv";
inline constexpr const char * key_length = "attention.key_length";
inline constexpr const char * value_length = "attention.value_length";
inline constexpr const char * rms_eps = "attention.layer_norm_rms_epsilon";
inline constexpr const char * sliding_window = "attention.sliding_window";
inline constexpr const char * rope_dimension_count = "rope.dimension_count";
inline constexpr const char * rope_freq_base = "rope.freq_base";
inline constexpr const char * rope_scaling_type = "rope.scaling.type";
inline constexpr const char * rope_scaling_factor = "rope.scaling.factor";
inline constexpr const char * vocab_size = "vocab_size";
inline constexpr const char * tokenizer_tokens = "tokenizer.ggml.tokens";
} // namespace key

namespace tensor {
inline constexpr const char * token_embd = "token_embd.weight";
inline constexpr const char * output_norm = "output_norm.weight";
inline constexpr const char * output = "output.weight";
inline constexpr const char * rope_freqs = "rope_freqs.weight";
inline constexpr const char * attn_norm = "blk.%d.attn_norm.weight";
inline constexpr const char * attn_q = "blk.%d.attn_q.weight";
inline constexpr const char * attn_k = "blk.%d.attn_k.weight";
inline constexpr const char * attn_v = "blk.%d.attn_v.weight";
inline constexpr const char * attn_q_bias = "blk.%d.attn_q.bias";
inline constexpr const char * attn_k_bias = "blk.%d.attn_k.bias";
inline constexpr const char * attn_v_bias = "blk.%d.attn_v.bias";
inline constexpr const char * attn_output = "blk.%d.attn_output.weight";
inline constexpr const char * attn_q_norm = "blk.%d.attn_q_norm.weight";
inline constexpr const char * attn_k_norm = "blk.%d.attn_k_norm.weight";
inline constexpr const char * attn_post_norm = "blk.%d.post_attention_norm.weight";
inline constexpr const char * ffn_norm = "blk.%d.ffn_norm.weight";
inline constexpr const char * ffn_gate = "blk.%d.ffn_gate.weight";
inline constexpr const char * ffn_up = "blk.%d.ffn_up.weight";
inline constexpr const char * ffn_down = "blk.%d.ffn_down.weight";
inline constexpr const char * ffn_post_norm = "blk.%d.post_ffw_norm.weight";
} // namespace tensor

// "blk.%d.attn_q.weight" with il = 3 -> "blk.3.attn_q.weight"
std::string tensor_name(const char * pattern, int il = -1);
// "<arch>.<suffix>"
std::string arch_key(std::string_view arch_name, const char * suffix);

} // namespace v4::detail
