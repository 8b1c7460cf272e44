// Row-wise helpers of the DeepSeek-V4 forward on the GPU: RMSNorm over rows (weighted or not), the
// interleaved RoPE on the trailing slice of every head of every token, and the embedding lookup that
// starts the n residual streams. Contracts as ref::d4::rms_norm_rows / rope_apply; device pointers.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "reference/deepseek4_ops.h"

namespace v4::kernels::cuda::d4 {

// In place over rows of width d; w may be null.
std::string rms_norm_rows(float * x, int64_t rows, int d, const float * w, float eps, cudaStream_t stream);

// x [T, heads, dim]: head h of token t turned by (pos0 + t) * inv_freq, times sign (-1 undoes it).
std::string rope_rows(float * x, int T, int heads, int dim, const ref::d4::rope_table & rope, int pos0, float sign,
                      cudaStream_t stream);

// X [T, n, D]: every one of the n streams of token t starts as embd[tokens[t]] (ids checked by the caller).
std::string embed_streams(const float * embd, const int32_t * tokens, int T, int n, int D, float * X, cudaStream_t stream);

} // namespace v4::kernels::cuda::d4
