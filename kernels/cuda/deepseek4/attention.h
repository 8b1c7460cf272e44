// DeepSeek-V4 attention core on the GPU: one query head against its sliding window of K=V rows plus
// the compressed entries (CSA: the indexer's selection; HCA: every closed window), a per-head sink
// logit in the softmax denominator, the output's rope slice turned back at the query position; and
// the grouped low-rank output projection. Contracts as ref::d4::sparse_attention / grouped_linear
// (attn_kv's pointers are device pointers); head_dim <= 512.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "reference/deepseek4_ops.h"

namespace v4::kernels::cuda::d4 {

constexpr int max_attn_head_dim = 512;

// Floats of device workspace sparse_attention needs for these queries: the per-split partial results
// of a flash-decoding split (attn_splits), 0 when it runs unsplit (workspace may then be null).
size_t sparse_attention_workspace_floats(const ref::d4::attn_params & p, const ref::d4::attn_kv & kv, int T, int pos0);

std::string sparse_attention(const ref::d4::attn_params & p, const ref::d4::attn_kv & kv, const float * q, int T,
                             int pos0, float * out, float * workspace, cudaStream_t stream);

std::string grouped_linear(const float * x, int T, int G, int in_g, const float * w, int R, float * y,
                           cudaStream_t stream);

} // namespace v4::kernels::cuda::d4
