// Gated activations of the FFN: SwiGLU (llama, qwen) and GeGLU with the tanh GELU (gemma3), the
// same formulas as the CPU backend (glu_act.cuh).
#include "cuda/dense_ops.h"
#include "cuda/glu_act.cuh"

namespace v4::kernels::cuda {

namespace {

__global__ void glu_kernel(float * gate, const float * up, int64_t n, int act) {
    const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= n) return;
    gate[i] = glu_activation(gate[i], act) * up[i];
}

} // namespace

void glu(float * gate, const float * up, int64_t n, int act, cudaStream_t stream) {
    constexpr int threads = 256;
    glu_kernel<<<static_cast<unsigned>((n + threads - 1) / threads), threads, 0, stream>>>(gate, up, n, act);
}

} // namespace v4::kernels::cuda
