// DeepSeek-V4 in fp32: config.json + model.safetensors (Hugging Face names, as written by
// transformers' DeepseekV4ForCausalLM.save_pretrained) and a straightforward reference prefill.
// Clarity over speed: this is the oracle the quantised / GPU paths will be checked against.
//
//   d4_model m = d4_load("dir/");                   // throws v4::Error on a bad config or tensor
//   std::vector<float> logits = d4_forward(m, ids); // [T, vocab]
//   d4_state s = d4_new_state(m);                    // or chunk by chunk / token by token:
//   d4_eval(m, s, prompt); d4_eval(m, s, {next});    // carries window keys + compressor state
//
// Spec: shared/research/v4_architecture.md; reference: transformers 5.23
// models/deepseek_v4/modeling_deepseek_v4.py.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace v4::detail {
class thread_pool;
}

namespace v4::deepseek4 {

enum class d4_attn { sliding, csa, hca };  // compress ratio 0 / compress_rates[csa] / [hca]

// One RoPE table: pair i of the rope slice turns by pos * inv_freq[i]; cos and sin are scaled by
// attn_factor (YaRN's attention factor; V4 forces 1.0). "main" is plain RoPE (SWA-only layers);
// "compress" is YaRN in the release (CSA / HCA layers, their compressors and the indexer).
struct d4_rope {
    std::vector<float> inv_freq;  // [rope_dim / 2]
    float attn_factor = 1.0f;
};

struct d4_config {
    int vocab = 0, hidden = 0, n_layers = 0;
    int n_heads = 0, head_dim = 0, rope_dim = 0;  // rope on the trailing rope_dim channels of a head
    int q_lora_rank = 0, o_groups = 0, o_lora_rank = 0;
    int n_experts = 0, n_experts_used = 0, moe_ff = 0;
    float routed_scale = 1.0f, swiglu_limit = 0.0f;
    int sliding_window = 0, csa_ratio = 4, hca_ratio = 128;
    int index_heads = 0, index_head_dim = 0, index_topk = 0;
    int hc_mult = 0, hc_sinkhorn_iters = 0;
    float hc_eps = 1e-6f, rms_eps = 1e-6f;
    float rope_theta = 10000.0f, compress_rope_theta = 160000.0f;
    d4_rope rope_main, rope_compress;  // built from the above by d4_parse_config
    std::vector<d4_attn> attn_types;  // [n_layers]
    std::vector<bool> hash_moe;       // [n_layers]
};

// RoPE tables (float, as torch builds them).
d4_rope d4_rope_default(float base, int rope_dim);
d4_rope d4_rope_yarn(float base, int rope_dim, float factor, double original_max_pos, float beta_fast, float beta_slow,
                     bool truncate);

// Parses a transformers config.json (layer_types / mlp_layer_types, or the original checkpoint's
// compress_ratios / num_hash_layers). Throws format / unsupported with the offending key named.
d4_config d4_parse_config(const std::string & json_text, const std::string & what = "config.json");
// The checks every config source shares (heads vs groups, top-k, rope dims, schedule length...);
// throws format with `what` in front of the message.
void d4_check_config(const d4_config & c, const std::string & what);

struct d4_compressor {              // one of: the CSA / HCA compressor, or the CSA indexer's
    int dim = 0;                    // output entry width (head_dim, or index_head_dim)
    bool overlap = false;           // CSA: 2 series (Ca, Cb) over 2 windows; HCA: 1 series
    std::vector<float> kv_proj;     // [(overlap ? 2 : 1) * dim, hidden]
    std::vector<float> gate_proj;   // [(overlap ? 2 : 1) * dim, hidden]
    std::vector<float> pos_bias;    // [ratio, (overlap ? 2 : 1) * dim]
    std::vector<float> kv_norm;     // [dim]
};

struct d4_layer {
    // mHC: (2 + n) * n mixes from the n * hidden flattened streams
    std::vector<float> attn_hc_fn, attn_hc_base, attn_hc_scale;  // [(2+n)n, n*hidden], [(2+n)n], [3]
    std::vector<float> ffn_hc_fn, ffn_hc_base, ffn_hc_scale;
    std::vector<float> attn_norm, ffn_norm;                      // [hidden]
    // attention
    std::vector<float> q_a, q_a_norm, q_b;   // [q_lora, hidden], [q_lora], [heads*head_dim, q_lora]
    std::vector<float> kv, kv_norm;          // [head_dim, hidden], [head_dim]
    std::vector<float> o_a, o_b;             // [groups*o_lora, heads*head_dim/groups], [hidden, groups*o_lora]
    std::vector<float> sinks;                // [heads]
    d4_compressor comp;                      // CSA / HCA only
    d4_compressor index_comp;                // CSA only
    std::vector<float> index_q_b;            // [index_heads*index_head_dim, q_lora]
    std::vector<float> index_weights;        // [index_heads, hidden]
    // MoE
    std::vector<float> router;               // [experts, hidden]
    std::vector<float> router_bias;          // [experts] (learned routing only)
    std::vector<int64_t> tid2eid;            // [vocab, used] (hash routing only)
    std::vector<float> exp_gate_up;          // [experts, 2*moe_ff, hidden]
    std::vector<float> exp_down;             // [experts, hidden, moe_ff]
    std::vector<float> sh_gate, sh_up, sh_down;  // [moe_ff, hidden] x2, [hidden, moe_ff]
};

struct d4_model {
    d4_config cfg;
    std::vector<float> tok_embd;                   // [vocab, hidden]
    std::vector<d4_layer> layers;
    std::vector<float> head_fn, head_base, head_scale;  // [n, n*hidden], [n], [1]
    std::vector<float> out_norm;                   // [hidden]
    std::vector<float> lm_head;                    // [vocab, hidden]
};

// Per-sequence state (the model stays read-only). Shapes per layer; C = closed windows so far.
struct d4_comp_state {
    std::vector<float> buf_kv, buf_gate;    // [< ratio, width] projections of the open window's tokens
    std::vector<float> prev_kv, prev_gate;  // [ratio, width] last closed window (CSA: its Ca half feeds the next entry)
    std::vector<float> entries;             // [C, dim] compressed entries, normed and roped
    int n_entries = 0;
};

struct d4_layer_state {
    std::vector<float> kv_tail;  // [min(n_past, sliding_window - 1), head_dim] roped K=V rows, oldest first
    d4_comp_state comp;          // CSA / HCA compressor
    d4_comp_state index_comp;    // CSA indexer's compressor
};

struct d4_state {
    int n_past = 0;                     // tokens already evaluated (positions 0 .. n_past - 1)
    std::vector<d4_layer_state> layers; // [n_layers]
};

// Loads dir/config.json and dir/model.safetensors.
d4_model d4_load(const std::string & dir);
// Same from explicit paths (tests feed broken files this way).
d4_model d4_load(const std::string & config_path, const std::string & weights_path);

d4_state d4_new_state(const d4_model & m);

// Evaluates `tokens` at positions state.n_past .. and advances the state; returns logits
// [tokens.size(), vocab], or only the last row's [vocab] without all_logits. Any chunking gives the
// same logits as one prefill (up to fp32 rounding). With a pool, the matmuls (by output rows), the
// experts, the attention (by query) and the indexer (by query group) run on its threads; the result
// does not depend on the number of threads.
std::vector<float> d4_eval(const d4_model & m, d4_state & state, const std::vector<int32_t> & tokens,
                           bool all_logits = true, detail::thread_pool * pool = nullptr);

// Prefill over the whole sequence from position 0 with a fresh state; returns logits [T, vocab].
std::vector<float> d4_forward(const d4_model & m, const std::vector<int32_t> & tokens);

// Greedy continuation of n tokens (argmax, lowest id on ties).
// d4_greedy is stateless (one full prefill per token); d4_greedy_decode prefills once and then
// decodes one token per step with the carried state.
std::vector<int32_t> d4_greedy(const d4_model & m, std::vector<int32_t> tokens, int n);
std::vector<int32_t> d4_greedy_decode(const d4_model & m, const std::vector<int32_t> & prompt, int n);

} // namespace v4::deepseek4
