// Host-side arithmetic of the CUDA backend, kept free of CUDA so the unit tests check it on any
// machine: how many splits flash-decoding uses, where each activation lives in the device scratch,
// and whether weights + KV cache + scratch fit the device's free memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <vector>

#include "models/model_impl.h"
#include "v4/sampler.h"

namespace v4::detail {

// Splits of the KV range per (head, token) for flash-decoding: enough blocks to give every SM two
// (2 * n_sm >= n_head * n_tokens * splits when possible), never splits of fewer than 32 keys, at
// most 64. Non-decreasing in n_kv, so a bound computed at n_ctx covers every shorter context.
int attention_splits(int n_tokens, int n_head, int n_kv, int n_sm);

// Ubatches of at least this many tokens use the query-tiled prefill attention (one block per
// tile of this many queries and q head); shorter ones, decode included, use flash-decoding with
// splits. Equal to kernels/cuda attention_query_tile (checked where both are visible).
constexpr int cuda_prefill_attention_tile = 16;
bool uses_prefill_attention(int n_tokens);

// Ubatches of at most this many tokens run the GEMV kernels (the fused q/k/v and gate+up GLU
// launches); longer ones the tiled GEMM. Equal to kernels/cuda gemv_max_rows.
constexpr int cuda_gemv_max_rows = 8;

// One vocabulary id whose logit the sampler's bias or penalties change, as the device sampler
// (kernels/cuda sample_adjust, the same layout) applies it: logit += bias; then, when count > 0,
// the repetition penalty (divide a positive logit, multiply a negative one) and
// count * frequency + presence subtracted.
struct sample_adjustment {
    int32_t id = 0;
    float   bias = 0.0f;
    int32_t count = 0; // occurrences in the penalty window; 0 when the penalties are off
};
constexpr size_t cuda_sample_adjust_bytes = sizeof(sample_adjustment);
// The adjustments sampler::sample would make to the logits (logit_bias, then the penalties over the
// last penalty_last_n accepted tokens), one per distinct id inside the vocabulary, in id order.
std::vector<sample_adjustment> sample_adjustments(const sampler & smp, uint32_t n_vocab);

// Byte offsets (256-aligned) of the activations of one ubatch of up to n_batch tokens.
struct cuda_scratch_layout {
    size_t x = 0, cur = 0, q = 0, k = 0, v = 0, attn = 0, o = 0, gate = 0, up = 0;
    size_t logits = 0;   // [n_batch][n_vocab] (every row: prefill with all_logits)
    size_t partial = 0;  // flash-decoding partials, the largest any flash-decoded ubatch size needs at n_ctx
    size_t sample_work = 0;   // f32 [n_vocab]: the logits after bias and penalties (device sampling)
    size_t sample_adjust = 0; // [n_vocab] sample_adjust entries: the ids bias or penalties touch
    size_t sample_result = 0; // {token, status}
    size_t q8 = 0;       // int8 [min(n_batch, gemv rows)][widest GEMV input]: q8_1 activations
    size_t q8_ds = 0;    // float2 per 32 of them: the q8_1 block scales and sums
    size_t tokens = 0;   // int32 [n_batch]
    size_t pos0 = 0;     // int32
    size_t total = 0;
};
cuda_scratch_layout plan_cuda_scratch(const hparams & hp, uint32_t n_batch, uint32_t n_ctx, int n_sm);

// f16 K and V for every layer at n_ctx positions.
uint64_t cuda_kv_bytes(const hparams & hp, uint32_t n_ctx);

struct cuda_memory_plan {
    uint64_t weight_bytes = 0;  // 0 when another session already uploaded them
    uint64_t kv_bytes = 0;
    uint64_t scratch_bytes = 0;
    uint64_t free_bytes = 0;    // cudaMemGetInfo
    uint64_t margin_bytes = 0;  // left for the CUDA context, graphs and other processes
    uint64_t need() const { return weight_bytes + kv_bytes + scratch_bytes; }
    bool     fits() const { return need() + margin_bytes <= free_bytes; }
    // "weights 4.1 GiB + KV cache 1.8 GiB + scratch 0.3 GiB = 6.2 GiB, free 5.0 GiB (keeping 0.5 GiB spare)"
    std::string describe() const;
};
// The margin is 512 MiB or 5% of the free memory, whichever is larger.
cuda_memory_plan plan_cuda_memory(const hparams & hp, uint64_t weight_bytes, uint32_t n_ctx, uint32_t n_batch,
                                  uint64_t free_bytes, int n_sm);

} // namespace v4::detail
