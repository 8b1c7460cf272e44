// GGUF `deepseek4` (llama.cpp) -> d4_config / d4_model. Key and tensor names: llama.cpp's
// converter (conversion/deepseek.py, DeepseekV4Model) and loader (src/models/deepseek4.cpp) as
// collected in shared/research/v4_architecture.md §3 and §9, cross-checked with the deepseek4.*
// keys and blk.N.* tensor list that public third-party readers of the V4-Flash GGUFs expect.
#include "models/deepseek4/deepseek4_gguf.h"

#include <cstring>
#include <map>
#include <string_view>

#include "models/deepseek4/deepseek4_source.h"
#include "reference/dequantize_legacy.h"
#include "v4/error.h"

namespace v4::deepseek4 {

namespace {

// transformers name (suffix under model.layers.L., or global) -> GGUF name (under blk.L.).
struct name_pair {
    const char * hf;
    const char * gguf;
};
constexpr name_pair k_gguf_globals[] = {
    {"model.embed_tokens.weight", "token_embd.weight"},
    {"model.norm.weight", "output_norm.weight"},
    {"lm_head.weight", "output.weight"},
    {"model.hc_head.hc_fn", "output_hc_fn.weight"},
    {"model.hc_head.hc_base", "output_hc_base.weight"},
    {"model.hc_head.hc_scale", "output_hc_scale.weight"},
};
constexpr name_pair k_gguf_layer[] = {
    {"attn_hc.fn", "hc_attn_fn.weight"},
    {"attn_hc.base", "hc_attn_base.weight"},
    {"attn_hc.scale", "hc_attn_scale.weight"},
    {"ffn_hc.fn", "hc_ffn_fn.weight"},
    {"ffn_hc.base", "hc_ffn_base.weight"},
    {"ffn_hc.scale", "hc_ffn_scale.weight"},
    {"input_layernorm.weight", "attn_norm.weight"},
    {"post_attention_layernorm.weight", "ffn_norm.weight"},
    {"self_attn.q_a_proj.weight", "attn_q_a.weight"},
    {"self_attn.q_a_norm.weight", "attn_q_a_norm.weight"},
    {"self_attn.q_b_proj.weight", "attn_q_b.weight"},
    {"self_attn.kv_proj.weight", "attn_kv.weight"},
    {"self_attn.kv_norm.weight", "attn_kv_a_norm.weight"},
    {"self_attn.o_a_proj.weight", "attn_output_a.weight"},
    {"self_attn.o_b_proj.weight", "attn_output_b.weight"},
    {"self_attn.sinks", "attn_sinks.weight"},
    {"self_attn.compressor.kv_proj.weight", "attn_compressor_kv.weight"},
    {"self_attn.compressor.gate_proj.weight", "attn_compressor_gate.weight"},
    {"self_attn.compressor.position_bias", "attn_compressor_ape.weight"},
    {"self_attn.compressor.kv_norm.weight", "attn_compressor_norm.weight"},
    {"self_attn.compressor.indexer.q_b_proj.weight", "indexer.attn_q_b.weight"},
    {"self_attn.compressor.indexer.scorer.weights_proj.weight", "indexer.proj.weight"},
    {"self_attn.compressor.indexer.kv_proj.weight", "indexer_compressor_kv.weight"},
    {"self_attn.compressor.indexer.gate_proj.weight", "indexer_compressor_gate.weight"},
    {"self_attn.compressor.indexer.position_bias", "indexer_compressor_ape.weight"},
    {"self_attn.compressor.indexer.kv_norm.weight", "indexer_compressor_norm.weight"},
    {"mlp.gate.weight", "ffn_gate_inp.weight"},
    {"mlp.gate.e_score_correction_bias", "exp_probs_b.bias"},
    {"mlp.gate.tid2eid", "ffn_gate_tid2eid.weight"},
    {"mlp.experts.down_proj", "ffn_down_exps.weight"},
    {"mlp.shared_experts.gate_proj.weight", "ffn_gate_shexp.weight"},
    {"mlp.shared_experts.up_proj.weight", "ffn_up_shexp.weight"},
    {"mlp.shared_experts.down_proj.weight", "ffn_down_shexp.weight"},
};
// transformers fuses the routed experts' gate and up rows: gate_up_proj [E, 2I, D] is
// ffn_gate_exps [E, I, D] followed, per expert, by ffn_up_exps [E, I, D].
constexpr const char * k_fused_gate_up = "mlp.experts.gate_up_proj";

std::string shape_text(const std::vector<int64_t> & s) {
    std::string out = "[";
    for (size_t i = 0; i < s.size(); i++) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + "]";
}

class gguf_source final : public d4_tensor_source {
public:
    explicit gguf_source(const gguf::file & f) : m_f(f) {}

