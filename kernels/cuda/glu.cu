// Gated activations of the FFN: SwiGLU (llama, qwen) and GeGLU with the tanh GELU (gemma3), the
// same formulas as the CPU backend.
#include "cuda/dense_ops.h"

namespace v4::kernels::cuda {

namespace {

__global__ void glu_kernel(float * gate, const float * up, int64_t n, int act) {
    const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float g = gate[i];
    float       a;
    if (act == 0) {
        a = g / (1.0f + expf(-g));
    } else {
        constexpr float k_sqrt_2_over_pi = 0.7978845608028654f;
        a = 0.5f * g * (1.0f + tanhf(k_sqrt_2_over_pi * g * (1.0f + 0.044715f * g * g)));
    }
    gate[i] = a * up[i];
}

} // namespace

void glu(float * gate, const float * up, int64_t n, int act, cudaStream_t stream) {
    constexpr int threads = 256;
    glu_kernel<<<static_cast<unsigned>((n + threads - 1) / threads), threads, 0, stream>>>(gate, up, n, act);
}

} // namespace v4::kernels::cuda
