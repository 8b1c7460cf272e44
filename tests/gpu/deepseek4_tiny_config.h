// A DeepSeek-V4 config small enough for a test yet taking every path; shared by the reference test
// and the CUDA forward test.
#pragma once

#include "models/deepseek4/deepseek4.h"

// Small enough to run in a second, big enough that every path is taken: windows close mid-chunk,
// the indexer has more entries than top-k, the sliding window is shorter than the sequence, the
// clamp of SwiGLU bites, an odd number of mHC streams.
inline v4::deepseek4::d4_config d4_tiny_config() {
    v4::deepseek4::d4_config c;
    c.vocab = 97;
    c.hidden = 32;
    c.n_layers = 4;
    c.n_heads = 4;
    c.head_dim = 16;
    c.rope_dim = 8;
    c.q_lora_rank = 24;
    c.o_groups = 2;
    c.o_lora_rank = 8;
    c.n_experts = 8;
    c.n_experts_used = 3;
    c.moe_ff = 16;
    c.routed_scale = 1.5f;
    c.swiglu_limit = 1.0f;
    c.sliding_window = 6;
    c.csa_ratio = 4;
    c.hca_ratio = 8;
    c.index_heads = 2;
    c.index_head_dim = 8;
    c.index_topk = 3;
    c.hc_mult = 3;
    c.hc_sinkhorn_iters = 20;
    c.rope_main = v4::deepseek4::d4_rope_default(c.rope_theta, c.rope_dim);
    c.rope_compress = v4::deepseek4::d4_rope_yarn(c.compress_rope_theta, c.rope_dim, 16.0f, 65536.0, 32.0f, 1.0f, true);
    c.attn_types = {v4::deepseek4::d4_attn::sliding, v4::deepseek4::d4_attn::csa, v4::deepseek4::d4_attn::hca, v4::deepseek4::d4_attn::csa};
    c.hash_moe = {true, true, false, false};
    return c;
}
