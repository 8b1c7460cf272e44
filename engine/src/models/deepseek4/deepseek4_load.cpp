// config.json parsing and the tensor table for DeepSeek-V4 (Hugging Face names).
#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "models/deepseek4/deepseek4.h"
#include "models/deepseek4/deepseek4_source.h"
#include "models/deepseek4/json.h"
#include "models/deepseek4/safetensors.h"
#include "v4/error.h"

namespace v4::deepseek4 {

namespace {

struct config_reader {
    const json_value & root;
    const std::string & what;

    [[noreturn]] void fail(ErrorCode code, const std::string & msg) const { throw Error(code, what + ": " + msg); }

    const json_value * get(const char * key) const {
        const json_value * v = root.find(key);
        return (v && !v->is_null()) ? v : nullptr;
    }
    double number(const char * key, const double * fallback) const {
        const json_value * v = get(key);
        if (!v) {
            if (!fallback) fail(ErrorCode::format, std::string("missing key '") + key + "'");
            return *fallback;
        }
        if (v->type != json_value::kind::number) fail(ErrorCode::format, std::string("'") + key + "' is not a number");
        return v->num;
    }
    int integer(const char * key, int lo, int hi) const {
        const double d = number(key, nullptr);
        if (d != std::floor(d) || d < lo || d > hi) {
            fail(ErrorCode::format, std::string("'") + key + "' = " + std::to_string(d) + " is not an integer in [" +
                                        std::to_string(lo) + ", " + std::to_string(hi) + "]");
        }
        return int(d);
    }
    int integer_or(const char * key, int fallback, int lo, int hi) const {
        return get(key) ? integer(key, lo, hi) : fallback;
    }
    float real(const char * key, double fallback) const { return float(number(key, &fallback)); }
    std::string string_or(const char * key, const std::string & fallback) const {
        const json_value * v = get(key);
        if (!v) return fallback;
        if (v->type != json_value::kind::string) fail(ErrorCode::format, std::string("'") + key + "' is not a string");
        return v->str;
    }
};

std::string read_text(const std::string & path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw Error(ErrorCode::io, path + ": cannot open");
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace

// inv_freq[i] = 1 / base^(2i / dim), in float as torch computes it.
d4_rope d4_rope_default(float base, int dim) {
    d4_rope rope;
    for (int i = 0; i < dim / 2; i++) {
        rope.inv_freq.push_back(1.0f / std::pow(base, float(2 * i) / float(dim)));
    }
    return rope;
}

// YaRN (transformers _compute_yarn_parameters): pairs below `low` keep their frequency
// (extrapolation), pairs above `high` are divided by `factor` (interpolation), linear ramp between.
d4_rope d4_rope_yarn(float base, int dim, float factor, double original_max_pos, float beta_fast, float beta_slow,
                     bool truncate) {
    const double pi = 3.14159265358979323846;
    auto correction_dim = [&](double rotations) {
        return (dim * std::log(original_max_pos / (rotations * 2.0 * pi))) / (2.0 * std::log(double(base)));
    };
    double low = correction_dim(beta_fast), high = correction_dim(beta_slow);
    if (truncate) {
        low = std::floor(low);
        high = std::ceil(high);
    }
    low = std::max(low, 0.0);
    high = std::min(high, double(dim - 1));
    if (low == high) high += 0.001;  // as transformers: avoid a zero-width ramp
    d4_rope rope;
    for (int i = 0; i < dim / 2; i++) {
        const float pos_freq = std::pow(base, float(2 * i) / float(dim));
        const float extrapolated = 1.0f / pos_freq, interpolated = 1.0f / (factor * pos_freq);
        const float ramp = std::clamp((float(i) - float(low)) / (float(high) - float(low)), 0.0f, 1.0f);
        const float keep = 1.0f - ramp;  // share of the unscaled frequency
        rope.inv_freq.push_back(interpolated * (1.0f - keep) + extrapolated * keep);
    }
    return rope;
}

d4_config d4_parse_config(const std::string & json_text, const std::string & what) {
    const json_value root = json_parse(json_text, what);
    if (root.type != json_value::kind::object) {
        throw Error(ErrorCode::format, what + ": not a JSON object");
    }
    const config_reader r{root, what};
    const std::string model_type = r.string_or("model_type", "deepseek_v4");
    if (model_type != "deepseek_v4") {
        r.fail(ErrorCode::unsupported, "model_type '" + model_type + "' is not deepseek_v4");
    }
    constexpr int big = 1 << 24;
    d4_config c;
    c.vocab = r.integer("vocab_size", 1, big);
    c.hidden = r.integer("hidden_size", 1, 1 << 16);
    c.n_layers = r.integer("num_hidden_layers", 1, 1024);
    c.n_heads = r.integer("num_attention_heads", 1, 4096);
    c.head_dim = r.integer("head_dim", 2, 4096);
    c.q_lora_rank = r.integer("q_lora_rank", 1, 1 << 16);
    c.o_groups = r.integer("o_groups", 1, 4096);
    c.o_lora_rank = r.integer("o_lora_rank", 1, 1 << 16);
    c.n_experts = r.integer("n_routed_experts", 1, 1 << 16);
    c.n_experts_used = r.integer("num_experts_per_tok", 1, 1 << 16);
    c.moe_ff = r.integer("moe_intermediate_size", 1, 1 << 20);
    c.sliding_window = r.integer("sliding_window", 1, big);
    c.index_heads = r.integer("index_n_heads", 1, 4096);
    c.index_head_dim = r.integer("index_head_dim", 2, 4096);
    c.index_topk = r.integer("index_topk", 1, big);
    c.hc_mult = r.integer("hc_mult", 1, 64);
    c.hc_sinkhorn_iters = r.integer_or("hc_sinkhorn_iters", 20, 1, 1000);
    c.routed_scale = r.real("routed_scaling_factor", 1.5);
    c.swiglu_limit = r.real("swiglu_limit", 10.0);
    c.hc_eps = r.real("hc_eps", 1e-6);
    c.rms_eps = r.real("rms_norm_eps", 1e-6);
    c.rope_theta = r.real("rope_theta", 10000.0);
    c.compress_rope_theta = r.real("compress_rope_theta", 160000.0);
    if (r.integer_or("num_key_value_heads", 1, 1, 4096) != 1) {
        r.fail(ErrorCode::unsupported, "num_key_value_heads must be 1 (shared-KV MQA)");
    }
    if (r.string_or("scoring_func", "sqrtsoftplus") != "sqrtsoftplus") {
        r.fail(ErrorCode::unsupported, "scoring_func '" + r.string_or("scoring_func", "") + "' (only sqrtsoftplus)");
    }
    if (r.string_or("hidden_act", "silu") != "silu") {
        r.fail(ErrorCode::unsupported, "hidden_act '" + r.string_or("hidden_act", "") + "' (only silu)");
    }

    // rope: the trailing qk_rope_head_dim channels of each head.
    if (r.get("qk_rope_head_dim")) {
        c.rope_dim = r.integer("qk_rope_head_dim", 0, c.head_dim);
    } else {
        const double factor = r.number("partial_rotary_factor", nullptr);
        c.rope_dim = int(c.head_dim * factor);  // Python int(): truncation, as transformers does
    }
    // RoPE: rope_parameters {main, compress} (transformers), else the original config's
    // rope_scaling (which applies to the compressed layers only).
    const json_value * rp = r.get("rope_parameters");
    const json_value * compress_params = rp ? rp->find("compress") : nullptr;
    if (rp && rp->find("main") && rp->find("main")->find("rope_theta")) {
        c.rope_theta = float(rp->find("main")->find("rope_theta")->num);
    }
    if (const json_value * main_type = rp && rp->find("main") ? rp->find("main")->find("rope_type") : nullptr) {
        if (main_type->str != "default") {
            r.fail(ErrorCode::unsupported, "rope_parameters.main.rope_type '" + main_type->str + "' (only default)");
        }
    }
    if (compress_params && compress_params->find("rope_theta")) {
        c.compress_rope_theta = float(compress_params->find("rope_theta")->num);
    }
    if (!compress_params) {
        compress_params = r.get("rope_scaling");
    }
    c.rope_main = d4_rope_default(c.rope_theta, c.rope_dim);
    c.rope_compress = d4_rope_default(c.compress_rope_theta, c.rope_dim);
    if (compress_params) {
        const config_reader cr{*compress_params, what};
        const std::string type = cr.string_or("rope_type", cr.string_or("type", "default"));
        if (type == "yarn") {
            const double original = cr.number("original_max_position_embeddings", nullptr);
            const double max_pos = r.number("max_position_embeddings", &original);
            const double by_ratio = max_pos / original;
            const double factor = cr.number("factor", &by_ratio);
            double attn_factor = 0.1 * std::log(factor) + 1.0;  // transformers' default when unset
            if (factor <= 1.0) attn_factor = 1.0;
            const json_value * truncate = compress_params->find("truncate");
            c.rope_compress = d4_rope_yarn(c.compress_rope_theta, c.rope_dim, float(factor), original,
                                           cr.real("beta_fast", 32.0), cr.real("beta_slow", 1.0),
                                           !truncate || truncate->b);
            c.rope_compress.attn_factor = cr.real("attention_factor", attn_factor);
        } else if (type != "default") {
            r.fail(ErrorCode::unsupported, "compress rope_type '" + type + "' (only default and yarn)");
        }
    }

    // Compression ratios per attention type.
    if (const json_value * rates = r.get("compress_rates")) {
        const json_value * csa = rates->find("compressed_sparse_attention");
        const json_value * hca = rates->find("heavily_compressed_attention");
        if (csa) c.csa_ratio = int(csa->num);
        if (hca) c.hca_ratio = int(hca->num);
    }
    c.csa_ratio = r.integer_or("compress_rate_csa", c.csa_ratio, 1, big);
    c.hca_ratio = r.integer_or("compress_rate_hca", c.hca_ratio, 1, big);
    if (c.csa_ratio < 1 || c.hca_ratio < 1) {
        r.fail(ErrorCode::format, "compress_rates must be positive");
    }

    // Per-layer attention type: layer_types (transformers) or compress_ratios (original checkpoint).
    if (const json_value * lt = r.get("layer_types")) {
        if (lt->type != json_value::kind::array || int(lt->arr.size()) != c.n_layers) {
            r.fail(ErrorCode::format, "layer_types has " + std::to_string(lt->arr.size()) +
                                          " entries but num_hidden_layers is " + std::to_string(c.n_layers));
        }
        for (const json_value & v : lt->arr) {
            if (v.str == "sliding_attention") c.attn_types.push_back(d4_attn::sliding);
            else if (v.str == "compressed_sparse_attention") c.attn_types.push_back(d4_attn::csa);
            else if (v.str == "heavily_compressed_attention") c.attn_types.push_back(d4_attn::hca);
            else r.fail(ErrorCode::format, "layer_types entry '" + v.str + "' is not an attention type");
        }
    } else if (const json_value * cr = r.get("compress_ratios")) {
        // The released configs carry one trailing entry per MTP block (num_nextn_predict_layers),
        // and the -0731 files further ones for draft stages: entries past the main layers are ignored.
        const int n_mtp = r.integer_or("num_nextn_predict_layers", 0, 0, 64);
        if (cr->type != json_value::kind::array || int(cr->arr.size()) < c.n_layers) {
            r.fail(ErrorCode::format, "compress_ratios has " + std::to_string(cr->arr.size()) +
                                          " entries but num_hidden_layers is " + std::to_string(c.n_layers) +
                                          " (plus " + std::to_string(n_mtp) + " MTP)");
        }
        for (int il = 0; il < c.n_layers; il++) {
            const json_value & v = cr->arr[size_t(il)];
            if (v.type == json_value::kind::number && v.num == 0) c.attn_types.push_back(d4_attn::sliding);
            else if (v.type == json_value::kind::number && v.num == c.csa_ratio) c.attn_types.push_back(d4_attn::csa);
            else if (v.type == json_value::kind::number && v.num == c.hca_ratio) c.attn_types.push_back(d4_attn::hca);
            else {
                r.fail(ErrorCode::format, "compress_ratios[" + std::to_string(il) + "] is not 0, " +
                                              std::to_string(c.csa_ratio) + " or " + std::to_string(c.hca_ratio));
            }
        }
    } else {  // transformers' default: 2x HCA bootstrap, then CSA / HCA interleaved
        for (int i = 0; i < c.n_layers; i++) {
            c.attn_types.push_back(i < 2 ? d4_attn::hca : ((i - 2) % 2 ? d4_attn::csa : d4_attn::hca));
        }
    }

    // Per-layer MoE routing: mlp_layer_types, else the first num_hash_layers (default 3) are hashed.
    if (const json_value * mt = r.get("mlp_layer_types")) {
        if (mt->type != json_value::kind::array || int(mt->arr.size()) != c.n_layers) {
            r.fail(ErrorCode::format, "mlp_layer_types has " + std::to_string(mt->arr.size()) +
                                          " entries but num_hidden_layers is " + std::to_string(c.n_layers));
        }
        for (const json_value & v : mt->arr) {
            if (v.str != "hash_moe" && v.str != "moe") {
                r.fail(ErrorCode::format, "mlp_layer_types entry '" + v.str + "' is not hash_moe or moe");
            }
            c.hash_moe.push_back(v.str == "hash_moe");
        }
    } else {
        const int n_hash = r.integer_or("num_hash_layers", 3, 0, c.n_layers);
        for (int i = 0; i < c.n_layers; i++) c.hash_moe.push_back(i < n_hash);
    }

    if (r.integer_or("n_shared_experts", 1, 0, 64) != 1) {
        r.fail(ErrorCode::unsupported, "n_shared_experts must be 1");
    }
    d4_check_config(c, what);
    return c;
}

void d4_check_config(const d4_config & c, const std::string & what) {
    auto fail = [&](const std::string & msg) { throw Error(ErrorCode::format, what + ": " + msg); };
    if (c.rope_dim % 2 != 0 || c.rope_dim > c.head_dim || c.rope_dim > c.index_head_dim) {
        fail("rope dim " + std::to_string(c.rope_dim) + " must be even and <= head_dim " + std::to_string(c.head_dim) +
             " and index_head_dim " + std::to_string(c.index_head_dim));
    }
    // The grouped output projection takes contiguous whole heads per group.
    if (c.o_groups < 1 || c.n_heads % c.o_groups != 0) {
        fail("num_attention_heads " + std::to_string(c.n_heads) + " is not divisible by o_groups " + std::to_string(c.o_groups));
    }
    if (c.n_experts_used < 1 || c.n_experts_used > c.n_experts) {
        fail("num_experts_per_tok " + std::to_string(c.n_experts_used) + " exceeds n_routed_experts " +
             std::to_string(c.n_experts));
    }
    if (!(c.swiglu_limit > 0.0f) || !(c.routed_scale > 0.0f) || !(c.rms_eps > 0.0f) || !(c.hc_eps >= 0.0f)) {
        fail("swiglu_limit, routed_scaling_factor and rms_norm_eps must be positive, hc_eps >= 0");
    }
    if (c.index_topk < 1 || c.sliding_window < 1 || c.hc_mult < 1 || c.csa_ratio < 1 || c.hca_ratio < 1) {
        fail("index_topk, sliding_window, hc_mult and the compress rates must be >= 1");
    }
    if (int(c.attn_types.size()) != c.n_layers || int(c.hash_moe.size()) != c.n_layers) {
        fail("the layer schedule has " + std::to_string(c.attn_types.size()) + " entries but there are " +
             std::to_string(c.n_layers) + " layers");
    }
}

namespace {

// transformers' DeepseekV4ForCausalLM state dict, read from safetensors.
class safetensors_source final : public d4_tensor_source {
public:
    explicit safetensors_source(const std::string & path) : m_st(path) {}
    std::string where() const override { return m_st.path(); }
    bool has(const std::string & name) const override { return m_st.has(name); }
    std::vector<float> f32(const std::string & name, const std::vector<int64_t> & shape) const override {
        return m_st.f32(name, shape);
    }
    std::vector<int64_t> i64(const std::string & name, const std::vector<int64_t> & shape) const override {
        return m_st.i64(name, shape);
    }

private:
    safetensors_file m_st;
};

} // namespace

// The tensor table, in transformers' names; sources map them to their own (deepseek4_gguf.cpp).
void d4_load_tensors(d4_model & m, const d4_tensor_source & st) {
    const d4_config & c = m.cfg;
    using shape = std::vector<int64_t>;
    const int64_t D = c.hidden, n = c.hc_mult, n_mix = (2 + n) * n;

    m.tok_embd = st.f32(d4_names::tok_embd, {c.vocab, D});
    m.out_norm = st.f32(d4_names::out_norm, {D});
    m.lm_head = st.has(d4_names::lm_head) ? st.f32(d4_names::lm_head, {c.vocab, D}) : m.tok_embd;
    m.head_fn = st.f32(d4_names::head_fn, {n, n * D});
    m.head_base = st.f32(d4_names::head_base, {n});
    m.head_scale = st.f32(d4_names::head_scale, {1});

    auto load_comp = [&](int il, const std::string & prefix, int dim, bool overlap, int ratio) {
        d4_compressor comp;
        comp.dim = dim;
        comp.overlap = overlap;
        const int64_t w = (overlap ? 2 : 1) * int64_t(dim);
        comp.kv_proj = st.f32(d4_names::layer(il, prefix + "kv_proj.weight"), {w, D});
        comp.gate_proj = st.f32(d4_names::layer(il, prefix + "gate_proj.weight"), {w, D});
        comp.pos_bias = st.f32(d4_names::layer(il, prefix + "position_bias"), {ratio, w});
        comp.kv_norm = st.f32(d4_names::layer(il, prefix + "kv_norm.weight"), {dim});
        return comp;
    };

    for (int il = 0; il < c.n_layers; il++) {
        d4_layer L;
        auto f = [&](const char * suffix, const shape & s) { return st.f32(d4_names::layer(il, suffix), s); };
        L.attn_hc_fn = f("attn_hc.fn", {n_mix, n * D});
        L.attn_hc_base = f("attn_hc.base", {n_mix});
        L.attn_hc_scale = f("attn_hc.scale", {3});
        L.ffn_hc_fn = f("ffn_hc.fn", {n_mix, n * D});
        L.ffn_hc_base = f("ffn_hc.base", {n_mix});
        L.ffn_hc_scale = f("ffn_hc.scale", {3});
        L.attn_norm = f("input_layernorm.weight", {D});
        L.ffn_norm = f("post_attention_layernorm.weight", {D});

        const int64_t HD = int64_t(c.n_heads) * c.head_dim;
        L.q_a = f("self_attn.q_a_proj.weight", {c.q_lora_rank, D});
        L.q_a_norm = f("self_attn.q_a_norm.weight", {c.q_lora_rank});
        L.q_b = f("self_attn.q_b_proj.weight", {HD, c.q_lora_rank});
        L.kv = f("self_attn.kv_proj.weight", {c.head_dim, D});
        L.kv_norm = f("self_attn.kv_norm.weight", {c.head_dim});
        L.o_a = f("self_attn.o_a_proj.weight", {int64_t(c.o_groups) * c.o_lora_rank, HD / c.o_groups});
        L.o_b = f("self_attn.o_b_proj.weight", {D, int64_t(c.o_groups) * c.o_lora_rank});
        L.sinks = f("self_attn.sinks", {c.n_heads});
        const d4_attn type = c.attn_types[size_t(il)];
        if (type == d4_attn::hca) {
            L.comp = load_comp(il, "self_attn.compressor.", c.head_dim, false, c.hca_ratio);
        } else if (type == d4_attn::csa) {
            L.comp = load_comp(il, "self_attn.compressor.", c.head_dim, true, c.csa_ratio);
            L.index_comp = load_comp(il, "self_attn.compressor.indexer.", c.index_head_dim, true, c.csa_ratio);
            L.index_q_b = f("self_attn.compressor.indexer.q_b_proj.weight",
                            {int64_t(c.index_heads) * c.index_head_dim, c.q_lora_rank});
            L.index_weights = f("self_attn.compressor.indexer.scorer.weights_proj.weight", {c.index_heads, D});
        }

        L.router = f("mlp.gate.weight", {c.n_experts, D});
        if (c.hash_moe[size_t(il)]) {
            const std::string name = d4_names::layer(il, "mlp.gate.tid2eid");
            L.tid2eid = st.i64(name, {c.vocab, c.n_experts_used});
            for (int64_t e : L.tid2eid) {
                if (e < 0 || e >= c.n_experts) {
                    throw Error(ErrorCode::format, st.where() + ": " + st.name_of(name) + " holds expert id " +
                                                       std::to_string(e) + " outside [0, " + std::to_string(c.n_experts) + ")");
                }
            }
        } else {
            L.router_bias = f("mlp.gate.e_score_correction_bias", {c.n_experts});
        }
        L.exp_gate_up = f("mlp.experts.gate_up_proj", {c.n_experts, 2 * int64_t(c.moe_ff), D});
        L.exp_down = f("mlp.experts.down_proj", {c.n_experts, D, c.moe_ff});
        L.sh_gate = f("mlp.shared_experts.gate_proj.weight", {c.moe_ff, D});
        L.sh_up = f("mlp.shared_experts.up_proj.weight", {c.moe_ff, D});
        L.sh_down = f("mlp.shared_experts.down_proj.weight", {D, c.moe_ff});
        m.layers.push_back(std::move(L));
    }
}

d4_model d4_load(const std::string & config_path, const std::string & weights_path) {
    d4_model m;
    m.cfg = d4_parse_config(read_text(config_path), config_path);
    d4_load_tensors(m, safetensors_source(weights_path));
    return m;
}

d4_model d4_load(const std::string & dir) {
    return d4_load(dir + "/config.json", dir + "/model.safetensors");
}

} // namespace v4::deepseek4
