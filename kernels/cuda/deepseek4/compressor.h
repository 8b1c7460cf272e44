// The DeepSeek-V4 compressor on the GPU: closes windows of `ratio` tokens into compressed entries
// (per-channel softmax(gate + position bias) pooling, CSA's overlap with the previous window, RMSNorm,
// RoPE at the window's first position). Same contract as ref::d4::compress_windows; the kv / gate
// projections of the windows' rows are made by the caller (a GEMM). Device pointers; dim <= 1024.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "reference/deepseek4_ops.h"

namespace v4::kernels::cuda::d4 {

std::string compress_windows(const ref::d4::compress_params & p, const float * kv, const float * gate,
                             const float * prev_kv, const float * prev_gate, int n_windows, int first_entry,
                             float * entries, cudaStream_t stream);

} // namespace v4::kernels::cuda::d4
