// Descriptions of a DeepSeek-V4 model (see deepseek4_info.h).
#include "models/deepseek4/deepseek4_info.h"

#include <algorithm>
#include <cstdio>

#include "models/deepseek4/deepseek4_synthetic.h"

namespace v4::deepseek4 {

namespace {

std::string fmt(const char * f, auto... args) {
    char buf[512];
    std::snprintf(buf, sizeof buf, f, args...);
    return buf;
}

std::string count(uint64_t n) {
    return n >= 1'000'000'000 ? fmt("%.2f B", double(n) / 1e9) : n >= 1'000'000 ? fmt("%.2f M", double(n) / 1e6)
                                                                                : fmt("%llu", (unsigned long long) n);
}

} // namespace

std::vector<std::string> d4_describe(const d4_model & m) {
    const d4_config & c = m.cfg;
    std::vector<std::string> out;
    int n_hash = 0;
    for (bool h : c.hash_moe) n_hash += h;
    // Schedule, 8 layers per line: "SWA" / "CSA4" / "HCA128", then "h" (hash) or "l" (learned routing).
    for (int l0 = 0; l0 < c.n_layers; l0 += 8) {
        std::string line = fmt("schedule L%d-%d:", l0, std::min(l0 + 7, c.n_layers - 1));
        for (int il = l0; il < std::min(l0 + 8, c.n_layers); il++) {
            const d4_attn t = c.attn_types[size_t(il)];
            line += t == d4_attn::sliding ? " SWA" : t == d4_attn::csa ? fmt(" CSA%d", c.csa_ratio) : fmt(" HCA%d", c.hca_ratio);
            line += c.hash_moe[size_t(il)] ? "/hash" : "/learned";
        }
        out.push_back(line);
    }
    const d4_kv_size kv = d4_kv_bytes(c, d4_kv_format::engine(c), 0);
    out.push_back(fmt("attention: %d CSA (ratio %d, indexer %d heads x %d, top-%d), %d HCA (ratio %d), %d SWA-only; "
                      "window %d; %d heads x %d (rope %d), one shared K=V head, sinks, %d output groups",
                      kv.n_csa, c.csa_ratio, c.index_heads, c.index_head_dim, c.index_topk, kv.n_hca, c.hca_ratio, kv.n_swa,
                      c.sliding_window, c.n_heads, c.head_dim, c.rope_dim, c.o_groups));
    out.push_back(fmt("experts: %d routed (top-%d) + 1 shared, width %d; %d hash-routed layers, %d learned "
                      "(sqrt-softplus, scale %.2f), SwiGLU clamp %.2f",
                      c.n_experts, c.n_experts_used, c.moe_ff, n_hash, c.n_layers - n_hash, c.routed_scale, c.swiglu_limit));
    out.push_back(fmt("mHC: %d residual streams, %d Sinkhorn iterations", c.hc_mult, c.hc_sinkhorn_iters));
    const d4_param_count p = d4_count_params(m);
    out.push_back("parameters: " + count(p.total) + " total, " + count(p.activated) + " activated per token" +
                  fmt(" (%.1f %%)", 100.0 * double(p.activated) / double(p.total)));
    out.push_back("kv: " + d4_kv_layout(c, kv));
    return out;
}

std::string d4_kv_layout(const d4_config & c, const d4_kv_size & kv) {
    const d4_kv_format f = d4_kv_format::engine(c);
    return fmt("%.1f B/token (fp32: %d CSA x (%g + %g B)/%d + %d HCA x %g B/%d) + %d windows of %d rows", kv.bytes_per_token,
               kv.n_csa, f.kv_row_bytes, f.index_row_bytes, c.csa_ratio, kv.n_hca, f.kv_row_bytes, c.hca_ratio, c.n_layers,
               c.sliding_window - 1);
}

double d4_prefill_flops(const d4_model & m, uint64_t n_tokens) {
    const d4_config & c = m.cfg;
    const double per_token = double(d4_count_params(m).activated - m.lm_head.size());
    double macs = per_token * double(n_tokens) + double(m.lm_head.size());
    for (uint64_t p = 1; p <= n_tokens; p++) {  // p: positions the query at p - 1 sees
        for (const d4_attn type : c.attn_types) {
            double rows = double(std::min<uint64_t>(p, uint64_t(c.sliding_window)));
            if (type == d4_attn::hca) rows += double(p / uint64_t(c.hca_ratio));
            if (type == d4_attn::csa) {
                const uint64_t entries = p / uint64_t(c.csa_ratio);
                rows += double(std::min<uint64_t>(entries, uint64_t(c.index_topk)));
                macs += double(entries) * c.index_heads * c.index_head_dim;
            }
            macs += rows * 2.0 * c.n_heads * c.head_dim;
        }
    }
    return 2.0 * macs;
}

} // namespace v4::deepseek4
