// Launchers of the CUDA kernels the dense decoder families (llama, qwen2, qwen3, gemma3) run.
// Every pointer is device memory and every launch is asynchronous on `stream`; nothing here
// synchronizes or allocates, so a decode step made of these calls can be captured in a CUDA graph.
// Positions are read from device memory (`pos0`) for the same reason: a captured graph replays
// with whatever position the host wrote there before the launch.
//
// Activations are row-major f32; weights stay in their GGUF block formats (dequant.cuh); the KV
// cache is f16, [n_ctx][n_head_kv * head_dim] per layer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <cuda_fp16.h>
#include <cuda_runtime.h>

namespace v4::kernels::cuda {

// A GGUF matrix uploaded as-is: n_out rows of n_in elements, row_bytes apart.
struct dev_weight {
    uint32_t        type = 0;   // ggml type number
    int64_t         n_in = 0;
    int64_t         n_out = 0;
    size_t          row_bytes = 0;
    const uint8_t * data = nullptr;
};

// Types the kernels dequantize: f32 f16 bf16 q4_0 q4_1 q5_0 q5_1 q8_0 mxfp4 q3_K q4_K q5_K q6_K.
// Rows must also hold a multiple of 32 elements (the kernels work in 32-element chunks).
bool weight_supported(uint32_t type, int64_t n_in);

// Activations quantized to q8_1 (q8_1.cuh): for row t of n values, q[t * n + i] (int8) and
// ds[t * n / 32 + i / 32] = {d, d * sum of the block's q}; x ~ d * q.
struct q8_act {
    int8_t * q = nullptr;
    float2 * ds = nullptr;
};
// Quantizes n_rows rows of n values (n a multiple of 32): one warp per 32-value block.
void quantize_q8_1(const float * x, int n_rows, int64_t n, const q8_act & out, cudaStream_t stream);

// ---- matrix products ----------------------------------------------------------------------------
// y[t][o] = sum_i w[o][i] * x[t][i] for t < n_rows (<= gemv_max_rows): one warp per output row.
// With xq (x quantized by quantize_q8_1 or add_rms_norm), rows of an integer block type
// (has_int_chunk) are dotted in integers with dp4a against xq instead of x; f32/f16/bf16 rows
// always use x. Without xq every row uses x in f32.
constexpr int gemv_max_rows = 8;
void gemv(const dev_weight & w, const float * x, int n_rows, float * y, cudaStream_t stream,
          const q8_act * xq = nullptr);
// y[i] = w[i] x for i < n (<= 3) matrices of the same n_in, in one launch (the q, k, v projections).
void gemv_multi(const dev_weight * const * w, float * const * y, int n, const float * x, int n_rows,
                cudaStream_t stream, const q8_act * xq = nullptr);
// out[t][o] = act(gate_o . x[t]) * (up_o . x[t]), act 0 = silu, 1 = gelu (tanh): the FFN's gate and
// up GEMVs with the GLU in the epilogue. gate and up have the same shape (their types may differ).
void gemv_glu(const dev_weight & gate, const dev_weight & up, const float * x, int n_rows, int act, float * out,
              cudaStream_t stream, const q8_act * xq = nullptr);
// out[r][:] = rows r0 .. r0 + n - 1 of w, dequantized to f32 ([n][n_in]).
void dequantize_rows(const dev_weight & w, int64_t r0, int64_t n, float * out, cudaStream_t stream);
// Any number of rows: gemv() up to gemv_max_rows, else a tiled f32 GEMM that dequantizes the weight
// tile in shared memory (64 tokens x 64 output rows per block, 32-element steps along n_in).
void matmul(const dev_weight & w, const float * x, int n_rows, float * y, cudaStream_t stream);
// out[i][:] = scale * row ids[i] of w, for i < n_ids (the token embedding lookup).
void get_rows(const dev_weight & w, const int32_t * ids, int n_ids, float scale, float * out, cudaStream_t stream);

// ---- element-wise and per-row ops ---------------------------------------------------------------
// Per row r < n_rows of n: if add != null, x[r] += add[r] first (the residual add); then
// y[r] = x[r] / sqrt(mean(x[r]^2) + eps) * w. y may alias x. With q8 (n a multiple of 32), y is
// also written quantized to q8_1 in the same pass (the fused RMSNorm + quantize of decode).
void add_rms_norm(float * x, const float * add, const float * w, float * y, int n_rows, int n, float eps,
                  cudaStream_t stream, const q8_act * q8 = nullptr);
// gate[i] = act(gate[i]) * up[i]; act: 0 = silu, 1 = gelu (tanh approximation).
void glu(float * gate, const float * up, int64_t n, int act, cudaStream_t stream);

// ---- q/k post-processing and the KV append ------------------------------------------------------
// For each token t < n_tokens at position *pos0 + t: adds the optional biases, applies the optional
// per-head RMSNorm (q_norm/k_norm, [head_dim]), rotates the first n_rot dims of every q and k head
// (neox: pairs (i, i + n_rot/2), else (2i, 2i+1); theta = pos * freq_scale * base^(-2i/n_rot) /
// freq_factors[i]), writes q back in place and k, v (v plus its bias) as f16 into row *pos0 + t
// of the layer's caches.
struct qkv_params {
    float *       q = nullptr;          // [T][n_head * head_dim], updated in place
    const float * k = nullptr;          // [T][n_head_kv * head_dim]
    const float * v = nullptr;          // [T][n_head_kv * head_dim]
    const float * bq = nullptr, * bk = nullptr, * bv = nullptr; // optional biases
    const float * q_norm = nullptr, * k_norm = nullptr;         // optional [head_dim]
    const float * freq_factors = nullptr; // optional [n_rot / 2]
    __half *      k_cache = nullptr;    // this layer: [n_ctx][n_head_kv * head_dim]
    __half *      v_cache = nullptr;
    const int *   pos0 = nullptr;       // device
    int           n_tokens = 0, n_head = 0, n_head_kv = 0, head_dim = 0, n_rot = 0;
    bool          neox = false;
    float         freq_base = 10000.0f, freq_scale = 1.0f, norm_eps = 1e-6f;
};
void qkv_rope_store(const qkv_params & p, cudaStream_t stream);

// ---- attention ----------------------------------------------------------------------------------
// Flash-decoding: query t (position *pos0 + t) attends to keys lo..pos, lo = max(0, pos - window + 1)
// when window > 0, else 0. The visible keys are cut into n_split equal ranges; one block per
// (head, split, token) writes a partial (running max, sum of exponentials, weighted V sum) and a
// second kernel merges the splits. GQA: q head h reads kv head h / (n_head / n_head_kv).
struct attention_params {
    const float *  q = nullptr;         // [T][n_head * head_dim]
    const __half * k_cache = nullptr;   // this layer: [n_ctx][n_head_kv * head_dim]
    const __half * v_cache = nullptr;
    float *        out = nullptr;       // [T][n_head * head_dim]
    float *        partial = nullptr;   // attention_partial_floats(...) floats
    const int *    pos0 = nullptr;      // device
    int            n_tokens = 0, n_head = 0, n_head_kv = 0, head_dim = 0, window = 0, n_split = 1;
    float          scale = 1.0f;
};
// Largest head_dim the attention and q/k kernels handle (a multiple of 32).
constexpr int max_head_dim = 256;
constexpr size_t attention_partial_floats(int n_tokens, int n_head, int n_split, int head_dim) {
    return static_cast<size_t>(n_tokens) * n_head * n_split * (head_dim + 2);
}
void attention(const attention_params & p, cudaStream_t stream);
// The same result for a prefill ubatch, query-tiled: one block per (attention_query_tile queries,
// q head) streams the keys those queries see through shared memory once (partial and n_split
// unused). Worth it from attention_query_tile tokens on; fewer use attention().
constexpr int attention_query_tile = 16;
void attention_prefill(const attention_params & p, cudaStream_t stream);

// The text of the last CUDA error (and clears it); empty when there was none.
std::string take_last_error();

} // namespace v4::kernels::cuda
