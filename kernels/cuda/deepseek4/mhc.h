// mHC on the GPU (DeepSeek-V4 manifold-constrained hyper-connections): the collapse of the n residual
// streams into one block input with the per-token mixing weights (RMSNorm of the flat streams, the
// (2 + n) n projection, sigmoids, softmax + Sinkhorn), the expansion back into n streams, and the
// hyper head. Same contracts as kernels/reference/deepseek4_ops.h (hc_collapse / hc_expand / hc_head);
// all pointers are device pointers, n <= 8. Returns "" or the error, naming the argument.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "reference/deepseek4_ops.h"

namespace v4::kernels::cuda::d4 {

constexpr int max_hc_streams = 8;

// Floats of device workspace hc_collapse (head = false) / hc_head (head = true) need for T tokens: the
// partial dot products of the split mixing GEMV.
size_t hc_workspace_floats(const ref::d4::hc_params & p, int T, bool head);

std::string hc_collapse(const ref::d4::hc_params & p, const float * X, int T, const float * fn, const float * base,
                        const float * scale, float * collapsed, float * post, float * comb, float * workspace,
                        cudaStream_t stream);
std::string hc_expand(const ref::d4::hc_params & p, float * X, int T, const float * out, const float * post,
                      const float * comb, cudaStream_t stream);
std::string hc_head(const ref::d4::hc_params & p, const float * X, int T, const float * fn, const float * base,
                    const float * scale, float * h, float * workspace, cudaStream_t stream);

} // namespace v4::kernels::cuda::d4
