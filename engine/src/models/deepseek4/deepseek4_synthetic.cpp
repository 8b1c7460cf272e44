// Random V4-shaped model (see deepseek4_synthetic.h).
#include "models/deepseek4/deepseek4_synthetic.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace v4::deepseek4 {

d4_config d4_synthetic_config() {
    d4_config c;
    c.vocab = 32000;
    c.hidden = 256;
    c.n_layers = 4;
    c.n_heads = 4;
    c.head_dim = 64;
    c.rope_dim = 16;
    c.q_lora_rank = 128;
    c.o_groups = 2;
    c.o_lora_rank = 64;
    c.n_experts = 16;
    c.n_experts_used = 2;
    c.moe_ff = 512;
    c.routed_scale = 1.5f;
    c.swiglu_limit = 10.0f;
    c.sliding_window = 128;
    c.index_heads = 2;
    c.index_head_dim = 32;
    c.index_topk = 64;
    c.hc_mult = 4;
    c.hc_sinkhorn_iters = 20;
    c.rope_main = d4_rope_default(c.rope_theta, c.rope_dim);
    c.rope_compress = d4_rope_yarn(c.compress_rope_theta, c.rope_dim, 16.0f, 65536.0, 32.0f, 1.0f, true);
    c.attn_types = {d4_attn::sliding, d4_attn::csa, d4_attn::hca, d4_attn::hca};
    c.hash_moe = {true, true, false, false};
    return c;
}

namespace {

struct filler {
    std::mt19937_64 rng;
    std::vector<float> normal(size_t n, float stddev) {
        std::normal_distribution<float> dist(0.0f, stddev);
        std::vector<float> v(n);
        for (float & x : v) x = dist(rng);
        return v;
    }
    std::vector<float> matrix(int64_t out, int64_t in) { return normal(size_t(out * in), 1.0f / std::sqrt(float(in))); }
};

} // namespace

