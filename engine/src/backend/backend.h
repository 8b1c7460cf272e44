// The compute interface a model's forward pass is written against. One implementation per device
// (cpu here; cuda separately). All activations are row-major f32 [n_rows][n_cols] unless a
// comment says otherwise; a "weight" is a GGUF matrix kept in its stored (possibly quantized)
// format, [n_out rows][n_in] with n_in contiguous (ggml's ne0); rows of Q4_0/Q8_0 may have been
// rearranged at load for the CPU kernels (weight::x16), same size, exactly reversible.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "tensor/dtype.h"

namespace v4::detail {

struct weight {
    dtype           type = dtype::f32;
    int64_t         n_in = 0;      // elements per row (ne0)
    int64_t         n_out = 0;     // rows (ne1)
    size_t          row_bytes = 0;
    const uint8_t * data = nullptr;
    bool            x16 = false; // rows in the CPU kernels' x16 layout (kernels/cpu/x16.h), repacked at load

    explicit operator bool() const { return data != nullptr; }
};

enum class rope_kind { norm, neox }; // norm: rotate pairs (2i, 2i+1); neox: pairs (i, i + n_rot/2)

struct rope_params {
    rope_kind     kind = rope_kind::norm;
    int           n_rot = 0;             // rotated dims per head (<= head_dim)
    float         freq_base = 10000.0f;
    float         freq_scale = 1.0f;     // linear scaling: position * freq_scale
    const float * freq_factors = nullptr; // [n_rot/2] divides each frequency (llama 3.1), or null
};

enum class glu_kind { silu, gelu_tanh };

// One product of a shared-input matmul: y = w x, y: [n_rows][w->n_out].
struct matmul_target {
    const weight * w = nullptr;
    float *        y = nullptr;
};

struct attention_args {
    const float * q = nullptr;      // [n_tokens][n_head * head_dim]
    const void *  k_cache = nullptr; // [n_kv][kv_stride] of kv_type, positions 0..n_kv-1 of this layer
    const void *  v_cache = nullptr; // [n_kv][kv_stride] of kv_type
    dtype         kv_type = dtype::f32; // f32 or f16
    float *       out = nullptr;    // [n_tokens][n_head * head_dim]
    int           n_tokens = 0;
    int           pos0 = 0;         // position of q row 0; query t sees keys 0..pos0+t
    int           n_head = 0;
    int           n_head_kv = 0;
    int           head_dim = 0;
    int           kv_stride = 0;    // elements per cache row (n_head_kv * head_dim)
    int           window = 0;       // >0: query at p sees only keys with p - key < window
    float         scale = 1.0f;     // applied to q.k
};

class backend {
public:
    virtual ~backend() = default;
    virtual const char * name() const = 0;
    virtual int          n_threads() const = 0;

    // out[i][:] = row ids[i] of w, dequantized to f32.      out: [ids.size()][w.n_in]
    virtual void get_rows(const weight & w, std::span<const int32_t> ids, float * out) = 0;
    // y[r][o] = sum_i w[o][i] * x[r][i].   x: [n_rows][w.n_in], y: [n_rows][w.n_out]
    virtual void matmul(const weight & w, const float * x, int n_rows, float * y) = 0;
    // matmul() of one x with several weights of the same n_in (q/k/v, gate/up); each target's y
    // is bit-identical to its own matmul(). A backend may share the work of reading x (the CPU
    // backend quantizes x once per activation format and runs every row in one dispatch).
    virtual void matmul_shared_input(const float * x, int n_rows, std::span<const matmul_target> targets) {
        for (const matmul_target & t : targets) {
            matmul(*t.w, x, n_rows, t.y);
        }
    }
    // Per row of n: y = x / sqrt(mean(x^2) + eps) * w. y may alias x. w: [n]
    virtual void rms_norm(const float * x, const float * w, int n_rows, int n, float eps, float * y) = 0;
    // x: [n_rows][n_head * head_dim], rotated in place; row r has position pos[r].
    virtual void rope(float * x, int n_rows, int n_head, int head_dim, const int32_t * pos,
                      const rope_params & p) = 0;
    // gate[i] = act(gate[i]) * up[i] for i < n
    virtual void glu(float * gate, const float * up, size_t n, glu_kind kind) = 0;
    virtual void attention(const attention_args & args) = 0;
};

// two_pass_activations: quantize each activation row and its rounding residual (see cpu_backend.cpp).
std::unique_ptr<backend> make_cpu_backend(int n_threads, bool two_pass_activations);

} // namespace v4::detail
