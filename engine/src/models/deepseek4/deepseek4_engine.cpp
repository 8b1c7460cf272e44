// DeepSeek-V4 behind v4::model / v4::session: the GGUF is loaded into a d4_model (fp32), each
// session owns a d4_state (window tails, compressor windows, compressed caches) instead of the
// per-position KV cache the other families use (hp.n_head_kv = 0 sizes that cache to nothing).
//
// Prefix reuse: the session keeps the common prefix and evaluates from there; a rewind rebuilds the
// state by replaying the kept prefix (deepseek4_replay.h).
#include "models/deepseek4/deepseek4_engine.h"

#include <cstring>
#include <memory>

#include "backend/cpu/thread_pool.h"
#include "models/deepseek4/deepseek4.h"
#include "models/deepseek4/deepseek4_gguf.h"
#include "models/deepseek4/deepseek4_info.h"
#include "models/deepseek4/deepseek4_kv.h"
#include "models/deepseek4/deepseek4_replay.h"
#include "models/deepseek4/deepseek4_state_io.h"
#include "models/deepseek4/deepseek4_synthetic.h"
#include "models/model_impl.h"
#include "v4/error.h"

namespace v4::detail {

namespace {

using namespace v4::deepseek4;

struct d4_session_state final : arch_state {
    d4_session_state(const d4_model & m, int n_threads)
        : model(m), state(d4_new_state(m)), pool(n_threads > 1 ? std::make_unique<thread_pool>(n_threads) : nullptr) {}
    const d4_model & model;
    d4_state state;
    std::vector<int32_t> tokens;  // the replay log (d4_seek): `state` has seen its first state.n_past
    std::unique_ptr<thread_pool> pool;  // the session's threads (null: one thread); logits do not depend on it

    // d4_seek's view of the state
    int position() const { return state.n_past; }
    void reset() { state = d4_new_state(model); }
    void advance(const std::vector<int32_t> & part) { d4_eval(model, state, part, false, pool.get()); }

    // Snapshot: u64 token count, i32 tokens (those the state has seen), then the d4_state bytes
    // (deepseek4_state_io.h).
    std::vector<uint8_t> save() const override {
        const uint64_t n = uint64_t(state.n_past);
        std::vector<uint8_t> out(sizeof n + n * sizeof(int32_t));
        std::memcpy(out.data(), &n, sizeof n);
        std::memcpy(out.data() + sizeof n, tokens.data(), n * sizeof(int32_t));
        const std::vector<uint8_t> st = d4_save_state(state);
        out.insert(out.end(), st.begin(), st.end());
        return out;
    }
    void load(std::span<const uint8_t> bytes) override {
        uint64_t n = 0;
        if (bytes.size() < sizeof n) throw Error(ErrorCode::format, "deepseek4 session state: truncated token count");
        std::memcpy(&n, bytes.data(), sizeof n);
        if (n > (bytes.size() - sizeof n) / sizeof(int32_t)) throw Error(ErrorCode::format, "deepseek4 session state: truncated tokens");
        std::vector<int32_t> toks(static_cast<size_t>(n));
        std::memcpy(toks.data(), bytes.data() + sizeof n, toks.size() * sizeof(int32_t));
        d4_state st = d4_load_state(model, bytes.subspan(sizeof n + toks.size() * sizeof(int32_t)));
        if (uint64_t(st.n_past) != n) {
            throw Error(ErrorCode::format, "deepseek4 session state: " + std::to_string(n) + " tokens but the state is at position " +
                                               std::to_string(st.n_past));
        }
        for (const int32_t id : toks) {
            if (id < 0 || id >= model.cfg.vocab) {
                throw Error(ErrorCode::format, "deepseek4 session state: token id " + std::to_string(id) + " outside the vocabulary");
            }
        }
        state = std::move(st);
        tokens = std::move(toks);
    }
};

class d4_engine_model final : public arch_model {
public:
    explicit d4_engine_model(d4_model m) : m_model(std::move(m)) {}

    std::unique_ptr<arch_state> new_state(int n_threads) const override {
        return std::make_unique<d4_session_state>(m_model, n_threads);
    }

    void forward(const forward_args & a, arch_state & base) const override {
        auto & s = static_cast<d4_session_state &>(base);
        d4_seek(s, s.tokens, a.pos0, a.cancel);
        check_cancel(a);
        const std::vector<int32_t> tokens(a.tokens.begin(), a.tokens.end());
        const std::vector<float> logits = d4_eval(m_model, s.state, tokens, a.all_logits, s.pool.get());
        s.tokens.insert(s.tokens.end(), tokens.begin(), tokens.end());
        std::memcpy(a.logits, logits.data(), logits.size() * sizeof(float));
    }

    kv_footprint kv_bytes(uint64_t n_ctx) const override {
        const d4_kv_size kv = d4_kv_bytes(m_model.cfg, d4_kv_format::engine(m_model.cfg), n_ctx);
        kv_footprint f;
        f.bytes_per_token = kv.bytes_per_token;
        f.total_bytes = kv.total();
        f.layout = d4_kv_layout(m_model.cfg, kv);
        return f;
    }

    // fp32 weights (d4_model) of the activated parameters: the routed experts a token uses, one
    // embedding row; the state the step reads (d4_decode_state_bytes). The CPU and CUDA forwards read the same.
    decode_traffic decode_bytes(uint64_t n_kv) const override {
        decode_traffic t;
        t.weight_bytes = d4_count_params(m_model).activated * sizeof(float);
        t.kv_bytes = n_kv == 0 ? 0 : d4_decode_state_bytes(m_model.cfg, d4_kv_format::engine(m_model.cfg), n_kv);
        return t;
    }

    double prefill_flops(uint32_t n_tokens) const override { return d4_prefill_flops(m_model, n_tokens); }

    const d4_model & model() const { return m_model; }

private:
    d4_model m_model;
};

void forward_deepseek4(const model_impl & m, const forward_args & a) {
    if (a.state == nullptr) {
        throw Error(ErrorCode::internal, "deepseek4: forward without a session state");
    }
    m.custom->forward(a, *a.state);
}

} // namespace

const d4_model * d4_model_of(const model_impl & m) {
    const auto * e = dynamic_cast<const d4_engine_model *>(m.custom.get());
    return e != nullptr ? &e->model() : nullptr;
}

void load_deepseek4(model_impl & m) {
    d4_model model = d4_load_gguf(m.file);
    const d4_config & c = model.cfg;
    hparams & hp = m.hp;
    hp.n_vocab = uint32_t(c.vocab);
    hp.n_ctx_train = m.file.get_u32_opt("deepseek4.context_length").value_or(1u << 20);
    hp.n_embd = uint32_t(c.hidden);
    hp.n_layer = uint32_t(c.n_layers);
    hp.n_head = uint32_t(c.n_heads);
    hp.n_head_kv = 0;  // no per-position KV cache: the state lives in d4_state
    hp.head_dim = uint32_t(c.head_dim);
    hp.n_ff = uint32_t(c.moe_ff);
    hp.n_rot = uint32_t(c.rope_dim);
    hp.rms_eps = c.rms_eps;
    m.info.n_params_active = d4_count_params(model).activated;
    m.info.details = d4_describe(model);
    m.custom = std::make_shared<d4_engine_model>(std::move(model));
    m.forward = forward_deepseek4;
}

} // namespace v4::detail