d4_model d4_synthetic_model(const d4_config & c, uint64_t seed) {
    filler f{std::mt19937_64(seed)};
    d4_model m;
    m.cfg = c;
    const int64_t D = c.hidden, n = c.hc_mult, n_mix = (2 + n) * n, HD = int64_t(c.n_heads) * c.head_dim;
    m.tok_embd = f.normal(size_t(c.vocab * D), 1.0f);
    m.lm_head = f.matrix(c.vocab, D);
    m.out_norm.assign(size_t(D), 1.0f);
    m.head_fn = f.matrix(n, n * D);
    m.head_base = f.normal(size_t(n), 0.1f);
    m.head_scale = {0.5f};
    auto compressor = [&](int dim, bool overlap, int ratio) {
        d4_compressor comp;
        comp.dim = dim;
        comp.overlap = overlap;
        const int64_t w = (overlap ? 2 : 1) * int64_t(dim);
        comp.kv_proj = f.matrix(w, D);
        comp.gate_proj = f.matrix(w, D);
        comp.pos_bias = f.normal(size_t(ratio * w), 0.1f);
        comp.kv_norm.assign(size_t(dim), 1.0f);
        return comp;
    };
    for (int il = 0; il < c.n_layers; il++) {
        d4_layer L;
        for (auto * site : {&L.attn_hc_fn, &L.ffn_hc_fn}) *site = f.matrix(n_mix, n * D);
        L.attn_hc_base = f.normal(size_t(n_mix), 0.1f);
        L.ffn_hc_base = f.normal(size_t(n_mix), 0.1f);
        L.attn_hc_scale = {0.5f, 0.5f, 0.5f};
        L.ffn_hc_scale = {0.5f, 0.5f, 0.5f};
        L.attn_norm.assign(size_t(D), 1.0f);
        L.ffn_norm.assign(size_t(D), 1.0f);
        L.q_a = f.matrix(c.q_lora_rank, D);
        L.q_a_norm.assign(size_t(c.q_lora_rank), 1.0f);
        L.q_b = f.matrix(HD, c.q_lora_rank);
        L.kv = f.matrix(c.head_dim, D);
        L.kv_norm.assign(size_t(c.head_dim), 1.0f);
        L.o_a = f.matrix(int64_t(c.o_groups) * c.o_lora_rank, HD / c.o_groups);
        L.o_b = f.matrix(D, int64_t(c.o_groups) * c.o_lora_rank);
        L.sinks = f.normal(size_t(c.n_heads), 1.0f);
        const d4_attn type = c.attn_types[size_t(il)];
        if (type == d4_attn::csa) {
            L.comp = compressor(c.head_dim, true, c.csa_ratio);
            L.index_comp = compressor(c.index_head_dim, true, c.csa_ratio);
            L.index_q_b = f.matrix(int64_t(c.index_heads) * c.index_head_dim, c.q_lora_rank);
            L.index_weights = f.matrix(c.index_heads, D);
        } else if (type == d4_attn::hca) {
            L.comp = compressor(c.head_dim, false, c.hca_ratio);
        }
        L.router = f.matrix(c.n_experts, D);
        if (c.hash_moe[size_t(il)]) {
            std::vector<int> experts(size_t(c.n_experts));
            for (int v = 0; v < c.vocab; v++) {
                std::iota(experts.begin(), experts.end(), 0);
                std::shuffle(experts.begin(), experts.end(), f.rng);
                L.tid2eid.insert(L.tid2eid.end(), experts.begin(), experts.begin() + c.n_experts_used);
            }
        } else {
            L.router_bias = f.normal(size_t(c.n_experts), 0.01f);
        }
        L.exp_gate_up = f.normal(size_t(c.n_experts) * 2 * c.moe_ff * D, 1.0f / std::sqrt(float(D)));
        L.exp_down = f.normal(size_t(c.n_experts) * D * c.moe_ff, 1.0f / std::sqrt(float(c.moe_ff)));
        L.sh_gate = f.matrix(c.moe_ff, D);
        L.sh_up = f.matrix(c.moe_ff, D);
        L.sh_down = f.matrix(D, c.moe_ff);
        m.layers.push_back(std::move(L));
    }
    return m;
}

d4_param_count d4_count_params(const d4_model & m) {
    const d4_config & c = m.cfg;
    d4_param_count p;
    auto both = [&](size_t n) { p.total += n; p.activated += n; };
    p.total += m.tok_embd.size();
    p.activated += size_t(c.hidden);  // one embedding row
    both(m.lm_head.size() + m.out_norm.size() + m.head_fn.size() + m.head_base.size() + m.head_scale.size());
    for (const d4_layer & L : m.layers) {
        for (const std::vector<float> * v :
             {&L.attn_hc_fn, &L.attn_hc_base, &L.attn_hc_scale, &L.ffn_hc_fn, &L.ffn_hc_base, &L.ffn_hc_scale,
              &L.attn_norm, &L.ffn_norm, &L.q_a, &L.q_a_norm, &L.q_b, &L.kv, &L.kv_norm, &L.o_a, &L.o_b, &L.sinks,
              &L.comp.kv_proj, &L.comp.gate_proj, &L.comp.pos_bias, &L.comp.kv_norm, &L.index_comp.kv_proj,
              &L.index_comp.gate_proj, &L.index_comp.pos_bias, &L.index_comp.kv_norm, &L.index_q_b,
              &L.index_weights, &L.router, &L.router_bias, &L.sh_gate, &L.sh_up, &L.sh_down}) {
            both(v->size());
        }
        // tid2eid is a fixed lookup table, not a parameter.
        const size_t experts = L.exp_gate_up.size() + L.exp_down.size();
        p.total += experts;
        p.activated += experts / size_t(c.n_experts) * size_t(c.n_experts_used);
    }
    return p;
}

} // namespace v4::deepseek4
