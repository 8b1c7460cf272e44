// What a loaded model is inside the engine: the GGUF file (mapped), the hyperparameters, views of
// the weight tensors per layer, and the forward pass of its architecture family. Each family file
// (llama.cpp, qwen2.cpp, qwen3.cpp, gemma3.cpp) provides `load_<family>` that fills hparams and
// tensors, and a forward written top to bottom against backend.h.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "format/gguf.h"
#include "models/names.h"
#include "v4/model.h"
#include "v4/roofline.h"

namespace v4::detail {

struct hparams {
    uint32_t n_vocab = 0;
    uint32_t n_ctx_train = 0;
    uint32_t n_embd = 0;
    uint32_t n_layer = 0;
    uint32_t n_head = 0;
    uint32_t n_head_kv = 0;
    uint32_t head_dim = 0;       // key_length == value_length
    uint32_t n_ff = 0;
    uint32_t n_rot = 0;          // rotated dims per head
    float    rms_eps = 1e-5f;
    float    rope_base = 10000.0f;
    float    rope_scale = 1.0f;  // linear: position * rope_scale
    rope_kind rope = rope_kind::norm;
    // gemma3: local (sliding-window) layers and their rope base
    uint32_t sliding_window = 0;
    uint32_t swa_pattern = 0;    // layer il is local when il % swa_pattern < swa_pattern - 1
    float    rope_base_local = 10000.0f;
    float    attn_scale = 0.0f;  // 0: 1/sqrt(head_dim)
    bool     embd_scale = false; // gemma: multiply embeddings by sqrt(n_embd)

    uint32_t q_dim() const { return n_head * head_dim; }
    uint32_t kv_dim() const { return n_head_kv * head_dim; }
    bool     is_local(uint32_t il) const { return swa_pattern > 0 && il % swa_pattern < swa_pattern - 1; }
};

struct layer {
    std::vector<float> attn_norm;      // [n_embd]
    weight             wq, wk, wv, wo; // [q_dim x n_embd] [kv_dim x n_embd] x2, [n_embd x q_dim]
    std::vector<float> bq, bk, bv;     // qwen2: [q_dim] [kv_dim] [kv_dim]
    std::vector<float> q_norm, k_norm; // qwen3, gemma3: [head_dim]
    std::vector<float> attn_post_norm; // gemma3: [n_embd]
    std::vector<float> ffn_norm;       // [n_embd]
    weight             ffn_gate, ffn_up, ffn_down; // [n_ff x n_embd] x2, [n_embd x n_ff]
    std::vector<float> ffn_post_norm;  // gemma3: [n_embd]
};

// The KV cache of the families above holds K and V rows as f16 by default: half the bytes
// attention streams per token and half the size of session snapshots, for ~5e-4 relative rounding
// of each element. `accurate` precision keeps f32, exact with respect to the reference (the f16
// rounding alone moves tiny-model logits by ~2e-3 and flips near-tie top-1s).
inline dtype kv_cache_type(bool accurate) { return accurate ? dtype::f32 : dtype::f16; }
inline size_t kv_cache_elem_bytes(dtype t) { return t == dtype::f32 ? 4 : 2; }

// Buffers and inputs for one forward pass over a ubatch of n_tokens at positions pos0...
struct forward_args {
    std::span<const int32_t>  tokens;
    int                       pos0 = 0;
    void *                    k_cache = nullptr;  // [n_layer][n_ctx][kv_dim] of kv_type
    void *                    v_cache = nullptr;  // [n_layer][n_ctx][kv_dim] of kv_type
    dtype                     kv_type = dtype::f32; // f32 or f16 (kv_cache_type)
    int                       n_ctx = 0;
    float *                   logits = nullptr;   // [n_out][n_vocab]
    bool                      all_logits = false; // n_out = n_tokens, else 1 (last token)
    const std::atomic<bool> * cancel = nullptr;
    backend *                 be = nullptr;
    std::vector<float> *      scratch = nullptr;  // resized by the forward as needed
    struct arch_state *       state = nullptr;    // the session's state when the model has an arch_model
};

struct model_impl;
using forward_fn = void (*)(const model_impl & m, const forward_args & a);

// Families whose weights and per-session state do not fit the layer / KV-cache layout above
// (deepseek4: compressed caches, indexer, mHC streams) keep them behind this interface; the
// session makes one arch_state per conversation and passes it in forward_args::state.
struct arch_state {
    virtual ~arch_state() = default;
    // Session snapshots: the state as bytes, and back; load throws format on bytes that do not fit
    // the model, leaving the state as it was.
    virtual std::vector<uint8_t> save() const = 0;
    virtual void load(std::span<const uint8_t> bytes) = 0;
};
struct arch_model {
    virtual ~arch_model() = default;
    // n_threads: the session's CPU threads (>= 1); the state runs this session's forwards on them.
    virtual std::unique_ptr<arch_state> new_state(int n_threads) const = 0;
    virtual void forward(const forward_args & a, arch_state & state) const = 0;
    virtual kv_footprint kv_bytes(uint64_t n_ctx) const = 0;
    // v4::decode_bytes for the family: what one decode step reads at n_kv positions (new one included).
    virtual decode_traffic decode_bytes(uint64_t n_kv) const = 0;
    // v4::prefill_flops for the family.
    virtual double prefill_flops(uint32_t n_tokens) const = 0;
};

struct model_impl {
    gguf::file         file;
    model_info         info;
    arch               family = arch::llama;
    hparams            hp;
    weight             tok_embd;    // [n_vocab x n_embd]
    weight             output;      // [n_vocab x n_embd]; == tok_embd when tied
    std::vector<float> output_norm; // [n_embd]
    std::vector<float> rope_freqs;  // [n_rot/2] llama 3.1 frequency factors, or empty
    std::vector<layer> layers;
    forward_fn         forward = nullptr;
    std::shared_ptr<const arch_model> custom;  // set by families with their own state (deepseek4)