    std::string where() const override { return m_f.path(); }

    std::string name_of(const std::string & hf) const override {
        for (const name_pair & p : k_gguf_globals) {
            if (hf == p.hf) return p.gguf;
        }
        const size_t dot = hf.find('.', sizeof("model.layers.") - 1);
        if (hf.rfind("model.layers.", 0) == 0 && dot != std::string::npos) {
            const std::string il = hf.substr(sizeof("model.layers.") - 1, dot - (sizeof("model.layers.") - 1));
            const std::string suffix = hf.substr(dot + 1);
            for (const name_pair & p : k_gguf_layer) {
                if (suffix == p.hf) return "blk." + il + "." + p.gguf;
            }
        }
        throw Error(ErrorCode::internal, "deepseek4: no GGUF name for '" + hf + "'");
    }

    bool has(const std::string & hf) const override { return m_f.find_tensor(name_of(hf)) != nullptr; }

    std::vector<float> f32(const std::string & hf, const std::vector<int64_t> & shape) const override {
        if (std::string_view(hf).ends_with(k_fused_gate_up)) {
            return fused_gate_up(hf, shape);
        }
        return read(name_of(hf), shape);
    }

    std::vector<int64_t> i64(const std::string & hf, const std::vector<int64_t> & shape) const override {
        const std::string name = name_of(hf);
        const gguf::tensor_info & t = find(name, shape);
        if (t.type != dtype::i32) {
            throw Error(ErrorCode::format, where() + ": tensor '" + name + "' is " + traits(t.type).name + ", expected i32");
        }
        std::vector<int64_t> out(size_t(t.n_elements()));
        for (size_t i = 0; i < out.size(); i++) {
            int32_t v;
            std::memcpy(&v, t.data + 4 * i, 4);
            out[i] = v;
        }
        return out;
    }

private:
    // The tensor, its ggml shape checked against `shape` reversed (ne0 innermost).
    const gguf::tensor_info & find(const std::string & name, const std::vector<int64_t> & shape) const {
        const gguf::tensor_info * t = m_f.find_tensor(name);
        if (!t) throw Error(ErrorCode::format, where() + ": missing tensor '" + name + "'");
        const std::vector<int64_t> want(shape.rbegin(), shape.rend());
        std::vector<int64_t> got = t->shape;
        while (got.size() > want.size() && got.back() == 1) got.pop_back();
        if (got != want) {
            throw Error(ErrorCode::format, where() + ": tensor '" + name + "' has ggml shape " + shape_text(t->shape) +
                                               ", expected " + shape_text(want));
        }
        return *t;
    }

