// DeepSeek-V4 MoE on the GPU: routing (hash table or sqrt-softplus top-k with correction bias,
// renormalised, times routed_scale) and the grouped expert GEMVs that read only the selected experts'
// weights, in their stored format (F32, BF16, FP8 E4M3 with 128 x 128 block scales, MXFP4), with the
// clamped SwiGLU; the shared expert is the same call with ids = null. `linear` is the plain GEMV of one
// weight view (the dense projections stored in the same formats). Contracts as ref::d4::route /
// expert_gate_up / expert_down; device pointers (weight_view's data and scales too).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "reference/deepseek4_ops.h"

namespace v4::kernels::cuda::d4 {

constexpr int max_router_experts = 1024;

std::string route(const float * logits, int T, int E, int K, const float * bias, const int64_t * tid2eid,
                  const int32_t * tokens, float routed_scale, int32_t * ids, float * weights, cudaStream_t stream);

std::string expert_gate_up(const ref::d4::weight_view & gate, const ref::d4::weight_view & up, const float * x, int T,
                           const int32_t * ids, int K, int F, float limit, float * h, cudaStream_t stream);

std::string expert_down(const ref::d4::weight_view & down, const float * h, int T, const int32_t * ids,
                        const float * weights, int K, int D, int F, bool accumulate, float * out, cudaStream_t stream);

// y [T, rows] = x [T, w.cols] @ W^T for the view's first expert.
std::string linear(const ref::d4::weight_view & w, const float * x, int T, int rows, float * y, cudaStream_t stream);

} // namespace v4::kernels::cuda::d4