    explicit model_impl(gguf::file f) : file(std::move(f)) {}
};

// ---- loading helpers (model_loader.cpp) -------------------------------------------------------

// Reads "<arch>.<suffix>"; throws format naming the key when absent.
uint32_t    get_arch_u32(const model_impl & m, const char * suffix);
uint32_t    get_arch_u32_or(const model_impl & m, const char * suffix, uint32_t fallback);
float       get_arch_f32_or(const model_impl & m, const char * suffix, float fallback);
// The common hparams every family has (vocab, ctx, embd, layers, heads, ff, eps, rope base).
void        load_common_hparams(model_impl & m);
// A matrix [n_out x n_in]; throws format "tensor 'blk.3.attn_q.weight': expected shape [640, 1024],
// got [640, 512]" or "missing tensor ...".
weight      get_matrix(const model_impl & m, const std::string & name, int64_t n_in, int64_t n_out);
weight      get_matrix_opt(const model_impl & m, const std::string & name, int64_t n_in, int64_t n_out);
// A vector [n], converted to f32.
std::vector<float> get_vector(const model_impl & m, const std::string & name, int64_t n);
std::vector<float> get_vector_opt(const model_impl & m, const std::string & name, int64_t n);
// Embedding, output norm, output (tied when absent), and the per-layer tensors common to all
// families (norms, q/k/v/o, gate/up/down).
void        load_common_tensors(model_impl & m);

// ---- families ---------------------------------------------------------------------------------
void load_llama(model_impl & m);
void load_qwen2(model_impl & m);
void load_qwen3(model_impl & m);
void load_gemma3(model_impl & m);
// deepseek4 (models/deepseek4/deepseek4_engine.cpp): fills hp / info and sets m.custom.
void load_deepseek4(model_impl & m);
// The pre-norm decoder shared by llama, qwen2 and qwen3 (llama.cpp): the q/k/v biases (qwen2) and
// the per-head q/k norms (qwen3) are applied when the family loaded them.
void forward_llama_like(const model_impl & m, const forward_args & a);

// ---- shared forward pieces (forward_common.cpp) -------------------------------------------------

// Raises ErrorCode::cancelled when the flag is set.
void check_cancel(const forward_args & a);
// Bump allocator over a.scratch, which the session sized with scratch_floats(); throws internal
// when a forward asks for more than that bound.
class scratch_arena {
public:
    explicit scratch_arena(const forward_args & a) : m_storage(*a.scratch) {}
    float * take(size_t n);
private:
    std::vector<float> & m_storage;
    size_t               m_used = 0;
};
// The activations of one ubatch that every decoder family uses, carved from the session scratch.
struct decoder_activations {
    decoder_activations(const hparams & hp, const forward_args & a);
    float * x;                // [T][n_embd] residual stream
    float * cur;              // [T][n_embd] normed input of a sub-block
    float * q;                // [T][n_head * head_dim]
    float * k;                // [T][n_head_kv * head_dim]
    float * v;                // [T][n_head_kv * head_dim]
    float * attn;             // [T][n_head * head_dim]
    float * o;                // [T][n_embd] sub-block output
    float * gate;             // [T][n_ff]
    float * up;               // [T][n_ff]
    std::vector<int32_t> pos; // [T] absolute positions pos0 ..
};
// Upper bound of the scratch floats any family's forward needs for n_tokens.
size_t scratch_floats(const hparams & hp, int n_tokens);
// Stores this ubatch's k, v rows ([n_tokens][kv_dim]) into layer il of the cache at pos0.
void store_kv(const model_impl & m, const forward_args & a, int il, const float * k, const float * v);
// Standard attention over layer il's cache for q [n_tokens][q_dim] -> out [n_tokens][q_dim].
void attend(const model_impl & m, const forward_args & a, int il, const float * q, float * out, int window,
            float scale);
// In-place x[i] += y[i].
void add_inplace(float * x, const float * y, size_t n);
// Adds bias b [n] to every row of x [n_rows][n].
void add_bias(float * x, const std::vector<float> & b, int n_rows);
// Final norm and the output projection for the rows the caller asked for.
void compute_logits(const model_impl & m, const forward_args & a, const float * x);

} // namespace v4::detail