    std::vector<float> read(const std::string & name, const std::vector<int64_t> & shape) const {
        const gguf::tensor_info & t = find(name, shape);
        const int64_t ne0 = t.shape.empty() ? 1 : t.shape[0];
        const int64_t rows = t.n_elements() / ne0;
        const std::optional<size_t> rb = row_bytes(t.type, ne0);
        if (!rb || *rb * size_t(rows) > t.n_bytes) {
            throw Error(ErrorCode::format, where() + ": tensor '" + name + "': rows of " + std::to_string(ne0) + " " +
                                               traits(t.type).name + " values do not fit its data");
        }
        std::vector<float> out(size_t(t.n_elements()));
        for (int64_t r = 0; r < rows; r++) {
            if (!kernels::ref::dequantize_row_any(uint32_t(t.type), t.data + size_t(r) * *rb, &out[size_t(r * ne0)], ne0)) {
                throw Error(ErrorCode::unsupported, where() + ": tensor '" + name + "' has type " + traits(t.type).name +
                                                        ", which cannot be converted to f32");
            }
        }
        return out;
    }

    std::vector<float> fused_gate_up(const std::string & hf, const std::vector<int64_t> & shape) const {
        const std::string blk = name_of(hf.substr(0, hf.size() - std::strlen(k_fused_gate_up)) + "mlp.experts.down_proj");
        const std::string prefix = blk.substr(0, blk.size() - std::strlen("ffn_down_exps.weight"));
        const int64_t E = shape[0], I = shape[1] / 2, D = shape[2];
        const std::vector<float> gate = read(prefix + "ffn_gate_exps.weight", {E, I, D});
        const std::vector<float> up = read(prefix + "ffn_up_exps.weight", {E, I, D});
        std::vector<float> out;
        out.reserve(gate.size() + up.size());
        const size_t per_expert = size_t(I * D);
        for (int64_t e = 0; e < E; e++) {
            out.insert(out.end(), gate.begin() + std::ptrdiff_t(e * per_expert), gate.begin() + std::ptrdiff_t((e + 1) * per_expert));
            out.insert(out.end(), up.begin() + std::ptrdiff_t(e * per_expert), up.begin() + std::ptrdiff_t((e + 1) * per_expert));
        }
        return out;
    }

    const gguf::file & m_f;
};

} // namespace

d4_config d4_config_from_gguf(const gguf::file & f) {
    const std::string where = f.path();
    auto key = [](const char * suffix) { return std::string("deepseek4.") + suffix; };
    auto u32 = [&](const char * suffix) { return int(f.get_u32(key(suffix))); };
    auto u32_or = [&](const char * suffix, int fallback) { return int(f.get_u32_opt(key(suffix)).value_or(uint32_t(fallback))); };
    auto f32_or = [&](const char * suffix, float fallback) { return f.get_f32_opt(key(suffix)).value_or(fallback); };
    d4_config c;
    c.vocab = u32_or("vocab_size", 0);
    c.hidden = u32("embedding_length");
    c.n_layers = u32("block_count");
    c.n_heads = u32("attention.head_count");
    c.head_dim = u32("attention.key_length");
    c.rope_dim = u32("rope.dimension_count");
    c.q_lora_rank = u32("attention.q_lora_rank");
    c.o_groups = u32("attention.output_group_count");
    c.o_lora_rank = u32("attention.output_lora_rank");
    c.n_experts = u32("expert_count");
    c.n_experts_used = u32("expert_used_count");
    c.moe_ff = u32("expert_feed_forward_length");
    c.routed_scale = f32_or("expert_weights_scale", 1.5f);
    c.sliding_window = u32("attention.sliding_window");
    c.index_heads = u32("attention.indexer.head_count");
    c.index_head_dim = u32("attention.indexer.key_length");
    c.index_topk = u32("attention.indexer.top_k");
    c.hc_mult = u32("hyper_connection.count");
    c.hc_sinkhorn_iters = u32_or("hyper_connection.sinkhorn_iterations", 20);
    c.hc_eps = f32_or("hyper_connection.epsilon", 1e-6f);
    c.rms_eps = f32_or("attention.layer_norm_rms_epsilon", 1e-6f);
    c.rope_theta = f32_or("rope.freq_base", 10000.0f);
    c.compress_rope_theta = f32_or("attention.compress_rope_freq_base", 160000.0f);
    if (c.vocab == 0) {
        const gguf::tensor_info * embd = f.find_tensor("token_embd.weight");
        if (!embd || embd->shape.size() != 2) throw Error(ErrorCode::format, where + ": missing tensor 'token_embd.weight'");
        c.vocab = int(embd->shape[1]);
    }
    if (u32_or("attention.head_count_kv", 1) != 1) {
        throw Error(ErrorCode::unsupported, where + ": deepseek4.attention.head_count_kv must be 1 (shared-KV MQA)");
    }
    if (u32_or("expert_shared_count", 1) != 1) {
        throw Error(ErrorCode::unsupported, where + ": deepseek4.expert_shared_count must be 1");
    }
    if (!f.get_bool_opt(key("expert_weights_norm")).value_or(true)) {
        throw Error(ErrorCode::unsupported, where + ": deepseek4.expert_weights_norm = false is not supported");
    }
    // One clamp per layer in the file; the architecture has one value (llama.cpp checks they agree).
    const std::vector<float> clamp = f.find(key("swiglu_clamp_exp")) ? f.get_f32_array(key("swiglu_clamp_exp"))
                                                                     : std::vector<float>{10.0f};
    for (float v : clamp) {
        if (v != clamp[0]) throw Error(ErrorCode::unsupported, where + ": deepseek4.swiglu_clamp_exp differs between layers");
    }
    c.swiglu_limit = clamp.empty() ? 10.0f : clamp[0];

    const std::vector<int32_t> ratios = f.get_i32_array(key("attention.compress_ratios"));
    if (int(ratios.size()) < c.n_layers) {
        throw Error(ErrorCode::format, where + ": deepseek4.attention.compress_ratios has " + std::to_string(ratios.size()) +
                                           " entries but block_count is " + std::to_string(c.n_layers));
    }
    for (int il = 0; il < c.n_layers; il++) {  // entries past block_count belong to MTP blocks
        const int r = ratios[size_t(il)];
        if (r == 0) c.attn_types.push_back(d4_attn::sliding);
        else if (r == c.csa_ratio) c.attn_types.push_back(d4_attn::csa);
        else if (r == c.hca_ratio) c.attn_types.push_back(d4_attn::hca);
        else {
            throw Error(ErrorCode::format, where + ": deepseek4.attention.compress_ratios[" + std::to_string(il) + "] = " +
                                               std::to_string(r) + " is not 0, 4 or 128");
        }
    }
    const int n_hash = u32_or("hash_layer_count", 3);
    for (int il = 0; il < c.n_layers; il++) c.hash_moe.push_back(il < n_hash);

    c.rope_main = d4_rope_default(c.rope_theta, c.rope_dim);
    c.rope_compress = d4_rope_default(c.compress_rope_theta, c.rope_dim);
    const std::string scaling = f.get_string_opt(key("rope.scaling.type")).value_or("none");
    if (scaling == "yarn") {
        const float factor = f.get_f32(key("rope.scaling.factor"));
        const double original = f.get_u32(key("rope.scaling.original_context_length"));
        c.rope_compress = d4_rope_yarn(c.compress_rope_theta, c.rope_dim, factor, original,
                                       f32_or("rope.scaling.yarn_beta_fast", 32.0f), f32_or("rope.scaling.yarn_beta_slow", 1.0f), true);
        c.rope_compress.attn_factor = f32_or("rope.scaling.attn_factor", 1.0f);  // V4 uses 1.0
    } else if (scaling != "none") {
        throw Error(ErrorCode::unsupported, where + ": deepseek4.rope.scaling.type '" + scaling + "' (only yarn or none)");
    }
    d4_check_config(c, where);
    return c;
}

d4_model d4_load_gguf(const gguf::file & f) {
    d4_model m;
    m.cfg = d4_config_from_gguf(f);
    d4_load_tensors(m, gguf_source(f));
    return m;
}

} // namespace v4::deepseek4
